"""Facilities, checklists, audits and scoring."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # domain modules in this package import no Flask, even through the package
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register survey pages and commands."""
    from survey.facilities import views as facility_views
    from survey.kinds import kind_label

    app.register_blueprint(facility_views.bp)
    app.jinja_env.globals["kind_label"] = kind_label
