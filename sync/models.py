"""Sync state: peers, the change log, field edits, reviews and conflicts (devices: app.node)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, new_id, utcnow


class SyncPeer(Base):
    """On a device (or a lower hub): the hub it syncs with, its credentials and how far we got."""

    __tablename__ = "sync_peer"

    hub_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    url: Mapped[str] = mapped_column(String(300), default="")
    token: Mapped[str] = mapped_column(String(100))
    device_key: Mapped[str] = mapped_column(String(64))
    pushed_seq: Mapped[int] = mapped_column(BigInteger, default=0)  # our local_seq the hub acknowledged
    pull_cursor: Mapped[int] = mapped_column(BigInteger, default=0)  # the hub's local_seq we applied
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))


class SyncChange(Base):
    """One change, as made by its origin; every node keeps the changes it holds in its own order."""

    __tablename__ = "sync_change"
    __table_args__ = (
        UniqueConstraint("origin_id", "origin_seq", name="uq_sync_change_origin"),
        Index("ix_sync_change_pending", "applied", "origin_id", "origin_seq"),
        Index("ix_sync_change_entity", "kind", "entity_id"),
        Index("ix_sync_change_waiting", "via_id", "applied"),
        # A local_seq is a pull cursor's position: never reused (SQLite would reuse the largest once deleted),
        # and a restored node moves it past every cursor (app.backup).
        {"sqlite_autoincrement": True},
    )

    local_seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    origin_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    origin_seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(80))
    hlc: Mapped[str] = mapped_column(String(24))
    sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    scope: Mapped[str | None] = mapped_column(String(16), index=True)  # kecamatan code, or None = everyone
    via_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the peer that delivered it (None = made here)
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FacilityEdit(Base):
    """One edit of one facility field; the current value is the edit with the largest (hlc, device)."""

    __tablename__ = "facility_edit"
    __table_args__ = (Index("ix_facility_edit_field", "facility_id", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    facility_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    field: Mapped[str] = mapped_column(String(32))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    hlc: Mapped[str] = mapped_column(String(24))
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    base_hlc: Mapped[str | None] = mapped_column(String(24))  # the value's HLC the editor saw
    change_seq: Mapped[int | None] = mapped_column(Integer)  # local_seq of the change that carried it


class AuditReview(Base):
    """A hub's decision on a submitted audit. The latest by HLC is the audit's review state."""

    __tablename__ = "audit_review"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    audit_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    decision: Mapped[str] = mapped_column(String(12))
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(40))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hlc: Mapped[str] = mapped_column(String(24))
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class SyncConflict(Base):
    """Two versions that cannot both stand; kept until a supervisor resolves it."""

    __tablename__ = "sync_conflict"
    __table_args__ = (UniqueConstraint("kind", "entity_id", "detail_key", name="uq_sync_conflict_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(80))
    detail_key: Mapped[str] = mapped_column(String(120))  # what makes this conflict distinct (idempotent)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(40))
    resolution: Mapped[str | None] = mapped_column(String(300))


class SyncState(Base):
    """Small per-node values: the HLC, the next origin sequence."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # "hlc", "origin_seq", "bundle:<sha256>"
    value: Mapped[str] = mapped_column(String(100))
