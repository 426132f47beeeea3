"""Facilities, checklists, audits and scoring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo import signals as geo_signals

if TYPE_CHECKING:  # domain modules in this package import no Flask, even through the package
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register survey pages, commands and template helpers; locate facilities again when boundaries change."""
    from survey import cards, cli, templating
    from survey.audits import views as audit_views
    from survey.catalog import views as catalog_views
    from survey.facilities import locating
    from survey.facilities import views as facility_views

    geo_signals.boundaries_changed.connect(locating.boundaries_changed, weak=False)
    app.register_blueprint(facility_views.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(catalog_views.bp)
    cli.register(app)
    templating.init_app(app)
    cards.init_app(app)
