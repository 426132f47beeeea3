"""What sync adds to templates of the packages beneath it, which know nothing of sync."""

from __future__ import annotations

from flask import Flask

from app.extensions import db
from sync import publish, queries


def init_app(app: Flask) -> None:
    """Add sync's template globals."""
    app.jinja_env.globals["device_enrolled"] = device_enrolled
    app.jinja_env.globals["audit_sync_state"] = audit_sync_state
    app.jinja_env.globals["checklist_holders"] = checklist_holders


def device_enrolled() -> bool:
    """The sign-in page of a new device says whether it is enrolled with a hub yet."""
    return queries.is_enrolled(db.session)


def audit_sync_state(audit) -> str:
    """Where an audit stands in sync (waiting, sent, received, approved, returned...), for the audit page."""
    return queries.audit_sync_states(db.session, [audit])[audit.id]


def checklist_holders() -> dict[str, list[str]]:
    """Which devices hold which published checklist versions, for the catalog pages (survey.catalog)."""
    return publish.release_holders(db.session)
