"""Bahasa Indonesia first, English second: locale choice and Indonesian date and number formats."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

from app.extensions import babel

LOCALES = {"id": "Bahasa Indonesia", "en": "English"}


def select_locale() -> str:
    """The signed-in user's choice, else this browser's choice, else the configured default."""
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return current_app.config["DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    """Bind Flask-Babel and give templates the formatting helpers."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt) if value else "–"
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": format_datetime(value, fmt) if value else "–"
    # Coordinates keep the decimal point in every language: a comma would merge "lat, lon".
    app.jinja_env.filters["coord"] = lambda value: f"{value:.6f}" if value is not None else "–"
    app.jinja_env.filters["number"] = lambda value, fmt=None: format_decimal(value, fmt) if value is not None else "–"

    @app.context_processor
    def _locale_context():
        return {"current_locale": str(get_locale() or app.config["DEFAULT_LOCALE"]), "locales": LOCALES,
                "current_path": request.full_path.rstrip("?")}
