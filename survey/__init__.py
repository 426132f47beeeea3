"""Facilities, checklists, audits and scoring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo import signals as geo_signals

if TYPE_CHECKING:  # domain modules in this package import no Flask, even through the package
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register survey pages and commands."""
    from survey import cli
    from survey.audits import views as audit_views
    from survey.facilities import locating
    from survey.facilities import views as facility_views
    from survey.kinds import kind_label

    geo_signals.boundaries_changed.connect(locating.boundaries_changed, weak=False)

    app.register_blueprint(facility_views.bp)
    app.register_blueprint(audit_views.bp)
    cli.register(app)
    app.jinja_env.globals["kind_label"] = kind_label
    app.jinja_env.globals["checklist_title"] = _checklist_title
    from survey.audits import messages

    app.jinja_env.globals.update(problem_messages=messages.PROBLEMS, warning_messages=messages.WARNINGS,
                                 result_labels=messages.RESULTS, answer_labels=messages.ANSWER_LABELS,
                                 source_labels=messages.SOURCES, status_labels=messages.STATUSES,
                                 review_labels=messages.REVIEWS, sync_labels=messages.SYNC_STATES,
                                 conflict_labels=messages.CONFLICTS)


def _checklist_title(key: str) -> str:
    """A checklist version's title in the reader's language (lists name what was audited, not "KTR")."""
    from flask import g
    from flask_babel import get_locale

    from app.extensions import db
    from survey.audits.queries import checklist_titles

    known = g.setdefault("checklist_titles", {})  # one look-up per checklist version and request
    if key not in known:
        known.update(checklist_titles(db.session, [key]))
    title = known.get(key)
    return title.get(str(get_locale() or "")) if title else key.split("@")[0].upper()
