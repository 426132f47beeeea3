"""Queries about devices."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import Device


def self_device(session: Session) -> Device | None:
    """The row describing this installation."""
    return session.execute(select(Device).where(Device.is_self.is_(True))).scalar_one_or_none()


def self_device_id(session: Session) -> uuid.UUID | None:
    """This installation's device id, recorded with every change it makes."""
    return session.execute(select(Device.id).where(Device.is_self.is_(True))).scalar_one_or_none()


def list_devices(session: Session) -> list[Device]:
    """Every device known here, this one first."""
    stmt = select(Device).order_by(Device.is_self.desc(), Device.name)
    return list(session.execute(stmt).scalars())
