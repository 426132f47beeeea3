"""Turn the settings registry into Flask configuration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from app import settings
from app.db import configure_sqlite


def configure(app: Flask, overrides: dict[str, Any]) -> None:
    """Resolve settings, derive Flask's own keys, and make the data folder."""
    values = settings.load(app.instance_path, overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    data_dir = Path(values["DATA_DIR"] or app.instance_path)
    data_dir.mkdir(parents=True, exist_ok=True)
    values["DATA_DIR"] = str(data_dir)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{data_dir / 'pantau.db'}"
    values["SECRET_KEY"] = settings.ensure_secret_key(values, app.instance_path)
    secure = values["SECURE_COOKIES"]
    if secure is None:
        secure = values["ROLE"] == "hub"
    app.config.update(values)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=values["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(values["DATABASE_URL"]),
        MAX_CONTENT_LENGTH=int(values["MAX_UPLOAD_MB"]) * 1024 * 1024,
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="pantau_session",
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # Bounded, but long: an auditor keeps a checklist open all day (CSRF_TIME_LIMIT_HOURS).
        WTF_CSRF_TIME_LIMIT=int(values["CSRF_TIME_LIMIT_HOURS"]) * 3600,
        BABEL_DEFAULT_LOCALE=values["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE=values["TIMEZONE"],
        BABEL_TRANSLATION_DIRECTORIES=str(Path(app.root_path).parent / "translations"),
    )
    if values["DATABASE_URL"].startswith("sqlite"):
        configure_sqlite(values["SQLITE_BUSY_TIMEOUT_MS"], values["SQLITE_CACHE_MB"])


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}
