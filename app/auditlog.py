"""The audit log: who changed what, when, from which device. Every write goes through `record`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UTCDateTime, new_id, utcnow


class AuditLogEntry(Base):
    """One change: the actor, the device, the record and the fields that changed (old, new)."""

    __tablename__ = "audit_log"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("user_account.id"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("device.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(session: Session, *, action: str, entity: str, entity_id, changes: dict | None = None,
           user_id=None, device_id=None) -> AuditLogEntry:
    """Add an entry to the caller's transaction; it commits or rolls back with the change it records."""
    entry = AuditLogEntry(action=action, entity=entity, entity_id=str(entity_id),
                          changes=_jsonable(changes or {}), user_id=user_id, device_id=device_id)
    session.add(entry)
    return entry


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """Fields whose value changed, as {field: [old, new]}."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
