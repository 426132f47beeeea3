"""Facilities, checklists, audits and scoring."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # domain modules in this package import no Flask, even through the package
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register survey pages and commands."""
    from survey import cli
    from survey.audits import views as audit_views
    from survey.facilities import views as facility_views
    from survey.kinds import kind_label

    app.register_blueprint(facility_views.bp)
    app.register_blueprint(audit_views.bp)
    cli.register(app)
    app.jinja_env.globals["kind_label"] = kind_label
    from survey.audits import messages

    app.jinja_env.globals.update(problem_messages=messages.PROBLEMS, warning_messages=messages.WARNINGS,
                                 result_labels=messages.RESULTS, answer_labels=messages.ANSWER_LABELS,
                                 source_labels=messages.SOURCES, status_labels=messages.STATUSES,
                                 review_labels=messages.REVIEWS, sync_labels=messages.SYNC_STATES,
                                 conflict_labels=messages.CONFLICTS)
