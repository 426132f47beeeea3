"""Regions and boundaries: the wilayah hierarchy, locating points, maps."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register geo pages and commands."""
    from geo import views

    app.register_blueprint(views.bp)
