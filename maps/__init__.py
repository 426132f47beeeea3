"""Facility maps and exports: region pages, the map with markers and coverage, the table, downloads, `flask export`.

Above survey (they show facilities and audits) and indicators (their choropleths reuse geo.layers); geo
below holds the regions, boundaries, basemap tiles and the map's plain data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the map pages, the basemap tiles and the export commands."""
    from maps import cli, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.tiles_bp)
    cli.register(app)
