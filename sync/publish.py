"""What the rest of the app calls when it changes a synced record: the change enters the log.

Called inside the caller's transaction, so the record and its change commit together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import exists, func, insert, or_, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from app.node import Device, self_device, self_device_id
from geo.models import Wilayah
from survey import registry
from survey.audits.models import Audit, ChecklistVersion
from survey.catalog.models import TRAVELLING_STATES, ChecklistRelease
from survey.facilities.models import Facility
from sync import documents, outbox, wire
from sync.changes import content_hash
from sync.models import AuditReview, FacilityEdit, SyncChange, SyncState


def audit_submitted(session: Session, audit: Audit) -> None:
    """A submitted audit travels whole and never changes again."""
    doc = documents.audit_document(session, audit)
    change = outbox.emit(session, "audit", str(audit.id), doc, audit.facility.kecamatan_code)
    audit.sync_source, audit.sync_sha256 = outbox.change_key(change), change.sha256


def checklist_used(session: Session, version: ChecklistVersion) -> None:
    """The text of a checklist version travels before the audits filled with it (from a hub, with its catalog state)."""
    release = session.get(ChecklistRelease, version.key) if _role(session) == "hub" else None
    _emit_checklist(session, version, release)


def checklist_released(session: Session, release: ChecklistRelease) -> None:
    """A hub published or retired a catalog version: its text and state go to every device."""
    version = session.get(ChecklistVersion, release.key)
    if version is not None and _role(session) == "hub":
        _emit_checklist(session, version, release)


def _emit_checklist(session: Session, version: ChecklistVersion, release: ChecklistRelease | None) -> None:
    """Publish a version's text, and its state when it travels; the state keeps the change's (hlc, origin)."""
    state = release.state if release is not None and release.state in TRAVELLING_STATES else None
    row = outbox.emit_if_changed(session, "checklist", version.key, documents.checklist_document(version, state), None)
    if row is not None and state is not None:
        release.hlc, release.origin_id = row.hlc, row.origin_id


def facility_changed(session: Session, facility: Facility, fields: list[str]) -> None:
    """Field edits of a facility, each on the value it was made on (its base), as one change."""
    if not fields:
        return
    values = documents.facility_values(facility)
    base = _current_hlcs(session, facility.id, fields)
    change_hlc = outbox.now_hlc(session)
    payload = {"facility_id": str(facility.id), "fields": {f: values[f] for f in fields},
               "base": {f: base[f] for f in fields if base.get(f)}}
    row = outbox.emit(session, "facility", str(facility.id), payload, facility.kecamatan_code, hlc=change_hlc)
    for name in fields:
        session.add(FacilityEdit(facility_id=facility.id, field=name, value=values[name], hlc=change_hlc,
                                 device_id=row.origin_id, base_hlc=base.get(name), change_seq=row.local_seq))


def user_changed(session: Session, user: User, demo: bool = False) -> None:
    """Accounts travel so auditors can sign in offline and audits name a known auditor."""
    if (user.is_demo and not demo) or _role(session) != "hub":
        return  # demo accounts leave only a hub in demo mode; accounts are made on hubs and travel down
    outbox.emit_if_changed(session, "user", str(user.id), documents.user_document(user), None)


def wilayah_changed(session: Session, region: Wilayah) -> None:
    """Regions and boundaries are published by hubs only."""
    outbox.emit_if_changed(session, "wilayah", region.code, documents.wilayah_document(region),
                           documents.wilayah_scope(region))


def review_decided(session: Session, review: AuditReview, kecamatan_code: str, audit_device: str | None) -> None:
    """A hub's decision travels down to the device that made the audit (and up the chain)."""
    doc = {"id": str(review.id), "audit_id": str(review.audit_id), "decision": review.decision,
           "comment": review.comment, "reviewer": review.reviewer, "decided_at": wire.iso(review.decided_at),
           "device_id": audit_device}
    outbox.emit(session, "review", str(review.audit_id), doc, kecamatan_code, hlc=review.hlc)


CAUGHT_UP = "published_at"  # sync_state: when catch_up last looked at every table
RECHECK = timedelta(minutes=10)  # rows written this long before the last look are looked at again
BACKLOG_CHUNK = 1000  # facilities published per statement batch


def catch_up(session: Session, *, demo: bool = False, checklists: Iterable = (), everything: bool = False) -> dict[str, int]:
    """On a hub: put into the log whatever reached the database without entering it (the demo seed, data
    from before sync, rows made by the CLI, boundary and checklist imports), so a device never pulls an
    empty hub. Idempotent; when nothing is new it costs a few indexed queries (docs/sync.md, "Publishing").

    `demo`: this hub runs in demo mode, so its demo accounts travel too. `checklists`: the installed
    checklist versions (survey.registry), each stored and published once. `everything`: look at every
    row again, not only the unpublished and the recently written (`flask sync publish`).
    """
    counts = {"wilayah": 0, "user": 0, "checklist": 0, "facility": 0}
    if _role(session) != "hub":
        return counts  # devices make their records through the write paths, which publish them
    started = utcnow()
    # Locked: two pulls at once on PostgreSQL (two workers) take turns, the second seeing what the first
    # published; on a hub's first pulls the mark is made once, not by both.
    mark = outbox.locked_state(session, CAUGHT_UP, "")
    since = None if everything or not mark.value else wire.parse_time(mark.value) - RECHECK
    counts["wilayah"] = _catch_up_regions(session, since)
    counts["user"] = _catch_up_users(session, demo)
    counts["checklist"] = _catch_up_checklists(session, checklists)
    counts["facility"] = _catch_up_facilities(session, since)
    mark.value = started.isoformat()
    return counts


def publish_state(session: Session, demo: bool = False, checklists: Iterable = ()) -> dict[str, int]:
    """Look at every row and publish what differs from the log (`flask sync publish`)."""
    return catch_up(session, demo=demo, checklists=checklists, everything=True)


def _catch_up_regions(session: Session, since) -> int:
    """Regions never published, and those written since the last look (a boundary import updates them)."""
    stmt = select(Wilayah)
    if since is not None:
        published = exists().where(SyncChange.kind == "wilayah", SyncChange.entity_id == Wilayah.code)
        stmt = stmt.where(or_(~published, Wilayah.updated_at >= since))
    # Parents first; emit_if_changed skips a region whose last published state is its current one.
    stmt = stmt.order_by(func.length(Wilayah.code), Wilayah.code)
    return sum(_emitted(session, wilayah_changed, region) for region in session.execute(stmt).scalars())


def _catch_up_users(session: Session, demo: bool) -> int:
    """Accounts whose current state is not the last one published (accounts are few: all are compared)."""
    last: dict[str, dict] = {}
    for entity, payload in session.execute(select(SyncChange.entity_id, SyncChange.payload)
                                           .where(SyncChange.kind == "user", SyncChange.applied.is_(True))
                                           .order_by(SyncChange.hlc)):
        last[entity] = payload
    stmt = select(User) if demo else select(User).where(User.is_demo.is_(False))
    count = 0
    for user in session.execute(stmt.order_by(User.username)).scalars():
        before = last.get(str(user.id))
        if before is None or content_hash(before) != content_hash(documents.user_document(user)):
            count += _emitted(session, user_changed, user, demo)
    if not demo:  # a hub out of demo mode withdraws the demo accounts (password "demo") it once sent down
        for user in session.execute(select(User).where(User.is_demo.is_(True)).order_by(User.username)).scalars():
            before = last.get(str(user.id))
            if before is not None and before.get("active"):
                withdrawn = {**documents.user_document(user), "active": False}
                outbox.emit_if_changed(session, "user", str(user.id), withdrawn, None)
                count += 1
    return count


def _catch_up_checklists(session: Session, checklists: Iterable) -> int:
    """Installed versions not yet stored (imported on this hub) are stored; stored ones never published are, and
    catalog states (published, retired) not yet in the log."""
    stored = set(session.execute(select(ChecklistVersion.key)).scalars())
    count = 0
    for checklist in checklists:
        if checklist.key not in stored:
            registry.store_version(session, checklist)
            stored.add(checklist.key)
            count += 1
    published = exists().where(SyncChange.kind == "checklist", SyncChange.entity_id == ChecklistVersion.key)
    for version in session.execute(select(ChecklistVersion).where(~published)).scalars():
        count += _emitted(session, checklist_used, version)
    # Catalog states whose last published change does not carry them (few rows: all are compared).
    for release in session.execute(select(ChecklistRelease).where(ChecklistRelease.state.in_(TRAVELLING_STATES))
                                   .order_by(ChecklistRelease.key)).scalars():
        count += _emitted(session, checklist_released, release)
    return count


def _catch_up_facilities(session: Session, since) -> int:
    """Facilities with no edit in the log (made by the demo seed, by a script or before sync) get one with
    every field; after the first look only those created since the last look are looked at (a scan, not
    10 000 look-ups).

    Later edits go through survey.facilities.service, which publishes them as it writes them; a facility's
    row is not compared with its edits here, as a held-back NPSN claim (docs/sync.md, rule 3) differs on purpose.
    """
    edited = exists().where(FacilityEdit.facility_id == Facility.id)
    stmt = select(Facility).where(~edited).order_by(Facility.created_at, Facility.id).limit(BACKLOG_CHUNK)
    if since is not None:
        stmt = stmt.where(Facility.created_at >= since)
    count, origin = 0, self_device_id(session)
    while facilities := session.execute(stmt).scalars().all():
        # In bulk: one facility at a time costs ~15 statements, two minutes for a 10 000-facility hub.
        values = [documents.facility_values(f) for f in facilities]
        written = outbox.emit_many(session, [("facility", str(f.id), {"facility_id": str(f.id), "fields": v, "base": {}},
                                              f.kecamatan_code) for f, v in zip(facilities, values)])
        session.execute(insert(FacilityEdit.__table__), [
            {"facility_id": f.id, "field": name, "value": v[name], "hlc": stamp, "device_id": origin, "base_hlc": None,
             "change_seq": local_seq}
            for f, v, (local_seq, stamp) in zip(facilities, values, written) for name in documents.FACILITY_FIELDS])
        count += len(facilities)
    return count


def _emitted(session: Session, publish_one, *args) -> int:
    """1 when publishing this record added a change to the log."""
    before = _count(session)
    publish_one(session, *args)
    return 1 if _count(session) > before else 0


def _current_hlcs(session: Session, facility_id: uuid.UUID, fields: list[str]) -> dict[str, str]:
    stmt = (select(FacilityEdit.field, func.max(FacilityEdit.hlc)).where(FacilityEdit.facility_id == facility_id,
                                                                         FacilityEdit.field.in_(fields))
            .group_by(FacilityEdit.field))
    return dict(session.execute(stmt).all())


def _count(session: Session) -> int:
    """The newest position in the log (the primary key: no scan)."""
    return session.execute(select(func.max(SyncChange.local_seq))).scalar_one() or 0


def _role(session: Session) -> str:
    me = self_device(session)
    return me.role if me else "field"


# --- what devices hold ------------------------------------------------------------------------------------

PULLED = "pulled:"  # sync_state: "pulled:<device id>" -> the position of this hub's log a device has applied


def note_pulled(session: Session, device_id: uuid.UUID, cursor: int) -> None:
    """A device asked for the changes after `cursor`: it holds every change up to there (its acknowledged pull)."""
    row = outbox.locked_state(session, f"{PULLED}{device_id}", str(cursor))  # two pulls at once: made once
    if int(row.value) < cursor:
        row.value = str(cursor)


PACKAGED = "packaged:"  # sync_state: "packaged:<device id>" -> the checklist keys of the field package it last took


def note_packaged(session: Session, device_id: uuid.UUID, keys: list[str]) -> None:
    """A field-app tablet took (or already held, 304) the package with these checklist versions: it holds them."""
    value = ",".join(sorted(keys))
    row = outbox.locked_state(session, f"{PACKAGED}{device_id}", value)
    if row.value != value:
        row.value = value


def release_holders(session: Session) -> dict[str, list[str]]:
    """Per published or retired catalog version, the names of the devices registered here that hold it: those
    whose acknowledged pull reached the first change that carried its release (checklists go to every device),
    and the field-app tablets whose last package held it (they take checklists in the package, never by pull)."""
    first = dict(session.execute(
        select(SyncChange.entity_id, func.min(SyncChange.local_seq))
        .where(SyncChange.kind == "checklist", SyncChange.applied.is_(True),
               SyncChange.payload["release"]["state"].as_string().is_not(None))
        .group_by(SyncChange.entity_id)).all())
    if not first:
        return {}
    states = dict(session.execute(select(SyncState.key, SyncState.value).where(
        or_(SyncState.key.startswith(PULLED), SyncState.key.startswith(PACKAGED)))).all())
    pulled = {key.removeprefix(PULLED): int(value) for key, value in states.items() if key.startswith(PULLED)}
    packaged = {key.removeprefix(PACKAGED): set(value.split(",")) for key, value in states.items()
                if key.startswith(PACKAGED)}
    devices = session.execute(select(Device.id, Device.name).where(
        Device.is_self.is_(False), Device.revoked_at.is_(None), Device.parent_id.is_(None),
        Device.token_hash.is_not(None)).order_by(Device.name)).all()
    return {key: [name for device_id, name in devices
                  if pulled.get(str(device_id), 0) >= seq or key in packaged.get(str(device_id), ())]
            for key, seq in first.items()}
