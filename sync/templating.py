"""What sync adds to templates of the packages beneath it, which know nothing of sync."""

from __future__ import annotations

from flask import Flask

from app.extensions import db
from sync import queries


def init_app(app: Flask) -> None:
    """Add sync's template globals."""
    app.jinja_env.globals["device_enrolled"] = device_enrolled
    app.jinja_env.globals["audit_sync_state"] = audit_sync_state


def device_enrolled() -> bool:
    """The sign-in page of a new device says whether it is enrolled with a hub yet."""
    return queries.is_enrolled(db.session)


def audit_sync_state(audit) -> str:
    """Where an audit stands in sync (waiting, sent, received, approved, returned...), for the audit page."""
    return queries.audit_sync_states(db.session, [audit])[audit.id]
