"""Sync between field devices and hubs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # domain modules in this package import no Flask, even through the package
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register sync pages and commands."""
    from sync import api, cli, views

    app.register_blueprint(views.bp)
    api.init_app(app)
    cli.register_cli(app)
