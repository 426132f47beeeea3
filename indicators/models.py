"""Indicator storage: the sets used, their points, each year's set, computed and entered values, evidence files."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, new_id, utcnow

BASES = ("facilities", "entered", "rollup")


class IndicatorSetVersion(Base):
    """The exact text of an indicator set file as first used; a changed set is a new file with a new id."""

    __tablename__ = "indicator_set"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # "kla-2022"
    applies_from: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndicatorPoints(Base):
    """The points an indicator of a set is worth: the file's default until an admin edits it (audit-logged)."""

    __tablename__ = "indicator_points"
    __table_args__ = (CheckConstraint("points BETWEEN 0 AND 1000", name="points_range"),)

    set_id: Mapped[str] = mapped_column(ForeignKey("indicator_set.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class IndicatorYear(Base):
    """The set a year's values are computed with; it stays when a newer set is shipped."""

    __tablename__ = "indicator_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("indicator_set.id"))
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IndicatorValue(Base):
    """One indicator's value in one kecamatan or kabupaten/kota and year, with what it was computed from."""

    __tablename__ = "indicator_value"
    __table_args__ = (CheckConstraint(f"basis IN {BASES!r}", name="basis"),)

    set_id: Mapped[str] = mapped_column(ForeignKey("indicator_set.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    wilayah_code: Mapped[str] = mapped_column(ForeignKey("wilayah.code"), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    basis: Mapped[str] = mapped_column(String(12))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndicatorCoverage(Base):
    """How many of a kecamatan's confirmed facilities have an audit that counts in a year (kept with the values)."""

    __tablename__ = "indicator_coverage"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    wilayah_code: Mapped[str] = mapped_column(ForeignKey("wilayah.code"), primary_key=True)
    audited: Mapped[int] = mapped_column(Integer)
    facilities: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndicatorEntry(Base):
    """A value a planner entered for one region and year, with a note and evidence files."""

    __tablename__ = "indicator_entry"
    __table_args__ = (UniqueConstraint("set_id", "year", "number", "wilayah_code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    set_id: Mapped[str] = mapped_column(ForeignKey("indicator_set.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    wilayah_code: Mapped[str] = mapped_column(ForeignKey("wilayah.code"), index=True)
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("user_account.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    evidence: Mapped[list["EntryEvidence"]] = relationship(order_by="EntryEvidence.added_at", cascade="all, delete-orphan")


class EvidenceFile(Base):
    """An evidence file, content-addressed by the SHA-256 of its bytes (indicators.evidence)."""

    __tablename__ = "evidence_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(80))
    extension: Mapped[str] = mapped_column(String(8))
    size_bytes: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EntryEvidence(Base):
    """An evidence file attached to an entered value, under the name it was uploaded with."""

    __tablename__ = "indicator_entry_evidence"

    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("indicator_entry.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("evidence_file.sha256"), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    file: Mapped[EvidenceFile] = relationship()
