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


def pending_counts(session: Session) -> dict[str, int]:
    """On a device: audits by sync state, for the sync panel."""
    from survey.audits.models import Audit

    counts = dict.fromkeys(("draft", "waiting", "sent", "received", "approved", "returned", "rejected"), 0)
    audits = session.execute(select(Audit)).scalars().all()
    for state in audit_sync_states(session, audits).values():
        counts[state] += 1
    return counts


def sync_state(audit, change_seq: int | None, pushed_seq: int, on_hub: bool = False) -> str:
    """draft, waiting (not yet at the hub), sent, or the hub's decision; on a hub, received (to review)."""
    if audit.status == "draft":
        return "draft"
    if audit.review_status:
        return audit.review_status
    if on_hub:
        return "received"
    if change_seq is not None and change_seq <= pushed_seq:
        return "sent"
    return "waiting"


def audit_sync_states(session: Session, audits) -> dict:
    """Sync state per audit id, for lists."""
    from sync.models import SyncChange, SyncPeer

    peer = session.execute(select(SyncPeer)).scalars().first()
    pushed = peer.pushed_seq if peer else 0
    ids = [str(a.id) for a in audits if a.status == "submitted"]
    seqs = dict(session.execute(select(SyncChange.entity_id, SyncChange.local_seq).where(
        SyncChange.kind == "audit", SyncChange.entity_id.in_(ids))).all()) if ids else {}
    me = self_device(session)
    on_hub = me is not None and me.role == "hub"
    return {a.id: sync_state(a, seqs.get(str(a.id)), pushed, on_hub) for a in audits}


def sent_by_device(session: Session) -> dict[uuid.UUID, dict[str, int]]:
    """On a hub: per device, the audits it sent and how many of them wait for a decision."""
    from sqlalchemy import case, func

    from survey.audits.models import Audit

    stmt = (select(Audit.device_id, func.count(), func.sum(case((Audit.review_status.is_(None), 1), else_=0)))
            .where(Audit.status == "submitted", Audit.device_id.is_not(None)).group_by(Audit.device_id))
    return {device: {"audits": total, "to_review": int(waiting or 0)} for device, total, waiting in session.execute(stmt)}


def device_is_new(session: Session, role: str, demo: bool = False) -> bool:
    """A field device with no hub and no account anyone can sign in with: only enrolling it makes sense.
    (Demo accounts sign in only in demo mode.)"""
    from app.auth.models import User
    from sync.models import SyncPeer

    if role != "field" or session.execute(select(SyncPeer.hub_id).limit(1)).first() is not None:
        return False
    accounts = select(User.id) if demo else select(User.id).where(User.is_demo.is_(False))
    return session.execute(accounts.limit(1)).first() is None
