"""Queries of the core pages: the audit log, accounts per role, the database's liveness."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.auditlog import AuditLogEntry
from app.auth.models import User


def latest_changes(session: Session, limit: int = 200) -> list:
    """The newest audit log entries with the username of who made each (None for a change made by no account)."""
    stmt = (select(AuditLogEntry, User.username).outerjoin(User, User.id == AuditLogEntry.user_id)
            .order_by(AuditLogEntry.at.desc()).limit(limit))
    return list(session.execute(stmt).all())


def accounts_by_role(session: Session) -> dict[str, int]:
    """How many accounts each role has (a role without any is absent)."""
    return dict(session.execute(select(User.role, func.count()).group_by(User.role)).all())


def database_answers(session: Session) -> None:
    """Ask the database the smallest question; it raises when the database cannot answer."""
    session.execute(text("SELECT 1"))
