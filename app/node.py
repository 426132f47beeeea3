"""This installation and the others it knows: the device table.

Every record names the device that made it (the audit log, audits, facilities), so the installation's
identity is the kernel's; enrolling devices and syncing with them (the token, key and scope columns) is sync's.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Uuid, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UTCDateTime, new_id, utcnow


class Device(Base):
    """A field device or hub. `is_self` marks this installation; on a hub, enrolled devices are rows too."""

    __tablename__ = "device"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(10))
    is_self: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Enrollment (on a hub): a one-time code, then a token (both stored hashed) and an HMAC key.
    enroll_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    enroll_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    device_key: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[list[str]] = mapped_column(JSON, default=list)  # kecamatan codes it receives
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)  # its local_seq we have applied up to
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The origin tree (docs/sync.md): None for this node and the devices and hubs registered here; for a
    # node first seen in changes relayed by a lower hub, that hub. A lower hub speaks only for its subtree.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("device.id"), index=True)
    # A field device whose own sequence went back below what we acknowledged (its app data cleared, its
    # storage evicted): when it was first seen, the number it reported and what we had acknowledged then.
    # Never cleared by sync itself: a supervisor must see it (sync.service.note_sequence).
    restart_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restart_seq: Mapped[int | None] = mapped_column(BigInteger)
    restart_acked_seq: Mapped[int | None] = mapped_column(BigInteger)


def self_device(session: Session) -> Device | None:
    """The row describing this installation."""
    return session.execute(select(Device).where(Device.is_self.is_(True))).scalar_one_or_none()


def self_device_id(session: Session) -> uuid.UUID | None:
    """This installation's device id, recorded with every change it makes.

    Read once per session (a request, a CLI command): enrolling can re-key it (sync.service.adopt_identity),
    possibly in another process, so a process never keeps it for longer.
    """
    if "self_device_id" not in session.info:
        found = session.execute(select(Device.id).where(Device.is_self.is_(True))).scalar_one_or_none()
        if found is None:
            return None
        session.info["self_device_id"] = found
    return session.info["self_device_id"]


def forget_self_id(session: Session) -> None:
    """This installation took the id its hub minted (sync.service.adopt_identity): read it again."""
    session.info.pop("self_device_id", None)
