"""Queries about devices."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import Device


def self_device(session: Session) -> Device | None:
    """The row describing this installation."""
    return session.execute(select(Device).where(Device.is_self.is_(True))).scalar_one_or_none()


_self_ids: dict[str, uuid.UUID] = {}


def self_device_id(session: Session) -> uuid.UUID | None:
    """This installation's device id, recorded with every change it makes (it never changes: cached)."""
    url = str(session.get_bind().url)
    if url not in _self_ids:
        found = session.execute(select(Device.id).where(Device.is_self.is_(True))).scalar_one_or_none()
        if found is None:
            return None
        _self_ids[url] = found
    return _self_ids[url]


def list_devices(session: Session) -> list[Device]:
    """Every device known here, this one first."""
    stmt = select(Device).order_by(Device.is_self.desc(), Device.name)
    return list(session.execute(stmt).scalars())
