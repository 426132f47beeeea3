"""The region library: the wilayah hierarchy, boundaries, locating points, simplifying, tiles, codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # domain modules in this package import no Flask, even through the package
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the `flask geo` commands (the pages that draw regions are in maps)."""
    from geo import cli

    cli.register(app)
