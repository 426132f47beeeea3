"""Audits: one checklist filled for one facility, with answers, photos and GPS readings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, new_id, utcnow

AUDIT_STATUSES = ("draft", "submitted")
POSITION_SOURCES = ("gps", "manual", "map")


class ChecklistVersion(Base):
    """The exact text of a checklist version an audit was filled with; it never changes once stored."""

    __tablename__ = "checklist_version"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # "rbra@1"
    checklist_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Audit(Base):
    """A checklist filled for a facility. Submitted audits are read-only; a correction is a new revision."""

    __tablename__ = "audit"
    __table_args__ = (
        CheckConstraint(f"status IN {AUDIT_STATUSES!r}", name="status"),
        CheckConstraint(f"position_source IS NULL OR position_source IN {POSITION_SOURCES!r}", name="position_source"),
        Index("ix_audit_facility_status", "facility_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    facility_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("facility.id"), index=True)
    checklist_key: Mapped[str] = mapped_column(ForeignKey("checklist_version.key"))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The audit this one corrects (ODK Central's model): history is rows, never overwritten.
    revision_of: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("audit.id"), index=True)
    auditor_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("user_account.id"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("device.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float)
    result: Mapped[str | None] = mapped_column(String(20))
    # The position the audit is recorded at: the latest reading (all readings stay in gps_reading).
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    position_source: Mapped[str | None] = mapped_column(String(10))
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    position_warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The hub's latest decision (sync.reviews): approved, returned or rejected; None while waiting.
    review_status: Mapped[str | None] = mapped_column(String(12))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The change this submitted audit came from ("origin:seq") and its content hash (sync rule 2).
    sync_source: Mapped[str | None] = mapped_column(String(60))
    sync_sha256: Mapped[str | None] = mapped_column(String(64))

    facility = relationship("Facility")
    checklist_version: Mapped[ChecklistVersion] = relationship()
    auditor = relationship("User")

    @property
    def checklist_id(self) -> str:
        return self.checklist_key.split("@")[0]

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"


class Answer(Base):
    """One item's answer in an audit, with the auditor's note. Saved the moment it is given."""

    __tablename__ = "answer"

    audit_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("audit.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(255), primary_key=True)  # an address: alat[2]/kondisi
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Bumped by every change of the value: a save names the version it was based on, so a second tab's
    # stale save is refused instead of silently overwriting (0: never answered on this device).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Photo(Base):
    """A stored photo, content-addressed by the SHA-256 of its original bytes."""

    __tablename__ = "photo"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(30))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnswerPhoto(Base):
    """A photo attached as evidence to one item of an audit (a photo item's answer is its photos)."""

    __tablename__ = "answer_photo"

    audit_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("audit.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(255), primary_key=True)  # an address: alat[2]/kondisi
    sha256: Mapped[str] = mapped_column(ForeignKey("photo.sha256"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    photo: Mapped[Photo] = relationship()


class GpsReading(Base):
    """Every position taken during an audit, kept: device GPS, typed coordinates or a tap on the map."""

    __tablename__ = "gps_reading"
    __table_args__ = (CheckConstraint(f"source IN {POSITION_SOURCES!r}", name="source"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    audit_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("audit.id", ondelete="CASCADE"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(10))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
