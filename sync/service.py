"""Device identity. Never commits."""

from __future__ import annotations

import socket

from sqlalchemy.orm import Session

from sync.models import Device
from sync.queries import self_device


def ensure_self_device(session: Session, role: str) -> Device:
    """Make this installation's device row on first start; keep it (and its id) forever after."""
    device = self_device(session)
    if device is None:
        device = Device(name=socket.gethostname()[:80] or role, role=role, is_self=True)
        session.add(device)
        session.flush()
    return device
