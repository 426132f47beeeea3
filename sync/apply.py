"""Receiving changes: deduplicate, store, and merge them into this node's records. Never commits.

The merge is a function of the *set* of changes held (docs/sync.md, rules 1–5): winners are chosen
by keys, never by arrival order, and a change whose record depends on one not yet held waits.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable

from sqlalchemy import String, cast, delete, false, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app import faults
from app.auth.models import User, user_kecamatan
from app.db import utcnow
from geo.models import Wilayah
from indicators import hooks as indicator_hooks
from survey.audits.models import Answer, AnswerPhoto, Audit, ChecklistVersion, GpsReading
from survey.facilities.models import Facility
from sync import documents
from sync.changes import APPLY_ORDER, Change
from sync.models import AuditReview, FacilityEdit, SyncChange, SyncConflict
from sync.outbox import observe_hlc
from sync.problems import SYNC_PROBLEMS

CHUNK = 500  # rows per IN (...) list: well under SQLite's variable limit


@dataclass
class ReceiveResult:
    """What a batch did."""

    received: int = 0
    duplicates: int = 0
    applied: int = 0
    waiting: int = 0
    conflicts: int = 0
    keys_applied: set = field(default_factory=set)


def receive(session: Session, changes: list[Change], via_id: uuid.UUID | None,
            has_photo: Callable[[str], bool], before_merge: Callable[[], None] = lambda: None,
            vet: Callable[[list[Change]], list[Change]] | None = None, max_waiting: int | None = None) -> ReceiveResult:
    """Store the changes not yet held and merge everything that can now be merged.

    Every check that can refuse the batch runs before `before_merge` (which stores a bundle's
    photos), so a refused batch leaves nothing behind, not even files; only the bound on waiting
    changes (`max_waiting` per sender) is known after the merge, and refuses the batch then.
    `vet` (sync.trust through sync.service) sees the changes not held yet and may refuse them or
    give them back with their scope recomputed.
    """
    result = ReceiveResult(received=len(changes))
    batch = _dedupe_batch(changes)
    faults.point("deduplicated")
    new = _not_held(session, batch)
    faults.point("known changes looked up")
    if vet is not None:
        new = vet(new)
    result.duplicates = len(changes) - len(new)
    _check_references(session, new, has_photo)
    faults.point("references checked")
    before_merge()
    waiting = _waiting(session, via_id)
    conflicts_before = _conflict_count(session)
    applied, waiting = _merge(session, new, waiting)
    faults.point("merged")
    if max_waiting is not None and via_id is not None:
        _check_waiting_bound(session, via_id, new, applied, max_waiting)
    _store(session, new, applied, via_id)
    faults.point("changes stored")
    _mark_applied(session, [c for c in waiting if c.key in applied])
    indicator_hooks.changes_applied(session, [c for c in new + waiting if c.key in applied])
    if changes:
        observe_hlc(session, max(c.hlc for c in changes))
    result.applied = len(applied)
    result.keys_applied = applied
    result.waiting = len(new) + len(waiting) - len(applied)
    result.conflicts = _conflict_count(session) - conflicts_before
    return result


def _merge(session: Session, new: list[Change], waiting: list[Change]) -> tuple[set, list[Change]]:
    """Apply the batch with the sender's waiting changes, then, round by round, the waiting changes of
    other senders that what was just applied may unblock (never all of them: rule 5's cost is bounded)."""
    pool = new + waiting
    applied = _apply_all(session, pool)
    tried = {c.key for c in pool}
    frontier = [c for c in pool if c.key in applied]
    while frontier:
        extra = [c for c in _unblocked(session, frontier) if c.key not in tried]
        if not extra:
            break
        tried |= {c.key for c in extra}
        waiting = waiting + extra
        pending = [c for c in new + waiting if c.key not in applied]
        progress = _apply_all(session, pending)
        applied |= progress
        frontier = [c for c in pending if c.key in progress]
    return applied, waiting


def _check_waiting_bound(session: Session, via_id: uuid.UUID, new: list[Change], applied: set, limit: int) -> None:
    """Refuse a batch that would leave more than `limit` of one sender's changes waiting."""
    stored = session.execute(select(SyncChange.origin_id, SyncChange.origin_seq).where(
        SyncChange.via_id == via_id, SyncChange.applied == false())).all()
    still = sum(1 for o, s in stored if (str(o), s) not in applied) + sum(1 for c in new if c.key not in applied)
    if still > limit:
        raise SYNC_PROBLEMS("sync.too_many_waiting", count=still, limit=limit)


def _dedupe_batch(changes: list[Change]) -> list[Change]:
    seen: dict[tuple, Change] = {}
    for change in changes:
        known = seen.get(change.key)
        if known is not None and known.sha256 != change.sha256:
            raise SYNC_PROBLEMS("sync.seq_reused", key=f"{change.origin_id}:{change.origin_seq}")
        seen[change.key] = change
    return list(seen.values())


def _not_held(session: Session, changes: list[Change]) -> list[Change]:
    held: dict[tuple, str] = {}
    by_origin: dict[str, list[int]] = {}
    for change in changes:
        by_origin.setdefault(change.origin_id, []).append(change.origin_seq)
    # One origin at a time: `origin_id = ? AND origin_seq IN (...)` is a lookup in the unique index,
    # where a row-value IN over both columns makes SQLite scan the whole change log.
    for origin, seqs in by_origin.items():
        for chunk in _chunks(sorted(seqs)):
            stmt = select(SyncChange.origin_seq, SyncChange.sha256).where(
                SyncChange.origin_id == uuid.UUID(origin), SyncChange.origin_seq.in_(chunk))
            held.update({(origin, seq): sha for seq, sha in session.execute(stmt)})
    fresh = []
    for change in changes:
        if change.key not in held:
            fresh.append(change)
        elif held[change.key] != change.sha256:
            raise SYNC_PROBLEMS("sync.seq_reused", key=f"{change.origin_id}:{change.origin_seq}")
    return fresh


def _check_references(session: Session, changes: list[Change], has_photo: Callable[[str], bool]) -> None:
    """Refuse the batch when an audit names a checklist version or a photo that nobody can supply."""
    audits = [c for c in changes if c.kind == "audit"]
    if not audits:
        return
    offered = {c.entity_id for c in changes if c.kind == "checklist"}
    wanted = {c.payload.get("checklist_key") for c in audits} - offered
    if wanted:
        known = set(session.execute(select(ChecklistVersion.key).where(ChecklistVersion.key.in_(wanted))).scalars())
        missing = sorted(str(k) for k in wanted - known)
        if missing:
            raise SYNC_PROBLEMS("sync.unknown_checklist", keys=", ".join(missing))
    for change in audits:
        for shas in (change.payload.get("photos") or {}).values():
            for sha in shas:
                if not has_photo(sha):
                    raise SYNC_PROBLEMS("sync.photo_missing", sha=str(sha)[:12])


def _waiting(session: Session, via_id: uuid.UUID | None) -> list[Change]:
    """The waiting changes this sender delivered (bounded per sender); all of them for a local import."""
    stmt = select(SyncChange).where(SyncChange.applied == false()).order_by(SyncChange.local_seq)
    if via_id is not None:
        stmt = stmt.where(SyncChange.via_id == via_id)
    return [_as_change(row) for row in session.execute(stmt).scalars()]


def _unblocked(session: Session, applied: list[Change]) -> list[Change]:
    """Waiting changes whose dependency is among these applied changes (docs/sync.md, rule 5)."""
    by_kind: dict[str, set] = {}
    for change in applied:
        by_kind.setdefault(change.kind, set()).add(change.entity_id)
    facilities, audits = by_kind.get("facility", set()), by_kind.get("audit", set())
    users = {c.payload.get("username") for c in applied if c.kind == "user"}
    payload = SyncChange.payload
    tests = [
        (SyncChange.kind == "audit", payload["facility_id"].as_string(), facilities),
        (SyncChange.kind == "audit", payload["revision_of"].as_string(), audits),
        (SyncChange.kind == "audit", payload["checklist_key"].as_string(), by_kind.get("checklist", set())),
        (SyncChange.kind == "audit", payload["auditor"].as_string(), users),
        (SyncChange.kind == "facility", SyncChange.entity_id, facilities),
        (SyncChange.kind == "review", SyncChange.entity_id, audits),
    ]
    found: dict[tuple, SyncChange] = {}
    for kind_test, column, values in tests:
        for chunk in _chunks(sorted(v for v in values if isinstance(v, str))):
            for row in session.execute(select(SyncChange).where(SyncChange.applied == false(), kind_test,
                                                                column.in_(chunk))).scalars():
                found[(str(row.origin_id), row.origin_seq)] = row
    if "wilayah" in by_kind:  # a region arrived: what names a region may now apply (rare, and few wait on it)
        for row in session.execute(select(SyncChange).where(SyncChange.applied == false(), SyncChange.kind.in_(
                ("wilayah", "user", "facility")))).scalars():
            found[(str(row.origin_id), row.origin_seq)] = row
    return [_as_change(row) for row in sorted(found.values(), key=lambda r: r.local_seq)]


def _as_change(row: SyncChange) -> Change:
    return Change(origin_id=str(row.origin_id), origin_seq=row.origin_seq, kind=row.kind, entity_id=row.entity_id,
                  hlc=row.hlc, payload=row.payload, scope=row.scope)


def _apply_all(session: Session, changes: list[Change]) -> set:
    """Apply by kind, dependencies first, repeating while anything new could be applied."""
    applied: set = set()
    remaining = sorted(changes, key=lambda c: (APPLY_ORDER[c.kind], c.hlc, c.key))
    while remaining:
        progress = set()
        for kind in APPLY_ORDER:
            group = [c for c in remaining if c.kind == kind]
            if group:
                progress |= APPLIERS[kind](session, group)
                faults.point(f"{kind} applied")
        if not progress:
            break
        applied |= progress
        remaining = [c for c in remaining if c.key not in progress]
    return applied


def _store(session: Session, changes: list[Change], applied: set, via_id) -> None:
    now = utcnow()
    rows = [{"origin_id": uuid.UUID(c.origin_id), "origin_seq": c.origin_seq, "kind": c.kind, "entity_id": c.entity_id,
             "hlc": c.hlc, "sha256": c.sha256, "payload": c.payload_json, "scope": c.scope, "via_id": via_id,
             "applied": c.key in applied, "received_at": now} for c in changes]
    for chunk in _chunks(rows, 2000):
        # The payload goes as its canonical JSON text, already made for the hash: not encoded twice.
        bulk_insert(session, SyncChange.__table__, chunk, raw=("payload",))


def bulk_insert(session: Session, table, rows: list[dict], raw: tuple[str, ...] = ()) -> None:
    """executemany straight to the driver (see bulk_insert_columns), from rows as dicts."""
    if rows:
        bulk_insert_columns(session, table, {name: [row[name] for row in rows] for name in rows[0]}, raw)


def bulk_insert_columns(session: Session, table, columns: dict[str, list], raw: tuple[str, ...] = ()) -> None:
    """executemany straight to the driver, from equally long value lists per column.

    A hub ingests hundreds of thousands of answer rows per bundle; SQLAlchemy's per-row statement
    machinery costs more than the insert itself, so rows go to the DBAPI as plain tuples, each
    column's type conversion applied once per distinct value (map and zip loop in C). Columns named
    in `raw` already hold driver values.
    """
    names = list(columns)
    if not names or not columns[names[0]]:
        return
    connection = session.connection()
    dialect = connection.dialect
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    sql = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({quoted}) VALUES ({', '.join([marker] * len(names))})"
    converted = []
    for name in names:
        process = None if name in raw else table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        converted.append(_convert(process, columns[name]) if process else columns[name])
    if dialect.name == "postgresql":
        _copy_rows(connection, f"COPY {dialect.identifier_preparer.format_table(table)} ({quoted}) FROM STDIN",
                   zip(*converted))
    else:
        connection.exec_driver_sql(sql, list(zip(*converted)))


def _copy_rows(connection, statement: str, rows) -> None:
    """PostgreSQL: COPY in the request's own transaction, several times faster than executemany."""
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def _convert(process, values: list) -> list:
    """Each distinct value converted once, in loops that run in C.

    Answers repeat a handful of values ("ya", "tidak") and an audit's id and time repeat on each of
    its answer rows. Objects are told apart by identity first (cheap, and what repeats within an
    audit), then by (type, value): 1, 1.0 and True are equal in a dict but not in JSON.
    """
    ids = list(map(id, values))
    distinct = dict(zip(ids, values))  # every value object is alive in `values`: ids are unique
    objects = list(distinct.values())
    try:
        keys = list(zip(map(type, objects), objects))
        by_value = {key: process(key[1]) for key in dict.fromkeys(keys)}
        table = dict(zip(distinct, map(by_value.__getitem__, keys)))
    except TypeError:  # an unhashable value (a list or dict answer): convert each object
        table = {ident: process(value) for ident, value in distinct.items()}
    return list(map(table.__getitem__, ids))


def _mark_applied(session: Session, changes: list[Change]) -> None:
    for change in changes:
        session.execute(update(SyncChange).where(SyncChange.origin_id == uuid.UUID(change.origin_id),
                                                 SyncChange.origin_seq == change.origin_seq).values(applied=True))


def _conflict_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(SyncConflict)).scalar_one()


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _record_conflict(session: Session, kind: str, entity_id: str, detail_key: str, detail: dict,
                     refresh: bool = False) -> None:
    """Store a conflict once: the same versions arriving again add nothing. With `refresh`, an open
    conflict's detail is brought up to date (a third concurrent edit joins the list)."""
    existing = session.execute(select(SyncConflict).where(
        SyncConflict.kind == kind, SyncConflict.entity_id == entity_id, SyncConflict.detail_key == detail_key)).scalar_one_or_none()
    if existing is None:
        session.add(SyncConflict(kind=kind, entity_id=entity_id, detail_key=detail_key, detail=detail))
        session.flush()
    elif refresh and existing.resolved_at is None and existing.detail != detail:
        existing.detail = detail


def _key_text(key: tuple) -> str:
    return f"{key[0]}:{key[1]}"


def _key_of(text: str) -> tuple:
    origin, seq = text.rsplit(":", 1)
    return (origin, int(seq))


# --- checklist ---------------------------------------------------------------------------------


def _apply_checklists(session: Session, changes: list[Change]) -> set:
    done = set()
    for change in changes:
        doc = change.payload
        stored = session.get(ChecklistVersion, change.entity_id)
        if stored is None:
            session.add(ChecklistVersion(key=doc["key"], checklist_id=doc["checklist_id"], version=doc["version"],
                                         sha256=doc["sha256"], content=doc["content"]))
            session.flush()
        elif stored.sha256 != doc["sha256"]:
            _record_conflict(session, "checklist", change.entity_id, f"{stored.sha256[:48]}|{doc['sha256'][:48]}",  # detail_key: 120 characters
                             {"kept_sha256": stored.sha256, "other_sha256": doc["sha256"], "other_origin": change.origin_id})
        done.add(change.key)
    return done


# --- wilayah and users: last writer wins per record --------------------------------------------


def _newer(session: Session, kind: str, change: Change) -> bool:
    """True when no applied change about this record is newer by (hlc, origin)."""
    stmt = select(SyncChange.hlc, SyncChange.origin_id).where(
        SyncChange.kind == kind, SyncChange.entity_id == change.entity_id, SyncChange.applied.is_(True))
    return all((change.hlc, change.origin_id) >= (h, str(o)) for h, o in session.execute(stmt))


def _apply_wilayah(session: Session, changes: list[Change]) -> set:
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


def _apply_users(session: Session, changes: list[Change]) -> set:
    done = set()
    from app.node import self_device

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
            _record_conflict(session, "user", doc["id"], f"username:{doc['username']}",
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


# --- facilities: per-field last writer wins ------------------------------------------------------

CREATE_FIELDS = ("kind", "name", "kecamatan_code")


def _apply_facilities(session: Session, changes: list[Change]) -> set:
    done = set()
    for change in sorted(changes, key=lambda c: (c.hlc, c.key)):
        doc = change.payload
        facility_id = uuid.UUID(doc["facility_id"])
        facility = session.get(Facility, facility_id)
        known = {f for (f,) in session.execute(select(FacilityEdit.field).where(FacilityEdit.facility_id == facility_id))}
        fields = doc.get("fields") or {}
        if facility is None and not set(CREATE_FIELDS) <= (known | set(fields)):
            continue  # an edit of a facility whose registration has not arrived yet
        for code_field in ("kecamatan_code", "desa_code"):
            code = fields.get(code_field)
            if code and session.get(Wilayah, code) is None:
                break
        else:
            claim_before = (facility.kind, _claimed_official_id(session, facility)) if facility else (None, None)
            _store_edits(session, change, facility_id, fields, doc.get("base") or {})
            _materialise(session, facility_id, facility, set(fields), claim_before)
            done.add(change.key)
    return done


def _store_edits(session: Session, change: Change, facility_id: uuid.UUID, fields: dict, base: dict) -> None:
    device = uuid.UUID(change.origin_id)
    for name, value in fields.items():
        if name not in documents.FACILITY_FIELDS:
            continue  # only synced fields are edits (sync.trust refuses the others at the door)
        exists = session.execute(select(FacilityEdit.id).where(
            FacilityEdit.facility_id == facility_id, FacilityEdit.field == name, FacilityEdit.hlc == change.hlc,
            FacilityEdit.device_id == device)).first()
        if exists is None:
            session.add(FacilityEdit(facility_id=facility_id, field=name, value=value, hlc=change.hlc, device_id=device,
                                     base_hlc=base.get(name)))
    session.flush()


def _materialise(session: Session, facility_id: uuid.UUID, facility: Facility | None, touched: set,
                 claim_before: tuple = (None, None)) -> None:
    """Set each touched field to its winning edit; record sibling edits (same base) as a conflict;
    settle the NPSN the facility claimed before and claims now (`claim_before`: (kind, NPSN))."""
    edits = session.execute(select(FacilityEdit).where(FacilityEdit.facility_id == facility_id,
                                                       FacilityEdit.field.in_(touched))).scalars().all()
    winners: dict[str, FacilityEdit] = {}
    siblings: dict[tuple, list[FacilityEdit]] = {}
    for edit in edits:
        best = winners.get(edit.field)
        if best is None or (edit.hlc, str(edit.device_id)) > (best.hlc, str(best.device_id)):
            winners[edit.field] = edit
        siblings.setdefault((edit.field, edit.base_hlc), []).append(edit)
    if facility is None:
        facility = Facility(id=facility_id, verified=True, status="active")
        session.add(facility)
    with session.no_autoflush:  # an NPSN is only set once settled: the unique index must never see a clash
        for name, edit in winners.items():
            if name != "official_id" and name in documents.FACILITY_FIELDS:  # never `id`, never `__class__`
                setattr(facility, name, edit.value)
        if "official_id" in winners or "kind" in winners:
            facility.official_id = None
    session.flush()
    claimed = _claimed_official_id(session, facility)
    for kind, official_id in {claim_before, (facility.kind, claimed)}:
        if kind and official_id:
            _settle_official_id(session, kind, official_id)
    for (name, base), group in siblings.items():
        versions = {(e.hlc, str(e.device_id)) for e in group}
        if len(versions) > 1:
            _record_conflict(session, "facility", str(facility_id), f"{name}:{base}", {
                "field": name, "base_hlc": base,
                "versions": sorted(({"hlc": e.hlc, "device": str(e.device_id), "value": e.value} for e in group),
                                   key=lambda v: (v["hlc"], v["device"]))}, refresh=True)


def _settle_official_id(session: Session, kind: str, official_id: str) -> None:
    """Who holds an NPSN follows from the edits, never from arrival order.

    Among the facilities of one kind whose latest official_id edit claims an NPSN, the earliest
    claim (smallest (hlc, device), facilities made outside sync first) holds it; every other
    claimant is held back (official_id empty, its edit kept in facility_edit) and shown as one open
    conflict against the holder. When a claim is given up, the next claimant gets the NPSN back and
    an open conflict that no longer holds disappears, as if the clash had never been.
    """
    claims = [(_latest_claim(session, f), f) for f in _candidates(session, kind, official_id)]
    claimants = sorted((key, f) for (value, key), f in claims if value == official_id)
    holder = claimants[0][1] if claimants else None
    for _, facility in claimants[1:]:
        facility.official_id = None
    session.flush()  # losers first: the unique index sees at most one holder at any moment
    if holder is not None and holder.official_id != official_id:
        holder.official_id = official_id
        session.flush()
    wanted = {str(loser.id): loser for _, loser in claimants[1:]}
    detail_key = f"official_id:{official_id}"
    for row in session.execute(select(SyncConflict).where(SyncConflict.kind == "facility",
                                                          SyncConflict.detail_key == detail_key)).scalars():
        if (row.resolved_at is None and row.detail.get("kind", kind) == kind and "facilities" in row.detail
                and row.entity_id not in wanted):
            session.delete(row)  # the clash no longer holds
    session.flush()
    for loser_id in sorted(wanted):
        _record_conflict(session, "facility", loser_id, detail_key, {
            "field": "official_id", "base_hlc": None, "official_id": official_id, "kind": kind,
            "facilities": sorted([str(holder.id), loser_id]), "kept_by": str(holder.id),
            "versions": [{"hlc": "", "device": "", "value": official_id}, {"hlc": "", "device": "", "value": None}]},
            refresh=True)


def _candidates(session: Session, kind: str, official_id: str) -> list[Facility]:
    """Facilities of a kind that hold an NPSN or have ever been given it (JSON text compared: both dialects)."""
    edited = select(FacilityEdit.facility_id).where(
        FacilityEdit.field == "official_id", cast(FacilityEdit.value, String) == json.dumps(official_id))
    return list(session.execute(select(Facility).where(
        Facility.kind == kind, or_(Facility.official_id == official_id, Facility.id.in_(edited)))).scalars())


def _claimed_official_id(session: Session, facility: Facility) -> str | None:
    """The NPSN a facility claims: its latest official_id edit, or what it holds if it was made outside sync."""
    return _latest_claim(session, facility)[0]


def _latest_claim(session: Session, facility: Facility) -> tuple[str | None, tuple]:
    """The facility's latest official_id edit, read once: (the NPSN it claims, its (hlc, device, id) key).
    A facility made outside sync claims what it holds, and its key sorts first."""
    row = session.execute(select(FacilityEdit.value, FacilityEdit.hlc, FacilityEdit.device_id).where(
        FacilityEdit.facility_id == facility.id, FacilityEdit.field == "official_id")
        .order_by(FacilityEdit.hlc.desc(), FacilityEdit.device_id.desc()).limit(1)).first()
    if row is None:
        return facility.official_id, ("", "", str(facility.id))
    return row[0], (row[1], str(row[2]), str(facility.id))


# --- audits: immutable; the same id with other content is a recorded conflict ------------------------


def _apply_audits(session: Session, changes: list[Change]) -> set:
    done: set = set()
    ids = [uuid.UUID(c.entity_id) for c in changes]
    stored = {}
    for chunk in _chunks(ids):
        stored.update({a: (src, sha) for a, src, sha in session.execute(
            select(Audit.id, Audit.sync_source, Audit.sync_sha256).where(Audit.id.in_(chunk)))})
    facility_ids = {uuid.UUID(c.payload["facility_id"]) for c in changes}
    facilities = set()
    for chunk in _chunks(list(facility_ids)):
        facilities |= set(session.execute(select(Facility.id).where(Facility.id.in_(chunk))).scalars())
    checklists = set(session.execute(select(ChecklistVersion.key)).scalars())
    users = dict(session.execute(select(User.username, User.id)).all())
    rows = _AuditRows()
    in_batch: dict[uuid.UUID, list[Change]] = {}
    for change in changes:
        in_batch.setdefault(uuid.UUID(change.entity_id), []).append(change)
    for change in sorted(changes, key=lambda c: (c.payload.get("revision", 1), c.key)):
        audit_id = uuid.UUID(change.entity_id)
        if audit_id in stored:
            stored[audit_id] = _same_audit_again(session, change, audit_id, stored[audit_id], in_batch[audit_id], rows)
            done.add(change.key)
            continue
        doc = change.payload
        original = documents.as_uuid(doc.get("revision_of"))
        ready = (uuid.UUID(doc["facility_id"]) in facilities and doc["checklist_key"] in checklists
                 and doc.get("auditor") in users
                 and (original is None or original in stored or _audit_exists(session, original)))
        if not ready:
            continue
        rows.add(change, audit_id, users)
        stored[audit_id] = (_key_text(change.key), change.sha256)
        done.add(change.key)
    _known_devices(session, rows.audits)
    rows.insert(session)
    return done


def _known_devices(session: Session, audits: list[dict]) -> None:
    """An audit names the device it was made on; one this node does not know is left unnamed, never
    recorded: device rows come from registrations and the origin tree (sync.trust), not from payloads."""
    from app.node import Device

    named = {row["device_id"] for row in audits if row["device_id"]}
    present = set()
    for chunk in _chunks(sorted(named, key=str)):
        present |= set(session.execute(select(Device.id).where(Device.id.in_(chunk))).scalars())
    for row in audits:
        if row["device_id"] not in present:
            row["device_id"] = None


def _audit_exists(session: Session, audit_id: uuid.UUID) -> bool:
    return session.get(Audit, audit_id) is not None


ANSWER_COLUMNS = ("audit_id", "item_id", "value", "note", "updated_at")


class _AuditRows:
    """Rows of new audits, inserted in bulk (executemany): the hub ingests thousands per batch.
    Answers, sixty or more per audit, are kept as columns: no dict per row."""

    def __init__(self):
        self.audits, self.links, self.readings = [], [], []
        self.answer_columns: dict[str, list] = {name: [] for name in ANSWER_COLUMNS}

    def add(self, change: Change, audit_id: uuid.UUID, users: dict) -> None:
        doc = change.payload
        submitted = documents.parse_time(doc.get("submitted_at"))
        self.audits.append({
            "id": audit_id, "facility_id": uuid.UUID(doc["facility_id"]), "checklist_key": doc["checklist_key"],
            "status": "submitted", "revision": doc.get("revision", 1), "revision_of": documents.as_uuid(doc.get("revision_of")),
            "auditor_id": users[doc["auditor"]],
            "device_id": documents.as_uuid(doc.get("device_id")),
            "started_at": documents.parse_time(doc.get("started_at")), "updated_at": submitted,
            "submitted_at": submitted, "score": doc.get("score"), "result": doc.get("result"),
            "lat": doc.get("lat"), "lon": doc.get("lon"), "accuracy_m": doc.get("accuracy_m"),
            "position_source": doc.get("position_source"), "position_at": documents.parse_time(doc.get("position_at")),
            "position_warnings": doc.get("position_warnings") or [], "sync_source": _key_text(change.key),
            "sync_sha256": change.sha256})
        answers = doc.get("answers") or {}
        columns, count = self.answer_columns, len(answers)
        columns["audit_id"].extend([audit_id] * count)
        columns["item_id"].extend(answers)
        columns["value"].extend(answer.get("value") for answer in answers.values())
        columns["note"].extend(answer.get("note") for answer in answers.values())
        columns["updated_at"].extend([submitted] * count)
        for item_id, shas in (doc.get("photos") or {}).items():
            for sha in shas:
                self.links.append({"audit_id": audit_id, "item_id": item_id, "sha256": sha, "added_at": submitted})
        for reading in doc.get("readings") or []:
            self.readings.append({"id": uuid.UUID(reading["id"]), "audit_id": audit_id, "lat": reading["lat"],
                                  "lon": reading["lon"], "accuracy_m": reading.get("accuracy_m"),
                                  "source": reading["source"], "taken_at": documents.parse_time(reading["taken_at"]),
                                  "recorded_at": submitted, "warnings": reading.get("warnings") or []})

    @property
    def answers(self) -> list[dict]:
        """The answer rows as dicts (for checks and the benchmark's floor)."""
        return [dict(zip(ANSWER_COLUMNS, row)) for row in zip(*self.answer_columns.values())]

    def flush(self, session: Session) -> None:
        """Insert what is collected so far and start again."""
        self.insert(session)
        self.__init__()

    def insert(self, session: Session) -> None:
        for model, rows in ((Audit, self.audits), (AnswerPhoto, self.links), (GpsReading, self.readings)):
            for chunk in _chunks(rows, 2000):
                bulk_insert(session, model.__table__, chunk)
                faults.point(f"{model.__tablename__} rows inserted")
            if model is Audit:
                self._insert_answers(session)

    def _insert_answers(self, session: Session, size: int = 20_000) -> None:
        total = len(self.answer_columns["audit_id"])
        for start in range(0, total, size):
            bulk_insert_columns(session, Answer.__table__,
                                {name: values[start:start + size] for name, values in self.answer_columns.items()})
            faults.point("answer rows inserted")


def _same_audit_again(session: Session, change: Change, audit_id: uuid.UUID, stored: tuple, batch: list[Change],
                      pending: "_AuditRows") -> tuple:
    """Rule 2: identical content is a no-op; other content is a conflict. The version with the
    smallest key is kept, and each other content is one conflict against it, whatever the order."""
    source, sha = stored
    if sha == change.sha256:
        return stored
    incoming, current = change.key, _key_of(source) if source else None
    if current is not None and incoming < current:
        pending.flush(session)  # the audit may still be waiting in this batch's bulk rows
        _replace_audit(session, change, audit_id)
        stored = (_key_text(incoming), change.sha256)
    _refresh_audit_conflicts(session, audit_id, stored, batch)
    return stored


def _refresh_audit_conflicts(session: Session, audit_id: uuid.UUID, kept: tuple, batch: list[Change]) -> None:
    versions = {(str(o), seq): (sha, payload) for o, seq, sha, payload in session.execute(
        select(SyncChange.origin_id, SyncChange.origin_seq, SyncChange.sha256, SyncChange.payload).where(
            SyncChange.kind == "audit", SyncChange.entity_id == str(audit_id)))}
    versions.update({c.key: (c.sha256, c.payload) for c in batch})
    kept_key, kept_sha = kept
    others: dict[str, tuple] = {}
    for key in sorted(versions):
        content, payload = versions[key]
        if content != kept_sha and content not in others:
            others[content] = (_key_text(key), payload)
    wanted = {"|".join(sorted([kept_key, key])): (key, payload) for key, payload in others.values()}
    for row in session.execute(select(SyncConflict).where(SyncConflict.kind == "audit",
                                                          SyncConflict.entity_id == str(audit_id))).scalars():
        if row.detail_key not in wanted and row.resolved_at is None:
            session.delete(row)  # superseded: the kept version changed when a smaller key arrived
    session.flush()
    for detail_key, (key, payload) in wanted.items():
        _record_conflict(session, "audit", str(audit_id), detail_key,
                         {"kept": kept_key, "other": key, "other_document": payload}, refresh=True)


def _replace_audit(session: Session, change: Change, audit_id: uuid.UUID) -> None:
    """Put the kept version's content in place, keeping the row (a revision may already name it)."""
    for model in (Answer, AnswerPhoto, GpsReading):
        session.execute(delete(model).where(model.audit_id == audit_id))
    rows = _AuditRows()
    rows.add(change, audit_id, dict(session.execute(select(User.username, User.id)).all()))
    values = {k: v for k, v in rows.audits[0].items() if k != "id"}
    session.execute(update(Audit).where(Audit.id == audit_id).values(**values))
    rows.audits = []
    rows.insert(session)
    audit = session.get(Audit, audit_id)
    session.refresh(audit)
    refresh_review(session, audit)  # reviews already received still hold for the kept version


# --- reviews ---------------------------------------------------------------------------------------


def _apply_reviews(session: Session, changes: list[Change]) -> set:
    done = set()
    for change in changes:
        doc = change.payload
        audit = session.get(Audit, uuid.UUID(doc["audit_id"]))
        if audit is None:
            continue
        review_id = uuid.UUID(doc["id"])
        if session.get(AuditReview, review_id) is None:
            session.add(AuditReview(id=review_id, audit_id=audit.id, decision=doc["decision"],
                                    comment=doc.get("comment") or "", reviewer=doc.get("reviewer") or "",
                                    decided_at=documents.parse_time(doc["decided_at"]), hlc=change.hlc,
                                    device_id=uuid.UUID(change.origin_id)))
            session.flush()
        refresh_review(session, audit)
        done.add(change.key)
    return done


def refresh_review(session: Session, audit: Audit) -> None:
    """The audit's review state is its latest decision by (hlc, device)."""
    latest = session.execute(select(AuditReview).where(AuditReview.audit_id == audit.id)
                             .order_by(AuditReview.hlc.desc(), AuditReview.device_id.desc()).limit(1)).scalar_one_or_none()
    if latest is not None:
        audit.review_status, audit.review_comment, audit.reviewed_at = latest.decision, latest.comment, latest.decided_at


APPLIERS = {
    "checklist": _apply_checklists,
    "wilayah": _apply_wilayah,
    "user": _apply_users,
    "facility": _apply_facilities,
    "audit": _apply_audits,
    "review": _apply_reviews,
}
