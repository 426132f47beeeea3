"""What survey adds to every template: kind labels, checklist titles and the audit messages."""

from __future__ import annotations

from flask import Flask, g
from flask_babel import get_locale

from app.extensions import db
from survey.audits import messages
from survey.audits.queries import checklist_titles
from survey.form import item_of, split_address
from survey.kinds import kind_label


def init_app(app: Flask) -> None:
    """Add survey's template globals."""
    app.jinja_env.globals["kind_label"] = kind_label
    app.jinja_env.globals["checklist_title"] = checklist_title
    app.jinja_env.globals["item_at"] = item_at
    app.jinja_env.globals["instance_text"] = instance_text
    app.jinja_env.globals.update(problem_messages=messages.PROBLEMS, warning_messages=messages.WARNINGS,
                                 result_labels=messages.RESULTS, answer_labels=messages.ANSWER_LABELS,
                                 source_labels=messages.SOURCES, status_labels=messages.STATUSES,
                                 review_labels=messages.REVIEWS, sync_labels=messages.SYNC_STATES,
                                 conflict_labels=messages.CONFLICTS)


def checklist_title(key: str) -> str:
    """A checklist version's title in the reader's language (lists name what was audited, not "KTR")."""
    known = g.setdefault("checklist_titles", {})  # one look-up per checklist version and request
    if key not in known:
        known.update(checklist_titles(db.session, [key]))
    title = known.get(key)
    return title.get(str(get_locale() or "")) if title else key.split("@")[0].upper()


def item_at(checklist, address: str):
    """The item an answer's address names (`alat[2]/kondisi` -> kondisi)."""
    return checklist.item(item_of(address))


def instance_text(checklist, address: str) -> str:
    """Which repeat entries an address sits in, as people read it: "Alat bermain 2 · Bagian 1"; '' outside repeats."""
    steps, _ = split_address(address)
    locale = str(get_locale() or "")
    parts = []
    for repeat_id, number in steps:
        label = checklist.container(repeat_id).label if checklist.has_container(repeat_id) else None
        parts.append(f"{label.get(locale) if label else repeat_id} {number}")
    return " · ".join(parts)
