"""Regions and boundaries: the wilayah hierarchy, locating points, maps."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # domain modules in this package import no Flask, even through the package
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register geo pages and commands."""
    from geo import cli, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.tiles_bp)
    cli.register(app)
