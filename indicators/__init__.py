"""The 24 KLA indicators: the set as data, values computed from approved audits, planner pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # domain modules in this package import no Flask, even through the package
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the planner pages and the commands; follow sync's review announcements."""
    from indicators import cli, hooks, messages, views

    app.register_blueprint(views.bp)
    cli.register(app)
    hooks.connect()
    app.jinja_env.globals.update(indicator_groups=messages.GROUPS, indicator_sources=messages.SOURCE_STATUSES,
                                 indicator_obtained=messages.OBTAINED, indicator_units=messages.UNITS,
                                 indicator_bases=messages.BASES, predicate_names=messages.BANDS)
