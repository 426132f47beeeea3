"""Merging checklists, regions and accounts: a checklist version never changes; a region or an
account is its latest change by (hlc, origin). Never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.auth.models import User, user_kecamatan
from app.db import utcnow
from app.node import Device, self_device
from geo.models import Wilayah
from survey.audits.models import ChecklistVersion
from survey.catalog.models import ChecklistRelease
from sync import documents
from sync.changes import Change
from sync.conflict_rows import record_conflict
from sync.models import SyncChange


def apply_checklists(session: Session, changes: list[Change]) -> set:
    """Store the checklist versions not held; another text under a held key is a recorded conflict. A version's
    catalog state (published, retired) is its latest by (hlc, origin), taken only from the nodes above this one."""
    done = set()
    for change in sorted(changes, key=lambda c: (c.hlc, c.key)):
        doc = change.payload
        stored = session.get(ChecklistVersion, change.entity_id)
        if stored is None:
            stored = ChecklistVersion(key=doc["key"], checklist_id=doc["checklist_id"], version=doc["version"],
                                      sha256=doc["sha256"], content=doc["content"])
            session.add(stored)
            session.flush()
        elif stored.sha256 != doc["sha256"]:
            record_conflict(session, "checklist", change.entity_id, f"{stored.sha256[:48]}|{doc['sha256'][:48]}",  # detail_key: 120 characters
                            {"kept_sha256": stored.sha256, "other_sha256": doc["sha256"], "other_origin": change.origin_id})
            done.add(change.key)
            continue  # a state is about the text it came with, which is not the one held here
        if doc.get("release") and _from_above(session, change):
            _apply_release(session, change, doc["release"]["state"])
        done.add(change.key)
    return done


def _from_above(session: Session, change: Change) -> bool:
    """Whether a change comes from a node above this one: the devices and hubs beneath it are rows of `device`.

    Hubs decide which versions devices use; a device's push never publishes or retires one (sync.trust lets a
    field device send checklist texts, which it must, for the audits filled with them).
    """
    return session.get(Device, uuid.UUID(change.origin_id)) is None


def _apply_release(session: Session, change: Change, state: str) -> None:
    """Keep the state whose change is the latest by (hlc, origin); a draft of this node's own is never overwritten."""
    doc = change.payload
    release = session.get(ChecklistRelease, doc["key"])
    if release is None:
        release = ChecklistRelease(key=doc["key"], checklist_id=doc["checklist_id"], version=doc["version"], notes=[])
        session.add(release)
    elif release.content is not None and release.state == "draft":
        return
    elif release.hlc is not None and (release.hlc, str(release.origin_id)) >= (change.hlc, change.origin_id):
        return
    release.state, release.hlc, release.origin_id = state, change.hlc, uuid.UUID(change.origin_id)
    if state == "published" and release.published_at is None:
        release.published_at = utcnow()
    if state == "retired":
        release.retired_at = release.retired_at or utcnow()
    session.flush()


def _newer(session: Session, kind: str, change: Change) -> bool:
    """True when no applied change about this record is newer by (hlc, origin)."""
    stmt = select(SyncChange.hlc, SyncChange.origin_id).where(
        SyncChange.kind == kind, SyncChange.entity_id == change.entity_id, SyncChange.applied.is_(True))
    return all((change.hlc, change.origin_id) >= (h, str(o)) for h, o in session.execute(stmt))


def apply_wilayah(session: Session, changes: list[Change]) -> set:
    """Regions, parents first; a region whose parent has not arrived waits."""
    done = set()
    for change in sorted(changes, key=lambda c: (len(c.entity_id), c.hlc, c.key)):  # parents first
        doc = change.payload
        if doc.get("parent_code") and session.get(Wilayah, doc["parent_code"]) is None:
            continue
        if _newer(session, "wilayah", change):
            region = session.get(Wilayah, doc["code"]) or Wilayah(code=doc["code"])
            region.level, region.name, region.kind = doc["level"], doc["name"], doc.get("kind")
            region.parent_code, region.bps_code = doc.get("parent_code"), doc.get("bps_code")
            region.boundary = documents.boundary_bytes(doc.get("boundary"))
            region.boundary_note = doc.get("boundary_note")
            session.add(region)
            session.flush()
        done.add(change.key)
    return done


def apply_users(session: Session, changes: list[Change]) -> set:
    """Accounts and their kecamatan; another account under a held username is a recorded conflict."""
    done = set()
    me = self_device(session)
    scope = set(me.scope or []) if me is not None else set()
    for change in sorted(changes, key=lambda c: (c.hlc, c.key)):
        doc = change.payload
        held = set(session.execute(select(Wilayah.code).where(Wilayah.code.in_(doc.get("kecamatan") or []))).scalars())
        # Wait for the regions this node will receive; a kecamatan outside its scope never comes (an auditor of
        # two kecamatan on a device of one): the account is kept here with the kecamatan held here.
        if {c for c in doc.get("kecamatan") or [] if not scope or c in scope} - held:
            continue
        codes = sorted(held)
        user_id = uuid.UUID(doc["id"])
        clash = session.execute(select(User).where(User.username == doc["username"], User.id != user_id)).scalar_one_or_none()
        if clash is not None:
            record_conflict(session, "user", doc["id"], f"username:{doc['username']}",
                            {"username": doc["username"], "kept_id": str(clash.id), "other_id": doc["id"]})
            done.add(change.key)
            continue
        if _newer(session, "user", change):
            user = session.get(User, user_id) or User(id=user_id)
            user.username, user.full_name, user.role = doc["username"], doc.get("full_name") or "", doc["role"]
            user.password_hash, user.active, user.is_demo = doc["password_hash"], doc["active"], doc.get("is_demo", False)
            session.add(user)
            session.flush()
            session.execute(delete(user_kecamatan).where(user_kecamatan.c.user_id == user_id))
            if codes:
                session.execute(insert(user_kecamatan), [{"user_id": user_id, "kecamatan_code": c} for c in sorted(set(codes))])
            session.expire(user)
        done.add(change.key)
    return done
