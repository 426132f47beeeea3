"""Sync between field devices and hubs."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register sync pages and commands."""
    from sync import views

    app.register_blueprint(views.bp)
