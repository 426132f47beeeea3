"""Merging audits and reviews (docs/sync.md, rules 2 and 4). Never commits.

An audit is immutable: the same id with other content is a recorded conflict, and the version with
the smallest change key is kept whatever the arrival order. New audits are written in bulk
(sync.bulk): a hub ingests thousands per batch. An audit's review state is its latest decision.
"""

from __future__ import annotations

import uuid
from itertools import repeat

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app import faults
from app.auth.models import User
from app.node import Device
from survey.audits.models import Answer, AnswerPhoto, Audit, ChecklistVersion, GpsReading
from survey.facilities.models import Facility
from sync import wire
from sync.bulk import bulk_insert, bulk_insert_columns, chunks, driver_values, repeated
from sync.changes import Change
from sync.conflict_rows import key_of, key_text, record_conflict
from sync.models import AuditReview, SyncChange, SyncConflict


def apply_audits(session: Session, changes: list[Change]) -> set:
    """Insert the audits whose facility, checklist, auditor and corrected audit are here; the others wait."""
    done: set = set()
    ids = {c.entity_id: uuid.UUID(c.entity_id) for c in changes}  # each id parsed once
    stored = {}
    for chunk in chunks(list(ids.values())):
        stored.update({a: (src, sha) for a, src, sha in session.execute(
            select(Audit.id, Audit.sync_source, Audit.sync_sha256).where(Audit.id.in_(chunk)))})
    facility_ids = {text: uuid.UUID(text) for text in {c.payload["facility_id"] for c in changes}}  # a batch names few
    facilities = set()
    for chunk in chunks(list(set(facility_ids.values()))):
        facilities |= set(session.execute(select(Facility.id).where(Facility.id.in_(chunk))).scalars())
    checklists = set(session.execute(select(ChecklistVersion.key)).scalars())
    users = dict(session.execute(select(User.username, User.id)).all())
    rows = AuditRows()
    in_batch: dict[uuid.UUID, list[Change]] = {}
    for change in changes:
        in_batch.setdefault(ids[change.entity_id], []).append(change)
    # Revisions after what they revise; within a revision in the order of the audit's id, which is the order of
    # the answer and audit keys: the new rows reach each index page once, in one sweep. The same id's versions
    # stay in key order (rule 2 keeps the smallest).
    for change in sorted(changes, key=lambda c: (c.payload.get("revision", 1), ids[c.entity_id], c.key)):
        audit_id = ids[change.entity_id]
        if audit_id in stored:
            stored[audit_id] = _same_audit_again(session, change, audit_id, stored[audit_id], in_batch[audit_id], rows)
            done.add(change.key)
            continue
        doc = change.payload
        original = wire.as_uuid(doc.get("revision_of"))
        ready = (facility_ids[doc["facility_id"]] in facilities and doc["checklist_key"] in checklists
                 and doc.get("auditor") in users
                 and (original is None or original in stored or _audit_exists(session, original)))
        if not ready:
            continue
        rows.add(change, audit_id, users)
        stored[audit_id] = (key_text(change.key), change.sha256)
        done.add(change.key)
    _known_devices(session, rows.audits)
    rows.insert(session)
    return done


def _known_devices(session: Session, audits: list[dict]) -> None:
    """An audit names the device it was made on; one this node does not know is left unnamed, never
    recorded: device rows come from registrations and the origin tree (sync.trust), not from payloads."""
    named = {row["device_id"] for row in audits if row["device_id"]}
    present = set()
    for chunk in chunks(sorted(named, key=str)):
        present |= set(session.execute(select(Device.id).where(Device.id.in_(chunk))).scalars())
    for row in audits:
        if row["device_id"] not in present:
            row["device_id"] = None


def _audit_exists(session: Session, audit_id: uuid.UUID) -> bool:
    return session.get(Audit, audit_id) is not None


ANSWER_COLUMNS = ("audit_id", "item_id", *(f.name for f in wire.ANSWER_FIELDS), "updated_at")
PER_AUDIT = ("audit_id", "updated_at")  # answer columns whose value is the audit's, the same on each of its answers


class AuditRows:
    """Rows of new audits, inserted in bulk (executemany): the hub ingests thousands per batch.
    Answers, sixty or more per audit, are kept as columns: no dict per row. Their audit's id and time are
    kept once per audit (with its answer count), converted once per audit and repeated at the insert."""

    def __init__(self):
        self.audits, self.links, self.readings = [], [], []
        self.answer_columns: dict[str, list] = {name: [] for name in ANSWER_COLUMNS if name not in PER_AUDIT}
        self.per_audit: dict[str, list] = {name: [] for name in PER_AUDIT}
        self.answer_counts: list[int] = []

    def add(self, change: Change, audit_id: uuid.UUID, users: dict) -> None:
        """Collect the rows of one audit document, read through sync.wire."""
        doc = change.payload
        audit = wire.audit_values(doc, users[doc["auditor"]])
        submitted = audit["submitted_at"]
        self.audits.append({**audit, "id": audit_id, "status": "submitted", "updated_at": submitted,
                            "sync_source": key_text(change.key), "sync_sha256": change.sha256})
        answers = doc.get("answers") or {}
        columns = self.answer_columns
        self.answer_counts.append(len(answers))
        self.per_audit["audit_id"].append(audit_id)
        self.per_audit["updated_at"].append(submitted)
        columns["item_id"].extend(answers)
        for field in wire.ANSWER_FIELDS:
            values = map(dict.get, answers.values(), repeat(field.name))  # in C: no Python frame per answer
            columns[field.name].extend(values if field.kind.plain else map(field.kind.to_row, values))
        for item_id, shas in (doc.get("photos") or {}).items():
            for sha in shas:
                self.links.append({"audit_id": audit_id, "item_id": item_id, "sha256": sha, "added_at": submitted})
        for reading in doc.get("readings") or []:
            self.readings.append({**wire.reading_values(reading), "audit_id": audit_id, "recorded_at": submitted})

    @property
    def answers(self) -> list[dict]:
        """The answer rows as dicts (for checks and the benchmark's floor)."""
        columns = {**self.answer_columns, **{name: repeated(values, self.answer_counts)
                                             for name, values in self.per_audit.items()}}
        return [dict(zip(ANSWER_COLUMNS, row)) for row in zip(*(columns[name] for name in ANSWER_COLUMNS))]

    def flush(self, session: Session) -> None:
        """Insert what is collected so far and start again."""
        self.insert(session)
        self.__init__()

    def insert(self, session: Session) -> None:
        for model, rows in ((Audit, self.audits), (AnswerPhoto, self.links), (GpsReading, self.readings)):
            if rows:
                bulk_insert(session, model.__table__, rows)
                faults.point(f"{model.__tablename__} rows inserted")
            if model is Audit:
                self._insert_answers(session)

    def _insert_answers(self, session: Session) -> None:
        if not self.answer_counts:
            return
        table = Answer.__table__
        columns = {**self.answer_columns, **{
            name: repeated(driver_values(session, table.c[name], values), self.answer_counts)
            for name, values in self.per_audit.items()}}
        bulk_insert_columns(session, table, {name: columns[name] for name in ANSWER_COLUMNS}, ready=PER_AUDIT)
        faults.point("answer rows inserted")


def _same_audit_again(session: Session, change: Change, audit_id: uuid.UUID, stored: tuple, batch: list[Change],
                      pending: AuditRows) -> tuple:
    """Rule 2: identical content is a no-op; other content is a conflict. The version with the
    smallest key is kept, and each other content is one conflict against it, whatever the order."""
    source, sha = stored
    if sha == change.sha256:
        return stored
    incoming, current = change.key, key_of(source) if source else None
    if current is not None and incoming < current:
        pending.flush(session)  # the audit may still be waiting in this batch's bulk rows
        _replace_audit(session, change, audit_id)
        stored = (key_text(incoming), change.sha256)
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
            others[content] = (key_text(key), payload)
    wanted = {"|".join(sorted([kept_key, key])): (key, payload) for key, payload in others.values()}
    for row in session.execute(select(SyncConflict).where(SyncConflict.kind == "audit",
                                                          SyncConflict.entity_id == str(audit_id))).scalars():
        if row.detail_key not in wanted and row.resolved_at is None:
            session.delete(row)  # superseded: the kept version changed when a smaller key arrived
    session.flush()
    for detail_key, (key, payload) in wanted.items():
        record_conflict(session, "audit", str(audit_id), detail_key,
                        {"kept": kept_key, "other": key, "other_document": payload}, refresh=True)


def _replace_audit(session: Session, change: Change, audit_id: uuid.UUID) -> None:
    """Put the kept version's content in place, keeping the row (a revision may already name it)."""
    for model in (Answer, AnswerPhoto, GpsReading):
        session.execute(delete(model).where(model.audit_id == audit_id))
    rows = AuditRows()
    rows.add(change, audit_id, dict(session.execute(select(User.username, User.id)).all()))
    values = {k: v for k, v in rows.audits[0].items() if k != "id"}
    session.execute(update(Audit).where(Audit.id == audit_id).values(**values))
    rows.audits = []
    rows.insert(session)
    audit = session.get(Audit, audit_id)
    session.refresh(audit)
    refresh_review(session, audit)  # reviews already received still hold for the kept version


# --- reviews ---------------------------------------------------------------------------------------


def apply_reviews(session: Session, changes: list[Change]) -> set:
    """Store the decisions on audits held here and bring each audit's review state up to date."""
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
                                    decided_at=wire.parse_time(doc["decided_at"]), hlc=change.hlc,
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
