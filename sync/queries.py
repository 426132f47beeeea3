"""Queries about devices."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User, user_kecamatan
from app.auth.service import may_sign_in
from app.node import Device, self_device, self_device_id
from geo.models import Wilayah
from survey.audits.models import Audit
from survey.audits.queries import corrected_select
from survey.facilities.models import Facility
from sync.models import SyncConflict


def device_with_id(session: Session, device_id: str) -> Device | None:
    """The device with this id; None also for a malformed id."""
    try:
        return session.get(Device, uuid.UUID(device_id))
    except ValueError:
        return None


def list_devices(session: Session) -> list[Device]:
    """Every device known here, this one first."""
    stmt = select(Device).order_by(Device.is_self.desc(), Device.name)
    return list(session.execute(stmt).scalars())


def pending_counts(session: Session) -> dict[str, int]:
    """On a device: audits by sync state, for the sync panel."""
    counts = dict.fromkeys(("draft", "waiting", "sent", "received", "approved", "returned", "rejected"), 0)
    audits = session.execute(select(Audit)).scalars().all()
    settled = corrected_ids(session)
    for audit_id, state in audit_sync_states(session, audits).items():
        if state == "returned" and audit_id in settled:
            continue  # its correction is submitted: the return asks nothing more of the auditor
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

    stmt = (select(Audit.device_id, func.count(), func.sum(case((Audit.review_status.is_(None), 1), else_=0)))
            .where(Audit.status == "submitted", Audit.device_id.is_not(None)).group_by(Audit.device_id))
    return {device: {"audits": total, "to_review": int(waiting or 0)} for device, total, waiting in session.execute(stmt)}


def is_enrolled(session: Session) -> bool:
    """This node has a hub to sync with."""
    from sync.models import SyncPeer

    return session.execute(select(SyncPeer.hub_id).limit(1)).first() is not None


def received_from_hub(session: Session, user) -> bool:
    """app.auth.signals.demo_account_received: a demo account may sign in where a demo hub sent it."""
    return sent_by_hub(session, user.id)


def sent_by_hub(session: Session, user_id) -> bool:
    """The account came here in a change another node made (not made on this node)."""
    from sync.models import SyncChange

    me = self_device_id(session)
    stmt = select(SyncChange.local_seq).where(SyncChange.kind == "user", SyncChange.entity_id == str(user_id),
                                              SyncChange.origin_id != me).limit(1)
    return me is not None and session.execute(stmt).first() is not None


def kecamatan_without_auditor(session: Session, codes, demo: bool = False) -> list[tuple[str, str]]:
    """(code, name) of the kecamatan among these where no auditor can sign in (on a hub: none would reach a device)."""

    codes = sorted(set(codes or []))
    if not codes:
        return []
    rows = session.execute(select(User, user_kecamatan.c.kecamatan_code).join(
        user_kecamatan, user_kecamatan.c.user_id == User.id).where(
        User.role == "auditor", User.active.is_(True), user_kecamatan.c.kecamatan_code.in_(codes))).all()
    covered = {code for user, code in rows if may_sign_in(session, user, demo)}
    names = dict(session.execute(select(Wilayah.code, Wilayah.name).where(Wilayah.code.in_(codes))).all())
    return [(code, names.get(code, code)) for code in codes if code not in covered]


def held_counts(session: Session) -> dict[str, int]:
    """How many facilities, regions and accounts this node holds (the setup page of a device)."""
    from sqlalchemy import func


    return {name: session.execute(select(func.count()).select_from(model)).scalar_one()
            for name, model in (("facilities", Facility), ("regions", Wilayah), ("accounts", User))}


def waiting_by_sender(session: Session) -> dict[uuid.UUID, int]:
    """On a hub: per sending device, its changes that wait for a dependency (docs/sync.md, rule 5)."""
    from sqlalchemy import func

    from sync.models import SyncChange

    stmt = (select(SyncChange.via_id, func.count()).where(SyncChange.applied.is_(False), SyncChange.via_id.is_not(None))
            .group_by(SyncChange.via_id))
    return {via: count for via, count in session.execute(stmt)}


def waiting_from(session: Session, sender_id: uuid.UUID) -> int:
    """How many changes delivered by one sender wait for a dependency."""
    from sqlalchemy import func

    from sync.models import SyncChange

    return session.execute(select(func.count()).select_from(SyncChange).where(
        SyncChange.via_id == sender_id, SyncChange.applied.is_(False))).scalar_one()


def trust_facts(session: Session, changes, receiver_id: uuid.UUID, now_ms: int):
    """What sync.trust.vet looks at for a batch: the devices, facilities, accounts and audits it names."""
    from sync import trust
    from sync.models import SyncChange

    facts = trust.Facts(receiver_id=str(receiver_id), now_ms=now_ms)
    _tree(session, {c.origin_id for c in changes}, facts)
    audit_ids = {c.payload.get("audit_id") for c in changes if c.kind == "review"}
    for audit_id, facility_id in _rows(session, select(Audit.id, Audit.facility_id), Audit.id, audit_ids):
        facts.audit_facility[str(audit_id)] = str(facility_id)
    facility_ids = {c.payload.get("facility_id") for c in changes if c.kind in ("audit", "facility")}
    facility_ids |= set(facts.audit_facility.values())
    for facility_id, code in _rows(session, select(Facility.id, Facility.kecamatan_code), Facility.id, facility_ids):
        facts.facility_kecamatan[str(facility_id)] = code
        facts.facility_exists.add(str(facility_id))
    # A registration held but waiting (its desa not here yet) places its facility too.
    unplaced = sorted(str(f) for f in facility_ids if f and str(f) not in facts.facility_kecamatan)
    for chunk in range(0, len(unplaced), 500):
        for entity, payload in session.execute(select(SyncChange.entity_id, SyncChange.payload).where(
                SyncChange.kind == "facility", SyncChange.entity_id.in_(unplaced[chunk:chunk + 500]))
                .order_by(SyncChange.hlc)):
            code = (payload.get("fields") or {}).get("kecamatan_code")
            if code:
                facts.facility_kecamatan[entity] = code
    names = {c.payload.get("auditor") for c in changes if c.kind == "audit"} - {None}
    if names:
        users = session.execute(select(User.id, User.username, User.role, User.active).where(
            User.username.in_([n for n in names if isinstance(n, str)]))).all()
        codes: dict = {}
        for user_id, code in session.execute(select(user_kecamatan.c.user_id, user_kecamatan.c.kecamatan_code).where(
                user_kecamatan.c.user_id.in_([u.id for u in users]))):
            codes.setdefault(user_id, set()).add(code)
        facts.accounts = {u.username: trust.Account(u.role, bool(u.active), frozenset(codes.get(u.id, ())))
                          for u in users}
    desa = {c.payload["fields"].get("desa_code") for c in changes
            if c.kind == "facility" and isinstance(c.payload.get("fields"), dict)} - {None}
    for code, level, parent in _rows(session, select(Wilayah.code, Wilayah.level, Wilayah.parent_code), Wilayah.code,
                                     {d for d in desa if isinstance(d, str)}):
        facts.wilayah_parent[code] = (level, parent)
    return facts


def _tree(session: Session, origins: set, facts) -> None:
    """The known origins among these and every ancestor of theirs, as id -> parent id."""
    wanted = set()
    for origin in origins:
        try:
            wanted.add(uuid.UUID(str(origin)))
        except ValueError:
            continue
    while wanted:
        found = session.execute(select(Device.id, Device.parent_id).where(Device.id.in_(wanted))).all()
        for device_id, parent_id in found:
            facts.parents[str(device_id)] = str(parent_id) if parent_id else None
        wanted = {p for _, p in found if p is not None and str(p) not in facts.parents}


def _rows(session: Session, stmt, column, keys: set) -> list:
    """stmt's rows whose `column` is one of these keys (ids given as text), 500 at a time."""
    values = []
    for key in keys:
        if key is None:
            continue
        if isinstance(column.type, type(Device.id.type)):
            try:
                key = uuid.UUID(str(key))
            except ValueError:
                continue
        values.append(key)
    rows = []
    for start in range(0, len(values), 500):
        rows += session.execute(stmt.where(column.in_(values[start:start + 500]))).all()
    return rows


# --- Review lists (issue #12) ---------------------------------------------------------------------

REVIEW_STATES = ("waiting", "returned", "approved", "rejected", "all")


def corrected_ids(session: Session) -> set[uuid.UUID]:
    """Audits that a submitted correction replaces (a returned one among them is settled)."""
    return set(session.execute(corrected_select()).scalars())


def _in_state(stmt, state: str):
    """Restrict a select over submitted audits to one review state of the hub's list."""
    if state == "waiting":
        return stmt.where(Audit.review_status.is_(None))
    if state == "returned":
        return stmt.where(Audit.review_status == "returned", Audit.id.not_in(corrected_select()))
    if state in ("approved", "rejected"):
        return stmt.where(Audit.review_status == state)
    return stmt


def _received(stmt, kecamatan_code: str):
    """Submitted audits, of one kecamatan when one is chosen."""

    stmt = stmt.join(Facility, Facility.id == Audit.facility_id).where(Audit.status == "submitted")
    return stmt.where(Facility.kecamatan_code == kecamatan_code) if kecamatan_code else stmt


def review_counts(session: Session, kecamatan_code: str = "") -> dict[str, int]:
    """How many received audits are in each review state (returned: not yet corrected), and in all."""
    from sqlalchemy import func

    return {state: session.execute(_in_state(_received(select(func.count(Audit.id)), kecamatan_code), state))
            .scalar_one() for state in REVIEW_STATES}


def review_queue(session: Session, state: str, kecamatan_code: str = "", limit: int = 300) -> list:
    """Received audits in one review state: those waiting for a decision first, then returned, newest first."""
    from sqlalchemy import case
    from sqlalchemy.orm import joinedload

    waiting_first = case((Audit.review_status.is_(None), 0), (Audit.review_status == "returned", 1), else_=2)
    stmt = (_in_state(_received(select(Audit), kecamatan_code), state)
            .options(joinedload(Audit.facility), joinedload(Audit.auditor))
            .order_by(waiting_first, Audit.submitted_at.desc()).limit(limit))
    return list(session.execute(stmt).scalars())


# --- Conflicts --------------------------------------------------------------------------------------


def conflict_list(session: Session, limit: int = 200) -> list[SyncConflict]:
    """Conflicts for the conflicts page: open ones first, then resolved ones, newest first within each."""
    stmt = (select(SyncConflict).order_by(SyncConflict.resolved_at.is_not(None), SyncConflict.created_at.desc())
            .limit(limit))
    return list(session.execute(stmt).scalars())
