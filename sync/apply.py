"""Receiving changes: deduplicate, store, and merge them into this node's records. Never commits.

The merge is a function of the *set* of changes held (docs/sync.md, rules 1–5): winners are chosen
by keys, never by arrival order, and a change whose record depends on one not yet held waits.

This module orders a batch (what is new, what waits, which kinds first); each kind is merged by
its own module: sync.apply_records (checklists, regions, accounts), sync.apply_facilities (with
sync.npsn), sync.apply_audits (audits and reviews), all writing in bulk through sync.bulk. The
merge needs a session and the changes, nothing else: no Flask, no configuration read here. It
announces nothing either: its caller (sync.service) sends sync.signals.changes_applied.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import false, func, select, update
from sqlalchemy.orm import Session

from app import faults
from app.db import utcnow
from survey import registry
from survey.audits.models import ChecklistVersion
from survey.checklist import Checklist, load_checklist_text
from survey.form import fits
from sync.apply_audits import apply_audits, apply_reviews
from sync.apply_facilities import apply_facilities
from sync.apply_records import apply_checklists, apply_users, apply_wilayah
from sync.bulk import bulk_insert, chunks
from sync.changes import APPLY_ORDER, Change
from sync.models import SyncChange, SyncConflict
from sync.outbox import observe_hlc
from sync.problems import SYNC_PROBLEMS


@dataclass
class ReceiveResult:
    """What a batch did."""

    received: int = 0
    duplicates: int = 0
    applied: int = 0
    waiting: int = 0
    conflicts: int = 0
    keys_applied: set = field(default_factory=set)
    changes_applied: list[Change] = field(default_factory=list)  # what to announce (sync.signals.changes_applied)


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
    if changes:
        observe_hlc(session, max(c.hlc for c in changes))
    result.applied = len(applied)
    result.keys_applied = applied
    result.changes_applied = [c for c in new + waiting if c.key in applied]
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
        for chunk in chunks(sorted(seqs)):
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
    _check_addresses(session, audits, {c.entity_id: c.payload for c in changes if c.kind == "checklist"})
    for change in audits:
        for shas in (change.payload.get("photos") or {}).values():
            for sha in shas:
                if not has_photo(sha):
                    raise SYNC_PROBLEMS("sync.photo_missing", sha=str(sha)[:12])


def _check_addresses(session: Session, audits: list[Change], offered: dict[str, dict]) -> None:
    """Refuse an audit whose answers or photos sit at addresses its checklist does not have (`alat[2]/kondisi`
    for an item outside any repeat, a repeat that is not there): pages, scores and exports read them by address."""
    parsed: dict[str, tuple[Checklist, set]] = {}
    for change in audits:
        key = change.payload.get("checklist_key")
        if key not in parsed:
            parsed[key] = (load_checklist_text(offered[key]["content"], origin=f"received {key}") if key in offered
                           else registry.for_audit(session, key)), set()
        checklist, fitting = parsed[key]
        # The audits of one checklist answer the same addresses: each distinct one is looked up once.
        for addresses in (change.payload.get("answers") or {}, change.payload.get("photos") or {}):
            if addresses.keys() - fitting:
                for address in addresses:
                    if address not in fitting:
                        if not fits(checklist, address):
                            raise SYNC_PROBLEMS("sync.bad_address", address=str(address)[:80], key=str(key))
                        fitting.add(address)


def _waiting(session: Session, via_id: uuid.UUID | None) -> list[Change]:
    """The waiting changes this sender delivered (bounded per sender); all of them for a local import."""
    stmt = select(SyncChange).where(SyncChange.applied == false()).order_by(SyncChange.local_seq)
    if via_id is not None:
        stmt = stmt.where(SyncChange.via_id == via_id)
    return [_as_change(row) for row in session.execute(stmt).scalars()]


def _unblocked(session: Session, applied: list[Change]) -> list[Change]:
    """Waiting changes whose dependency is among these applied changes (docs/sync.md, rule 5)."""
    if session.execute(select(SyncChange.local_seq).where(SyncChange.applied == false()).limit(1)).first() is None:
        return []  # nothing waits (the usual case): no lookup per applied change
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
        for chunk in chunks(sorted(v for v in values if isinstance(v, str))):
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
    origins = {origin: uuid.UUID(origin) for origin in {c.origin_id for c in changes}}  # a batch has few origins
    rows = [{"origin_id": origins[c.origin_id], "origin_seq": c.origin_seq, "kind": c.kind, "entity_id": c.entity_id,
             "hlc": c.hlc, "sha256": c.sha256, "payload": c.payload_json, "scope": c.scope, "via_id": via_id,
             "applied": c.key in applied, "received_at": now} for c in changes]
    # The payload goes as its canonical JSON text, already made for the hash: not encoded twice.
    bulk_insert(session, SyncChange.__table__, rows, raw=("payload",))


def _mark_applied(session: Session, changes: list[Change]) -> None:
    for change in changes:
        session.execute(update(SyncChange).where(SyncChange.origin_id == uuid.UUID(change.origin_id),
                                                 SyncChange.origin_seq == change.origin_seq).values(applied=True))


def _conflict_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(SyncConflict)).scalar_one()


APPLIERS = {
    "checklist": apply_checklists,
    "wilayah": apply_wilayah,
    "user": apply_users,
    "facility": apply_facilities,
    "audit": apply_audits,
    "review": apply_reviews,
}
