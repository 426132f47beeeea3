"""The release state of checklist versions: drafts imported on a hub, published for every device, or retired."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow

RELEASE_STATES = ("draft", "published", "retired")
TRAVELLING_STATES = ("published", "retired")  # a draft stays on the hub that imported it


class ChecklistRelease(Base):
    """One checklist version in the catalog and its state.

    On the hub that imported it, a draft holds its text here until it is published (the text then also lives
    in checklist_version, where audits find it). Devices receive only published and retired versions, each
    state with the HLC of the change that set it, so the latest state wins wherever the changes arrive from.
    """

    __tablename__ = "checklist_release"
    __table_args__ = (CheckConstraint(f"state IN {RELEASE_STATES!r}", name="state"),)

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # "audit_taman@2"
    checklist_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    version_label: Mapped[str | None] = mapped_column(String(80))  # the author's text (XLSForm `version`)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the canonical text, for drafts
    content: Mapped[str | None] = mapped_column(Text)  # a draft's canonical YAML (None for received versions)
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # the import report's warnings
    source_name: Mapped[str | None] = mapped_column(String(200))  # the uploaded workbook's file name
    imported_by: Mapped[str | None] = mapped_column(String(40))
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The change that set the state (sync): (hlc, origin) orders states from different nodes.
    hlc: Mapped[str | None] = mapped_column(String(24))
    origin_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
