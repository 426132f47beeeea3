"""Queries about audits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, joinedload

from survey.audits.models import Answer, AnswerPhoto, Audit, GpsReading


def audit(session: Session, audit_id: str) -> Audit | None:
    """The audit with this id, with its facility; None also for a malformed id."""
    try:
        key = uuid.UUID(str(audit_id))
    except ValueError:
        return None
    return session.execute(select(Audit).options(joinedload(Audit.facility)).where(Audit.id == key)).scalar_one_or_none()


def answers_of(session: Session, audit_id: uuid.UUID) -> dict[str, object]:
    """Answers by item id; a photo item's answer is the list of its photos' hashes."""
    answers = {item: value for item, value in session.execute(
        select(Answer.item_id, Answer.value).where(Answer.audit_id == audit_id)) if value is not None}
    for item_id, sha256 in session.execute(select(AnswerPhoto.item_id, AnswerPhoto.sha256).where(
            AnswerPhoto.audit_id == audit_id).order_by(AnswerPhoto.added_at, AnswerPhoto.sha256)):
        answers.setdefault(item_id, [])
        if isinstance(answers[item_id], list):
            answers[item_id].append(sha256)
    return answers


def notes_of(session: Session, audit_id: uuid.UUID) -> dict[str, str]:
    """Notes by item id."""
    stmt = select(Answer.item_id, Answer.note).where(Answer.audit_id == audit_id, Answer.note.is_not(None))
    return dict(session.execute(stmt).all())


def photos_of(session: Session, audit_id: uuid.UUID) -> dict[str, list[str]]:
    """Photo hashes attached to each item, in the order they were added."""
    result: dict[str, list[str]] = {}
    stmt = (select(AnswerPhoto.item_id, AnswerPhoto.sha256).where(AnswerPhoto.audit_id == audit_id)
            .order_by(AnswerPhoto.added_at, AnswerPhoto.sha256))
    for item_id, sha256 in session.execute(stmt):
        result.setdefault(item_id, []).append(sha256)
    return result


def readings_of(session: Session, audit_id: uuid.UUID) -> list[GpsReading]:
    """Every position reading of an audit, newest first."""
    stmt = select(GpsReading).where(GpsReading.audit_id == audit_id).order_by(GpsReading.taken_at.desc())
    return list(session.execute(stmt).scalars())


def open_revision_of(session: Session, audit_id: uuid.UUID) -> Audit | None:
    """A draft correcting this audit, if one is in progress."""
    stmt = select(Audit).where(Audit.revision_of == audit_id, Audit.status == "draft")
    return session.execute(stmt).scalars().first()


def drafts_of(session: Session, user_id: uuid.UUID) -> list[Audit]:
    """The user's audits in progress, most recently touched first."""
    stmt = (select(Audit).options(joinedload(Audit.facility)).where(Audit.auditor_id == user_id, Audit.status == "draft")
            .order_by(Audit.updated_at.desc()))
    return list(session.execute(stmt).scalars())


def history_of(session: Session, facility_id: uuid.UUID) -> list[Audit]:
    """Every audit of a facility, newest first, drafts included."""
    stmt = (select(Audit).options(joinedload(Audit.auditor)).where(Audit.facility_id == facility_id)
            .order_by(Audit.started_at.desc()))
    return list(session.execute(stmt).scalars())


def chain_of(session: Session, audit_row: Audit) -> list[Audit]:
    """The revisions an audit belongs to, oldest first: what it replaced and what replaced it."""
    root = audit_row
    while root.revision_of is not None:
        root = session.get(Audit, root.revision_of)
    chain, current = [root], root
    while True:
        nxt = session.execute(select(Audit).where(Audit.revision_of == current.id)).scalars().first()
        if nxt is None:
            return chain
        chain.append(nxt)
        current = nxt


@dataclass(frozen=True)
class LatestResult:
    """A facility's standing: its newest submitted audit per checklist, summed up."""

    result: str | None  # memenuhi only when every checklist's newest audit is memenuhi
    submitted_at: datetime
    checklists: dict[str, str | None]


def latest_results(session: Session, facility_ids: list[uuid.UUID]) -> dict[uuid.UUID, LatestResult]:
    """Per facility: the newest submitted audit of each checklist (a revision replaces what it corrects)."""
    if not facility_ids:
        return {}
    replaced = select(Audit.revision_of).where(Audit.revision_of.is_not(None), Audit.status == "submitted")
    stmt = (select(Audit.facility_id, Audit.checklist_key, Audit.result, Audit.submitted_at)
            .where(Audit.status == "submitted", Audit.facility_id.in_(facility_ids), Audit.id.not_in(replaced))
            .order_by(Audit.submitted_at))
    newest: dict[uuid.UUID, dict[str, tuple[str | None, datetime]]] = {}
    for facility_id, key, result, at in session.execute(stmt):
        newest.setdefault(facility_id, {})[key.split("@")[0]] = (result, at)
    summary = {}
    for facility_id, per_checklist in newest.items():
        results = [r for r, _ in per_checklist.values()]
        overall = "memenuhi" if all(r == "memenuhi" for r in results) else "belum_memenuhi"
        summary[facility_id] = LatestResult(overall, max(at for _, at in per_checklist.values()),
                                            {cid: r for cid, (r, _) in per_checklist.items()})
    return summary
