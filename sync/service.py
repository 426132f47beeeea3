"""Sync on a node: enrollment, pushing and pulling batches, bundles, photos. Never commits.

Each function that receives a batch applies it whole (sync.apply.receive) together with the
acknowledgement or cursor it advances, and announces what it applied (sync.signals); the caller
commits once.
"""

from __future__ import annotations

import gc
import hashlib
import re
import secrets
import socket
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from app import auditlog, faults
from app.auth.scope import NAMED_AUDITORS
from app.db import Base, utcnow
from app.node import Device, forget_self_id, self_device, self_device_id
from survey import registry
from survey.audits.models import AnswerPhoto, Audit, Photo
from survey.photos import PhotoStore, inspect_photo
from sync import apply, bundle, hlc, outbox, publish, queries, signals, trust
from sync.changes import Change, parse_entry
from sync.models import SyncChange, SyncPeer, SyncState
from sync.problems import SYNC_PROBLEMS, SyncError

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: typed from a screen
CODE_TTL = timedelta(hours=24)
PAGE = 500
CHUNK_IN = 500


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """The code as typed, without dashes, spaces or case."""
    return re.sub(r"[^A-Z0-9]", "", (code or "").upper())


# --- enrollment (hub side) ---------------------------------------------------------------------


ROLES = ("field", "hub")


def register_device(session: Session, name: str, scope: list[str], role: str = "field") -> tuple[Device, str]:
    """A supervisor registers a device: a pending row and a one-time code to type on it.

    The row's id is the id the device will have: the hub mints it here, never the device.
    """
    name = (name or "").strip()
    if not 2 <= len(name) <= 80:
        raise SYNC_PROBLEMS("device.bad_name")
    if role not in ROLES:
        raise SYNC_PROBLEMS("device.bad_role")
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    device = Device(name=name, role=role, scope=sorted(set(scope)), enroll_code_hash=_hash(raw),
                    enroll_expires_at=utcnow() + CODE_TTL)
    session.add(device)
    session.flush()
    return device, f"{raw[:4]}-{raw[4:]}"


def enroll(session: Session, code: str, name: str | None = None) -> dict:
    """Spend a one-time code: the registration row becomes the enrolled device, with a token (stored
    hashed) and an HMAC key. Its id, role and scope are the registration's; nothing the device says
    about itself is used (`name` is only what it calls itself, and the supervisor's name stays)."""
    digest = _hash(normalise_code(code))
    now = utcnow()
    open_code = (Device.enroll_code_hash == digest, Device.token_hash.is_(None), Device.revoked_at.is_(None),
                 Device.is_self.is_(False), Device.enroll_expires_at >= now)
    pending = session.execute(select(Device.id).where(*open_code)).scalar_one_or_none() if normalise_code(code) else None
    if pending is None:
        raise _bad_code()
    token, key = secrets.token_urlsafe(32), secrets.token_hex(32)
    # One conditional UPDATE spends the code: of two requests racing with it, the second finds no row
    # (PostgreSQL re-reads the row after the first commits; SQLite runs writers one at a time).
    spent = session.execute(update(Device).where(Device.id == pending, *open_code).values(
        token_hash=_hash(token), device_key=key, enrolled_at=now, enroll_code_hash=None, enroll_expires_at=None)
        .execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise _bad_code()
    device = session.get(Device, pending)
    session.refresh(device)
    hub = self_device(session)
    return {"device_id": str(device.id), "token": token, "device_key": key, "hub_id": str(hub.id),
            "hub_name": hub.name, "scope": list(device.scope or []), "role": device.role}


def _bad_code() -> SyncError:
    return SYNC_PROBLEMS("sync.bad_code")


def authenticate(session: Session, token: str) -> Device:
    """The device presenting this token; refused when unknown or revoked."""
    device = session.execute(select(Device).where(Device.token_hash == _hash(token or ""))).scalar_one_or_none() if token else None
    if device is None:
        raise SYNC_PROBLEMS("sync.unauthorized")
    if device.revoked_at is not None:
        raise SYNC_PROBLEMS("sync.revoked_device")
    device.last_seen_at = utcnow()
    return device


def note_sequence(device: Device, seq: int) -> bool:
    """Record that a field device's own sequence went back below what we acknowledged; True when it has.

    Its app data was cleared or its storage evicted: the changes we hold are safe, what it had not sent is
    lost, and its new changes will reuse numbers we already hold. Nothing is refused for it. The first
    sighting stays until a supervisor has seen it: sync never clears it.
    """
    if device.role == "field" and seq < device.acked_seq and device.restart_seen_at is None:
        device.restart_seen_at, device.restart_seq, device.restart_acked_seq = utcnow(), seq, device.acked_seq
    return device.restart_seen_at is not None


def restart_seen(session: Session, device: Device, user_id=None) -> None:
    """A supervisor has seen a device's restart warning (and dealt with what it lost): clear it, in the audit log."""
    if device.restart_seen_at is None:
        return
    auditlog.record(session, action="restart_seen", entity="device", entity_id=device.id, user_id=user_id,
                    changes={"restart_seq": [device.restart_seq, None],
                             "restart_acked_seq": [device.restart_acked_seq, None]})
    device.restart_seen_at = device.restart_seq = device.restart_acked_seq = None


def revoke(session: Session, device: Device) -> None:
    """Stop a lost or retired device from syncing."""
    # The token hash stays, so the device is told it was revoked rather than that it is unknown.
    device.revoked_at = utcnow()


# --- receiving and sending batches ---------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """What a receiver tells the sender after a batch."""

    acked_seq: int
    applied: int
    duplicates: int
    waiting: int
    conflicts: int


FIELD_KINDS = trust.FIELD_KINDS


def apply_batch(session: Session, changes: list[Change], via_id: uuid.UUID | None, has_photo, before_merge=lambda: None,
                vet=None, max_waiting: int | None = None) -> apply.ReceiveResult:
    """Merge a batch (sync.apply.receive, same arguments) and announce what it applied, in its transaction."""
    result = apply.receive(session, changes, via_id, has_photo, before_merge, vet=vet, max_waiting=max_waiting)
    if result.changes_applied:
        signals.changes_applied.send(None, session=session, changes=result.changes_applied, node=this_node())
    return result


def this_node() -> signals.Node:
    """The settings sync's receivers need, from the configuration of the app this request or command runs in."""
    from flask import current_app  # here, not at the top: the rest of this module runs without an app

    return signals.Node.from_config(current_app.config)


def receive_push(session: Session, sender: Device, after: int, up_to: int, entries: list[tuple[int, Change]],
                 store: PhotoStore, photos: dict[str, bytes] | None = None, max_photo_bytes: int = 0) -> Ack:
    """Apply a sender's batch (and the photos that came with it) and advance what we acknowledge, in one transaction."""
    if after > sender.acked_seq:
        raise SYNC_PROBLEMS("sync.gap", seq=sender.acked_seq)
    if sender.role != "hub":  # cheap, before anything is read: the kinds a field device never sends
        refused = sorted({c.kind for _, c in entries} - FIELD_KINDS)
        if refused:
            raise SYNC_PROBLEMS("sync.not_allowed", kinds=", ".join(refused))
    photos = photos or {}
    for sha, body in photos.items():  # every photo must be a real image matching its name, before anything is kept
        inspect_photo(body, max_photo_bytes, expected_sha256=sha)

    written: list[str] = []

    def store_photos() -> None:
        for sha, body in photos.items():
            if not store.exists(sha):
                written.append(sha)
            store_photo(session, store, sha, body, max_photo_bytes)
            faults.point("photo stored")

    def vet(new: list[Change]) -> list[Change]:
        return vet_from_below(session, sender, new)

    try:
        result = apply_batch(session, [c for _, c in entries], sender.id,
                             lambda sha: sha in photos or has_photo(session, store, sha), store_photos, vet=vet,
                             max_waiting=trust.MAX_WAITING)
    except SyncError:
        for sha in written:  # refused after the photos were kept (too many waiting): their rows roll back, so must they
            _forget_photo(store, sha)
        raise
    sender.acked_seq = max(sender.acked_seq, up_to)
    return Ack(sender.acked_seq, result.applied, result.duplicates, result.waiting, result.conflicts)


def vet_from_below(session: Session, sender: Device, new: list[Change]) -> list[Change]:
    """sync.trust's rules for a batch from a device or lower hub registered here; the origins first seen
    through a lower hub are recorded beneath it (trust on first use)."""
    facts = queries.trust_facts(session, new, self_device_id(session), hlc.wall_ms())
    verdict = trust.vet(new, trust.Sender(str(sender.id), sender.role, frozenset(sender.scope or [])), facts)
    for origin in verdict.new_origins:
        session.add(Device(id=uuid.UUID(origin), name=f"{sender.name[:60]} / {origin[:8]}", role="field",
                           parent_id=sender.id))
    session.flush()
    return verdict.changes


def vet_from_above(session: Session, hub_id: uuid.UUID, new: list[Change],
                   own_lost: tuple[int, int] | None = None) -> list[Change]:
    """sync.trust's rules for a page from the hub we enrolled with: no change in our name (except, after a
    restore, our own numbers in `own_lost`), no clock far ahead."""
    facts = queries.trust_facts(session, new, self_device_id(session), hlc.wall_ms())
    facts.own_lost = own_lost
    return trust.vet(new, trust.Sender(str(hub_id), "upper"), facts).changes


def catch_up(session: Session) -> dict[str, int]:
    """Before a hub serves its log (a pull, a return bundle, an upward push or bundle): publish what was
    written without entering it (sync.publish.catch_up), with this node's demo mode and checklists."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return {}
    return publish.catch_up(session, demo=bool(current_app.config.get("DEMO")), checklists=registry.installed().values())


def outgoing(session: Session, peer_id: uuid.UUID, after: int, limit: int = PAGE) -> tuple[list[tuple[int, Change]], int]:
    """Changes to push to a peer after position `after` (not those it sent us), and the position scanned up to."""
    catch_up(session)
    rows = session.execute(select(SyncChange).where(SyncChange.local_seq > after, SyncChange.applied.is_(True))
                           .order_by(SyncChange.local_seq).limit(limit)).scalars().all()
    me = self_device(session)
    upward = me is not None and me.role == "hub"
    scope = set(me.scope or []) if me is not None else set()
    picked = [(row.local_seq, _change(row)) for row in rows
              if row.via_id != peer_id and (not upward or _upper_hub_takes(row, scope))]
    return picked, (rows[-1].local_seq if rows else after)


def _upper_hub_takes(row: SyncChange, scope: set) -> bool:
    """What a lower hub hands up (sync.trust's rules for it): accounts of auditors and supervisors of its
    kecamatan, regions of its kecamatan and those they lie in, everything else. The rest stays here: the
    upper hub would refuse the whole batch for one admin account or one region outside its scope."""
    if row.kind == "user":
        codes = set(row.payload.get("kecamatan") or [])
        return row.payload.get("role") in NAMED_AUDITORS and bool(codes) and codes <= scope
    if row.kind == "wilayah":
        return row.scope in scope if row.scope else any(code.startswith(f"{row.entity_id}.") for code in scope)
    return True


def changes_for(session: Session, device: Device, cursor: int, limit: int = PAGE) -> tuple[list[tuple[int, Change]], int, bool]:
    """A page of this hub's changes in a device's scope after `cursor`; the next cursor; whether more wait."""
    catch_up(session)
    publish.note_pulled(session, device.id, cursor)  # asking after `cursor` acknowledges it (the catalog's holders)
    scope = set(device.scope or [])
    # Positions first (cheap), payloads only for the changes that may go to this device.
    positions = session.execute(
        select(SyncChange.local_seq, SyncChange.origin_id, SyncChange.via_id, SyncChange.kind, SyncChange.scope)
        .where(SyncChange.local_seq > cursor, SyncChange.applied.is_(True), SyncChange.origin_id != device.id,
               or_(SyncChange.via_id.is_(None), SyncChange.via_id != device.id))
        .order_by(SyncChange.local_seq).limit(limit)).all()
    wanted = [p.local_seq for p in positions if p.origin_id != device.id and p.via_id != device.id
              and (p.kind in ("checklist", "user", "review") or p.scope is None or p.scope in scope)
              and (p.kind != "audit" or device.role == "hub")]
    rows = []
    for chunk in range(0, len(wanted), CHUNK_IN):
        rows += session.execute(select(SyncChange).where(SyncChange.local_seq.in_(wanted[chunk:chunk + CHUNK_IN]))
                                .order_by(SyncChange.local_seq)).scalars().all()
    picked = [(row.local_seq, _change(row)) for row in rows if _in_scope(row, device, scope)]
    next_cursor = positions[-1].local_seq if positions else cursor
    return picked, next_cursor, len(positions) == limit


def own_changes(session: Session, device: Device, after: int, limit: int = PAGE) -> tuple[list[tuple[int, Change]], bool]:
    """A restored device's own changes that we hold, after its own sequence `after`, in its order; whether more wait.

    What a device lost in a restore from an older backup (its audits made and sent after the backup): it asks
    them back once (sync.run.recover). Only its own: they are what it would have held, had it not been lost.
    """
    rows = session.execute(select(SyncChange).where(SyncChange.origin_id == device.id, SyncChange.origin_seq > after)
                           .order_by(SyncChange.origin_seq).limit(limit)).scalars().all()
    return [(row.local_seq, _change(row)) for row in rows], len(rows) == limit


def own_photo(session: Session, device: Device, sha256: str) -> bool:
    """Whether a photo is evidence in one of the device's own audits (which it may fetch back after a restore)."""
    return session.execute(select(AnswerPhoto.sha256).join(Audit, Audit.id == AnswerPhoto.audit_id).where(
        AnswerPhoto.sha256 == sha256, Audit.sync_source.like(f"{device.id}:%")).limit(1)).first() is not None


def _in_scope(row: SyncChange, device: Device, scope: set) -> bool:
    if row.origin_id == device.id or row.via_id == device.id:
        return False  # never echo a device's own changes back
    if row.kind == "checklist":
        return True
    if row.kind == "wilayah":
        return row.scope is None or row.scope in scope
    if row.kind == "user":
        return bool(scope & set(row.payload.get("kecamatan") or [])) or device.role == "hub"
    if row.kind == "facility":
        return row.scope in scope
    if row.kind == "review":
        return row.scope in scope and (device.role == "hub" or row.payload.get("device_id") == str(device.id))
    return device.role == "hub" and row.scope in scope  # audits go down only to lower hubs


def _change(row: SyncChange) -> Change:
    return Change(origin_id=str(row.origin_id), origin_seq=row.origin_seq, kind=row.kind, entity_id=row.entity_id,
                  hlc=row.hlc, payload=row.payload, scope=row.scope)


def parse_entries(raw: list, where: str) -> list[tuple[int, Change]]:
    """Entries from a request body, each checked."""
    if not isinstance(raw, list):
        raise SYNC_PROBLEMS("sync.bad_change", where=where)
    return [parse_entry(item, f"{where}[{index}]") for index, item in enumerate(raw)]


# --- photos ----------------------------------------------------------------------------------------


def has_photo(session: Session, store: PhotoStore, sha256: str) -> bool:
    """The photo's row and file are both here."""
    try:
        return session.get(Photo, sha256) is not None and store.exists(sha256)
    except ValueError:
        return False


def store_photo(session: Session, store: PhotoStore, sha256: str, data: bytes, max_bytes: int) -> bool:
    """Keep a photo sent by a peer, checked against its hash; True when it was new."""
    return record_photo(session, store.save_any(data, max_bytes, expected_sha256=sha256))  # a photo, or a recording


def record_photo(session: Session, info) -> bool:
    """The row of a photo whose files `PhotoStore.save_any` has written; True when it was new."""
    if session.get(Photo, info.sha256) is not None:
        return False
    session.add(Photo(sha256=info.sha256, mime=info.mime, size_bytes=info.size_bytes, width=info.width,
                      height=info.height, taken_at=info.taken_at_aware(_camera_zone()), gps_lat=info.gps_lat, gps_lon=info.gps_lon))
    session.flush()
    return True


def _forget_photo(store: PhotoStore, sha256: str) -> None:
    """Remove the files of a photo this refused batch stored (the original and its display copies)."""
    for variant in ("original", "display", "thumb"):
        try:
            store.path(sha256, variant).unlink()
        except (FileNotFoundError, ValueError):
            pass


def photos_of(entries: list[tuple[int, Change]]) -> set[str]:
    """Hashes of every photo the audits in these entries refer to."""
    return {sha for _, c in entries if c.kind == "audit" for shas in (c.payload.get("photos") or {}).values() for sha in shas}


def _camera_zone():
    """The zone a camera's EXIF time without offset is read in: the installation's, as on the device that took it.

    Never UTC: EXIF times are the camera's local clock, so reading them as UTC put a 10:00 WIB photo at 17:00.
    """
    from zoneinfo import ZoneInfo

    from flask import current_app  # here, not at the top: the rest of this module runs without an app

    return ZoneInfo(current_app.config["TIMEZONE"])


# --- peers (device side) -----------------------------------------------------------------------------


def peer(session: Session) -> SyncPeer | None:
    """The hub this node syncs with (one per node)."""
    return session.execute(select(SyncPeer)).scalars().first()


def save_enrollment(session: Session, url: str, answer: dict) -> SyncPeer:
    """Keep the hub's answer to our enrollment, taking the id the hub minted for this node."""
    hub_id = uuid.UUID(answer["hub_id"])
    adopt_identity(session, uuid.UUID(answer["device_id"]))
    me = self_device(session)
    me.scope = sorted(str(code) for code in answer.get("scope") or [])
    existing = peer(session)
    if existing is not None and existing.hub_id != hub_id:
        session.delete(existing)
        session.flush()
        existing = None
    row = existing or SyncPeer(hub_id=hub_id)
    row.url, row.token, row.device_key = url.rstrip("/"), answer["token"], answer["device_key"]
    session.add(row)
    session.flush()
    return row


EXPORTED = "exported_seq"  # sync_state: the last of our changes written into a bundle


def identity_spent(session: Session) -> bool:
    """True once a change of this node reached a hub (acknowledged, or exported in a bundle): its id is then
    known elsewhere, and taking another would make those changes someone else's."""
    acknowledged = session.execute(select(SyncPeer.hub_id).where(SyncPeer.pushed_seq > 0).limit(1)).first()
    return acknowledged is not None or session.get(SyncState, EXPORTED) is not None


def check_may_enroll(session: Session) -> None:
    """Refuse, before a code is spent, an enrollment this node could not complete."""
    if identity_spent(session):
        raise SYNC_PROBLEMS("sync.identity_spent")


# Every column that records a device's id, as (table, column); this node's own id is re-keyed in each.
DEVICE_COLUMNS = (("audit", "device_id"), ("audit_log", "device_id"), ("facility", "origin_device_id"),
                  ("facility_edit", "device_id"), ("audit_review", "device_id"), ("sync_change", "origin_id"),
                  ("sync_change", "via_id"), ("device", "parent_id"))


def adopt_identity(session: Session, new_id: uuid.UUID) -> None:
    """Become `new_id`, the id the hub minted: this node's device row and everything that names it, at once.

    Allowed only while no change of ours has reached a hub (identity_spent): until then our id is
    known nowhere else. Runs in the caller's transaction, so a failure leaves the old identity whole.
    """
    me = self_device(session)
    if me.id == new_id:
        return
    check_may_enroll(session)
    if session.get(Device, new_id) is not None:
        raise SYNC_PROBLEMS("sync.identity_spent/id_taken")
    old_id = me.id
    me.is_self = False
    session.flush()
    session.add(Device(id=new_id, name=me.name, role=me.role, is_self=True, created_at=me.created_at,
                       last_seen_at=me.last_seen_at, scope=list(me.scope or [])))
    session.flush()
    for table, column in DEVICE_COLUMNS:
        target = Base.metadata.tables[table]
        session.execute(update(target).where(target.c[column] == old_id).values({column: new_id}))
    _rekey_payloads(session, old_id, new_id)
    session.execute(delete(Device).where(Device.id == old_id))
    session.expunge(me)
    forget_self_id(session)


def _rekey_payloads(session: Session, old_id: uuid.UUID, new_id: uuid.UUID) -> None:
    """Our own changes name us inside too (an audit's device_id): rewrite them and their content hashes,
    and the audits that point at their change."""
    for row in session.execute(select(SyncChange).where(SyncChange.origin_id == new_id)).scalars():
        payload = dict(row.payload)
        if payload.get("device_id") == str(old_id):
            payload["device_id"] = str(new_id)
        change = Change(origin_id=str(new_id), origin_seq=row.origin_seq, kind=row.kind, entity_id=row.entity_id,
                        hlc=row.hlc, payload=payload, scope=row.scope)
        row.payload, row.sha256 = payload, change.sha256
        if row.kind == "audit":
            session.execute(update(Audit).where(Audit.sync_source == f"{old_id}:{row.origin_seq}").values(
                sync_source=f"{new_id}:{row.origin_seq}", sync_sha256=change.sha256))
    session.flush()


def receive_pull(session: Session, hub: SyncPeer, entries: list[tuple[int, Change]], next_cursor: int,
                 store: PhotoStore) -> apply.ReceiveResult:
    """Apply a page from the hub and move the cursor, in one transaction."""
    result = apply_batch(session, [c for _, c in entries], hub.hub_id, lambda sha: has_photo(session, store, sha),
                         vet=lambda new: vet_from_above(session, hub.hub_id, new), max_waiting=None)
    hub.pull_cursor = max(hub.pull_cursor, next_cursor)
    hub.last_sync_at = utcnow()
    return result


def lost_window(session: Session) -> tuple[int, int] | None:
    """The own numbers a restore may have lost that this node has not yet asked back (sync.outbox.skip_ahead)."""
    row = session.get(SyncState, outbox.LOST_KEY)
    return outbox.lost_window(row.value) if row is not None else None


def lost_recovered(session: Session, up_to: int | None) -> None:
    """Everything lost up to own number `up_to` is back (None: all of it)."""
    row = session.get(SyncState, outbox.LOST_KEY)
    window = outbox.lost_window(row.value) if row is not None else None
    if up_to is None or window is None:
        session.execute(delete(SyncState).where(SyncState.key == outbox.LOST_KEY))
    else:
        row.value = f"{max(window[0], up_to)}:{window[1]}"


def receive_own(session: Session, hub: SyncPeer, entries: list[tuple[int, Change]], lost: tuple[int, int],
                store: PhotoStore) -> apply.ReceiveResult:
    """Apply our own changes the hub gave back after a restore (sync.run.recover), in one transaction.

    Only numbers of the lost window are taken (sync.trust), and they stay the hub's to know: they are recorded
    as received through it, so they are never pushed back to it.
    """
    me = str(self_device_id(session))
    if any(change.origin_id != me for _, change in entries):
        raise SYNC_PROBLEMS("sync.bad_answer")
    return apply_batch(session, [c for _, c in entries if lost[0] < c.origin_seq < lost[1]], hub.hub_id,
                       lambda sha: has_photo(session, store, sha),
                       vet=lambda new: vet_from_above(session, hub.hub_id, new, own_lost=lost), max_waiting=None)


# --- bundles -------------------------------------------------------------------------------------------


def export_bundle(session: Session, out: Path, store: PhotoStore) -> dict:
    """Write everything not yet acknowledged by the hub, with its photos, as one signed bundle."""
    hub = _require_peer(session)
    entries, up_to = outgoing(session, hub.hub_id, hub.pushed_seq, limit=10 ** 9)
    photos = {sha: (store.path(sha).suffix.lstrip("."), store.open_bytes(sha)) for sha in sorted(photos_of(entries))}
    me = self_device_id(session)
    if any(change.origin_id == str(me) for _, change in entries) and session.get(SyncState, EXPORTED) is None:
        session.add(SyncState(key=EXPORTED, value=str(up_to)))  # our id has left this machine (identity_spent)
    return bundle.write(out, device_id=str(self_device_id(session)), hub_id=str(hub.hub_id), direction="push",
                        key=hub.device_key, entries=entries, photos=photos, cursor=hub.pull_cursor,
                        created_at=utcnow().isoformat(), extra={"after": hub.pushed_seq, "up_to": up_to})


@contextmanager
def cycles_left_alone():
    """The cyclic garbage collector paused while a bundle is read and merged: the hundreds of thousands of
    answers it parses hold no cycles, and each collection would walk all of them again (a tenth of an import).
    Everything they hold is freed by reference counting as usual; the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_push_bundle(session: Session, data: bytes, store: PhotoStore, max_photo_bytes: int,
                       return_path: Path) -> tuple[Ack, dict]:
    """On a hub: check and apply a device's bundle; write the return bundle with what it should get."""
    with cycles_left_alone():
        return _import_push_bundle(session, data, store, max_photo_bytes, return_path)


def _import_push_bundle(session: Session, data: bytes, store: PhotoStore, max_photo_bytes: int,
                        return_path: Path) -> tuple[Ack, dict]:
    sender: dict = {}

    def key_for(manifest: dict) -> str:
        device = _known_device(session, manifest.get("device_id"))
        if manifest.get("hub_id") != str(self_device_id(session)) or manifest.get("direction") != "push":
            raise SYNC_PROBLEMS("bundle.wrong_hub")
        sender["device"] = device
        return device.device_key

    def already_have(manifest: dict) -> bool:
        return _imported_before(session, manifest["members"].get("changes.jsonl", ""))

    checked = bundle.read(data, key_for, max_photo_bytes, already_have)
    faults.point("bundle read")
    device, manifest = sender["device"], checked.manifest
    after = int(manifest.get("after") or 0)
    if checked.skipped:
        ack = Ack(device.acked_seq, 0, checked.skipped, 0, 0)
    else:
        ack = receive_push(session, device, after, int(manifest.get("up_to") or after), checked.entries, store,
                           checked.photos, max_photo_bytes)
        _remember_import(session, checked.digest, device.id)
    faults.point("batch applied")
    cursor = int(manifest.get("cursor") or 0)
    back, next_cursor, _ = changes_for(session, device, cursor, limit=10 ** 9)
    faults.point("return changes chosen")
    written = bundle.write(return_path, device_id=str(device.id), hub_id=str(self_device_id(session)),
                           direction="return", key=device.device_key, entries=back, photos={}, cursor=next_cursor,
                           created_at=utcnow().isoformat(), extra={"acked_seq": ack.acked_seq, "from_cursor": cursor})
    faults.point("return bundle written")
    return ack, written


def import_return_bundle(session: Session, data: bytes, store: PhotoStore, max_photo_bytes: int) -> apply.ReceiveResult:
    """On a device: apply the hub's return bundle; refuse one older than what we already have."""
    hub = _require_peer(session)

    def key_for(manifest: dict) -> str:
        if manifest.get("hub_id") != str(hub.hub_id) or manifest.get("device_id") != str(self_device_id(session)) \
                or manifest.get("direction") != "return":
            raise SYNC_PROBLEMS("bundle.wrong_hub/device_or_hub")
        return hub.device_key

    checked = bundle.read(data, key_for, max_photo_bytes)
    manifest = checked.manifest
    next_cursor, acked = int(manifest.get("cursor") or 0), int(manifest.get("acked_seq") or 0)
    # The same bundle again is a harmless no-op; an older one would tell us less than we know.
    if next_cursor < hub.pull_cursor or acked < hub.pushed_seq:
        raise SYNC_PROBLEMS("bundle.replay")
    result = receive_pull(session, hub, checked.entries, next_cursor, store)
    hub.pushed_seq = max(hub.pushed_seq, acked)
    return result


def _known_device(session: Session, device_id) -> Device:
    try:
        device = session.get(Device, uuid.UUID(str(device_id)))
    except ValueError:
        device = None
    if device is None or device.device_key is None:
        raise SYNC_PROBLEMS("sync.unknown_device")
    if device.revoked_at is not None:
        raise SYNC_PROBLEMS("sync.revoked_device")
    return device


def _require_peer(session: Session) -> SyncPeer:
    hub = peer(session)
    if hub is None:
        raise SYNC_PROBLEMS("sync.not_enrolled")
    return hub


def device_name() -> str:
    return socket.gethostname()[:80]


def ensure_self_device(session: Session, role: str) -> Device:
    """Make this installation's device row on first start; keep it (and its id) forever after."""
    device = self_device(session)
    if device is None:
        device = Device(name=device_name() or role, role=role, is_self=True)
        session.add(device)
        session.flush()
    return device


def _imported_before(session: Session, digest: str) -> bool:
    """This exact set of changes (by its signed SHA-256) was imported before."""
    return bool(digest) and session.get(SyncState, f"bundle:{digest}") is not None


def _remember_import(session: Session, digest: str, device_id) -> None:
    if not _imported_before(session, digest):
        session.add(SyncState(key=f"bundle:{digest}", value=str(device_id)))
