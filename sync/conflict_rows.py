"""The conflicts the merge finds, recorded once each, and change keys as the merge writes them. Never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import SyncConflict


def record_conflict(session: Session, kind: str, entity_id: str, detail_key: str, detail: dict,
                    refresh: bool = False) -> None:
    """Store a conflict once: the same versions arriving again add nothing. With `refresh`, an open
    conflict's detail is brought up to date (a third concurrent edit joins the list)."""
    existing = session.execute(select(SyncConflict).where(
        SyncConflict.kind == kind, SyncConflict.entity_id == entity_id, SyncConflict.detail_key == detail_key)).scalar_one_or_none()
    if existing is None:
        session.add(SyncConflict(kind=kind, entity_id=entity_id, detail_key=detail_key, detail=detail))
        session.flush()
    elif refresh and existing.resolved_at is None and existing.detail != detail:
        existing.detail = detail


def key_text(key: tuple) -> str:
    """"origin:seq" of a change key."""
    return f"{key[0]}:{key[1]}"


def key_of(text: str) -> tuple:
    """The change key (origin, seq) of "origin:seq"."""
    origin, seq = text.rsplit(":", 1)
    return (origin, int(seq))
