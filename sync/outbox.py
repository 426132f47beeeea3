"""Recording changes made here, in the same transaction that makes them. Never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import utcnow
from app.node import self_device_id
from sync import hlc as clock
from sync.changes import Change, content_hash
from sync.models import SyncChange, SyncState


def locked_state(session: Session, key: str, default: str) -> SyncState:
    """A sync_state row locked for this transaction, made with `default` when it is not there yet."""
    # FOR UPDATE: two hub requests (threads or worker processes) must not take the same sequence number or
    # clock reading (SQLite already holds the write lock from BEGIN IMMEDIATE; PostgreSQL locks the row).
    stmt = select(SyncState).where(SyncState.key == key).with_for_update()
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        # The first use: two transactions would both find no row and both insert it, and one would fail on
        # the key. Insert unless there, waiting for the other's commit; then lock whichever row won.
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(SyncState).values(key=key, value=default).on_conflict_do_nothing())
        row = session.execute(stmt).scalar_one()
    return row


def now_hlc(session: Session) -> str:
    """This node's next HLC timestamp."""
    row = locked_state(session, "hlc", clock.ZERO)
    row.value = clock.tick(row.value)
    return row.value


def observe_hlc(session: Session, seen: str) -> None:
    """Move this node's clock to at least a timestamp seen from another node."""
    row = locked_state(session, "hlc", clock.ZERO)
    row.value = clock.observe(row.value, seen)


def emit(session: Session, kind: str, entity_id: str, payload: dict, scope: str | None,
         hlc: str | None = None) -> SyncChange:
    """Append a change made on this node to its log, numbered in this node's origin sequence."""
    origin = self_device_id(session)
    seq_row = locked_state(session, "origin_seq", "0")
    seq_row.value = str(int(seq_row.value) + 1)
    change = Change(origin_id=str(origin), origin_seq=int(seq_row.value), kind=kind, entity_id=str(entity_id),
                    hlc=hlc or now_hlc(session), payload=payload, scope=scope)
    row = SyncChange(origin_id=origin, origin_seq=change.origin_seq, kind=kind, entity_id=change.entity_id,
                     hlc=change.hlc, sha256=change.sha256, payload=payload, scope=scope, via_id=None, applied=True)
    session.add(row)
    session.flush()
    return row


def emit_many(session: Session, records: list[tuple[str, str, dict, str | None]]) -> list[tuple[int, str]]:
    """Append many changes made here at once, each (kind, entity_id, payload, scope), numbered and stamped in
    order as emit would; their (local_seq, hlc). One sequence and clock update and one executemany statement:
    publishing a large hub's backlog one change at a time takes minutes."""
    origin = self_device_id(session)
    seq_row, clock_row = locked_state(session, "origin_seq", "0"), locked_state(session, "hlc", clock.ZERO)
    seq, stamp, rows = int(seq_row.value), clock_row.value, []
    for kind, entity_id, payload, scope in records:
        seq, stamp = seq + 1, clock.tick(stamp)
        change = Change(origin_id=str(origin), origin_seq=seq, kind=kind, entity_id=str(entity_id), hlc=stamp,
                        payload=payload, scope=scope)
        rows.append({"origin_id": origin, "origin_seq": seq, "kind": kind, "entity_id": change.entity_id, "hlc": stamp,
                     "sha256": change.sha256, "payload": payload, "scope": scope, "via_id": None, "applied": True,
                     "received_at": utcnow()})
    seq_row.value, clock_row.value = str(seq), stamp
    if not rows:
        return []
    table = SyncChange.__table__
    stmt = insert(table).returning(table.c.local_seq, table.c.hlc, sort_by_parameter_order=True)
    return [(local_seq, hlc) for local_seq, hlc in session.execute(stmt, rows)]


def latest_change(session: Session, kind: str, entity_id: str) -> SyncChange | None:
    """The newest applied change about a record (by HLC)."""
    stmt = (select(SyncChange).where(SyncChange.kind == kind, SyncChange.entity_id == str(entity_id),
                                     SyncChange.applied.is_(True)).order_by(SyncChange.hlc.desc()).limit(1))
    return session.execute(stmt).scalar_one_or_none()


def emit_if_changed(session: Session, kind: str, entity_id: str, payload: dict, scope: str | None) -> SyncChange | None:
    """Publish a record's current state unless the last published state is the same."""
    last = latest_change(session, kind, entity_id)
    if last is not None and content_hash(last.payload) == content_hash(payload):
        return None
    return emit(session, kind, entity_id, payload, scope)


# More changes than any node makes between a backup and its restore; a PostgreSQL `integer` log position
# still has room for 200 restores.
RESTORE_GAP = 10_000_000
LOST_KEY = "own_lost"  # sync_state: "after:before", the own numbers a restore may have lost


def skip_ahead(session: Session, gap: int = RESTORE_GAP) -> dict[str, int]:
    """After a restore: number this node's next changes and log positions past any it gave out after the backup.

    Devices may hold this node's changes (origin, seq) and pull cursors from after the backup; reusing a
    number would make them refuse a new change as a reused one, or skip it as already pulled. Returns the
    next origin sequence and the next log position.
    """
    seq_row = locked_state(session, "origin_seq", "0")
    held = int(seq_row.value)
    seq_row.value = str(held + gap)
    _remember_lost(session, held, held + gap + 1)
    top = session.execute(select(func.max(SyncChange.local_seq))).scalar() or 0
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.execute(text("SELECT pg_get_serial_sequence('sync_change', 'local_seq')")).scalar_one()
        current = session.execute(text(f"SELECT last_value FROM {sequence}")).scalar_one()
        position = max(top, current) + gap
        session.execute(text("SELECT setval(pg_get_serial_sequence('sync_change', 'local_seq'), :value)"),
                        {"value": position})
    else:  # AUTOINCREMENT (migration 0011): the next local_seq is sqlite_sequence's value plus one
        current = session.execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'sync_change'")).scalar()
        position = max(top, current or 0) + gap
        if current is None:
            session.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES ('sync_change', :value)"),
                            {"value": position})
        else:
            session.execute(text("UPDATE sqlite_sequence SET seq = :value WHERE name = 'sync_change'"),
                            {"value": position})
    return {"origin_seq": int(seq_row.value) + 1, "local_seq": position + 1}


def _remember_lost(session: Session, held: int, next_seq: int) -> None:
    """The own sequence numbers this node may have given out after its backup: the upper hub may hold changes
    under them, which the next sync asks back (sync.run.recover). A restore of a node that had not finished
    asking keeps the older, wider window."""
    row = locked_state(session, LOST_KEY, f"{held}:{next_seq}")
    after, _ = lost_window(row.value) or (held, next_seq)
    row.value = f"{min(after, held)}:{next_seq}"


def lost_window(value: str | None) -> tuple[int, int] | None:
    """(after, before) of a stored lost window: own numbers strictly between them may be on the upper hub."""
    try:
        after, before = (int(part) for part in str(value).split(":"))
    except ValueError:
        return None
    return (after, before) if 0 <= after < before else None


def change_key(row: SyncChange) -> str:
    """"origin:seq" of a stored change."""
    return f"{row.origin_id}:{row.origin_seq}"


def origin_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
