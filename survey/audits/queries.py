"""Queries about audits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from survey.audits.models import Answer, AnswerPhoto, Audit, GpsReading, Photo
from survey.facilities.models import Facility


def audit(session: Session, audit_id: str) -> Audit | None:
    """The audit with this id, with its facility; None also for a malformed id."""
    try:
        key = uuid.UUID(str(audit_id))
    except ValueError:
        return None
    return session.execute(select(Audit).options(joinedload(Audit.facility)).where(Audit.id == key)).scalar_one_or_none()


@dataclass(frozen=True)
class AnswerSheet:
    """What the audit page shows of an audit's answers, read in two queries however many photos it has."""

    answers: dict[str, object]  # by address (item id, or rep[2]/item); a photo item's answer is its photos' hashes
    notes: dict[str, str]  # by address
    versions: dict[str, int]  # by address; an address without a row is at version 0
    photos: dict[str, list[str]]  # hashes by address, in the order they were added
    photo_times: dict[str, datetime | None]  # when each photo was taken (from its EXIF), by hash
    touched: frozenset[str] = frozenset()  # every address ever saved, cleared ones too (defaults apply elsewhere)

    @classmethod
    def empty(cls) -> AnswerSheet:
        """No answers, notes or photos."""
        return cls({}, {}, {}, {}, {})


def answer_sheet(session: Session, audit_id: uuid.UUID) -> AnswerSheet:
    """An audit's answers, notes, versions and photos: one query for the answers, one for the photos."""
    rows = session.execute(select(Answer.item_id, Answer.value, Answer.note, Answer.version)
                           .where(Answer.audit_id == audit_id)).all()
    photos: dict[str, list[str]] = {}
    times: dict[str, datetime | None] = {}
    stmt = (select(AnswerPhoto.item_id, AnswerPhoto.sha256, Photo.taken_at)
            .outerjoin(Photo, Photo.sha256 == AnswerPhoto.sha256).where(AnswerPhoto.audit_id == audit_id)
            .order_by(AnswerPhoto.added_at, AnswerPhoto.sha256))
    for item_id, sha256, taken_at in session.execute(stmt):
        photos.setdefault(item_id, []).append(sha256)
        times[sha256] = taken_at
    values = {row.item_id: row.value for row in rows if row.value is not None}
    return AnswerSheet(answers=_with_photos(values, photos),
                       notes={row.item_id: row.note for row in rows if row.note is not None},
                       versions={row.item_id: row.version for row in rows}, photos=photos, photo_times=times,
                       touched=frozenset(row.item_id for row in rows) | frozenset(photos))


def _with_photos(values: dict[str, object], photos: dict[str, list[str]]) -> dict[str, object]:
    """Answers by item id: an item's photos become its answer, or join a list answer (never a single value)."""
    answers = dict(values)
    for item_id, hashes in photos.items():
        answers.setdefault(item_id, [])
        if isinstance(answers[item_id], list):
            answers[item_id].extend(hashes)
    return answers


def answers_of(session: Session, audit_id: uuid.UUID) -> dict[str, object]:
    """Answers by item id; a photo item's answer is the list of its photos' hashes."""
    return answer_sheet(session, audit_id).answers


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


# Which submitted audits count for a facility's standing (docs/architecture.md, "Map"):
# "submitted" every one (the facility list); "not_rejected" what a field device relies on (the hub may
# not have decided yet, and a rejected audit is void); "approved" what a hub's planner relies on.
COUNTED = ("submitted", "not_rejected", "approved")


@dataclass(frozen=True)
class LatestResult:
    """A facility's standing: its newest submitted audit per checklist, summed up."""

    result: str | None  # memenuhi only when every checklist's newest audit is memenuhi
    submitted_at: datetime
    checklists: dict[str, str | None]
    # The newest counted audit (across checklists): what the map card and the exports show.
    audit_id: uuid.UUID | None = None
    score: float | None = None
    review_status: str | None = None


def where_counted(stmt, counted: str):
    """Restrict a select over Audit to the submitted audits that count."""
    if counted not in COUNTED:
        raise ValueError(f"unknown audit filter {counted!r}")
    stmt = stmt.where(Audit.status == "submitted")
    if counted == "not_rejected":
        stmt = stmt.where(or_(Audit.review_status.is_(None), Audit.review_status != "rejected"))
    elif counted == "approved":
        stmt = stmt.where(Audit.review_status == "approved")
    return stmt


def latest_results(session: Session, facility_ids: list[uuid.UUID] | None, counted: str = "submitted",
                   period: tuple[datetime, datetime] | None = None) -> dict[uuid.UUID, LatestResult]:
    """Per facility: the newest counted audit of each checklist (a counted revision replaces what it corrects).

    `facility_ids` None means every facility (exports); an empty list means none. `period` [start, end)
    limits the audits to those submitted in it (an export for one year).
    """
    if facility_ids is not None and not facility_ids:
        return {}
    replaced = where_counted(select(Audit.revision_of).where(Audit.revision_of.is_not(None)), counted)
    stmt = where_counted(select(Audit.facility_id, Audit.checklist_key, Audit.result, Audit.submitted_at, Audit.id,
                           Audit.score, Audit.review_status).where(Audit.id.not_in(replaced)), counted)
    if facility_ids is not None:
        stmt = stmt.where(Audit.facility_id.in_(facility_ids))
    if period is not None:
        stmt = stmt.where(Audit.submitted_at >= period[0], Audit.submitted_at < period[1])
    newest: dict[uuid.UUID, dict[str, tuple]] = {}
    for facility_id, key, result, at, audit_id, score, review in session.execute(stmt.order_by(Audit.submitted_at)):
        newest.setdefault(facility_id, {})[key.split("@")[0]] = (result, at, audit_id, score, review)
    summary = {}
    for facility_id, per_checklist in newest.items():
        results = [row[0] for row in per_checklist.values()]
        overall = "memenuhi" if all(r == "memenuhi" for r in results) else "belum_memenuhi"
        last = max(per_checklist.values(), key=lambda row: row[1])
        summary[facility_id] = LatestResult(overall, last[1], {cid: row[0] for cid, row in per_checklist.items()},
                                            audit_id=last[2], score=last[3], review_status=last[4])
    return summary


def awaiting_review(session: Session, facility_ids: list[uuid.UUID] | None) -> dict[uuid.UUID, int]:
    """Per facility: submitted audits no reviewer has decided on yet (a hub shows them beside the approved result)."""
    stmt = (select(Audit.facility_id, func.count()).where(Audit.status == "submitted", Audit.review_status.is_(None))
            .group_by(Audit.facility_id))
    if facility_ids is not None:
        if not facility_ids:
            return {}
        stmt = stmt.where(Audit.facility_id.in_(facility_ids))
    return dict(session.execute(stmt).all())


def audited_by_kecamatan(session: Session, since: datetime, counted: str, kecamatan_prefix: str = "",
                         kinds: tuple[str, ...] = ()) -> dict[str, int]:
    """{kecamatan_code: active facilities with a counted audit submitted since `since`} (audit coverage)."""
    stmt = where_counted(select(Facility.kecamatan_code, func.count(func.distinct(Audit.facility_id)))
                         .join(Facility, Facility.id == Audit.facility_id)
                         .where(Audit.submitted_at >= since, Facility.status == "active"), counted)
    if kecamatan_prefix:
        stmt = stmt.where(Facility.kecamatan_code.like(f"{kecamatan_prefix}%"))
    if kinds:
        stmt = stmt.where(Facility.kind.in_(kinds))
    return dict(session.execute(stmt.group_by(Facility.kecamatan_code)).all())


def photo_visible_in(session: Session, sha256: str, kecamatan_codes: tuple[str, ...], user_id: uuid.UUID) -> bool:
    """Whether a photo belongs to an audit of these kecamatan that this user may open (a draft: only its auditor's)."""
    stmt = (select(AnswerPhoto.sha256).join(Audit, Audit.id == AnswerPhoto.audit_id)
            .join(Facility, Facility.id == Audit.facility_id)
            .where(AnswerPhoto.sha256 == sha256, Facility.kecamatan_code.in_(kecamatan_codes),
                   or_(Audit.status != "draft", Audit.auditor_id == user_id)).limit(1))
    return session.execute(stmt).first() is not None


# --- Review and return (issue #12) ----------------------------------------------------------------


def corrected_select():
    """Ids of audits a submitted correction replaces: a return is settled once its correction is sent."""
    return select(Audit.revision_of).where(Audit.revision_of.is_not(None), Audit.status == "submitted")


def returned_audits(session: Session, *, auditor_id: uuid.UUID | None = None,
                    facility_id: uuid.UUID | None = None) -> list[Audit]:
    """Submitted audits the hub returned and no submitted correction replaces yet, latest decision first.

    The decision reaches a field device as a synced review (sync.apply_audits.refresh_review sets review_status),
    so the same query answers on the device and on the hub.
    """
    stmt = (select(Audit).options(joinedload(Audit.facility))
            .where(Audit.status == "submitted", Audit.review_status == "returned", Audit.id.not_in(corrected_select()))
            .order_by(Audit.reviewed_at.desc(), Audit.submitted_at.desc()))
    if auditor_id is not None:
        stmt = stmt.where(Audit.auditor_id == auditor_id)
    if facility_id is not None:
        stmt = stmt.where(Audit.facility_id == facility_id)
    return list(session.execute(stmt).scalars())


def corrections_of(session: Session, audit_ids: list[uuid.UUID]) -> dict[uuid.UUID, Audit]:
    """For each of these audits, the correction made of it (a draft in progress or a submitted one)."""
    if not audit_ids:
        return {}
    stmt = select(Audit).where(Audit.revision_of.in_(audit_ids)).order_by(Audit.started_at)
    return {row.revision_of: row for row in session.execute(stmt).scalars()}


def photo_counts(session: Session, audit_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Photos attached to each of these audits, in one query."""
    if not audit_ids:
        return {}
    stmt = (select(AnswerPhoto.audit_id, func.count()).where(AnswerPhoto.audit_id.in_(audit_ids))
            .group_by(AnswerPhoto.audit_id))
    return dict(session.execute(stmt).all())


def checklist_titles(session: Session, keys) -> dict:
    """The bilingual title of each checklist version: lists name what was audited, never a key like ktr@1."""
    from survey import registry  # the stored version's text, parsed once per process

    titles = {}
    for key in set(keys):
        try:
            titles[key] = registry.for_audit(session, key).title
        except KeyError:
            continue
    return titles


def photo_mime(session: Session, sha256: str) -> str | None:
    """The stored kind of a photo or file item's upload (None when unknown)."""
    return session.execute(select(Photo.mime).where(Photo.sha256 == sha256)).scalar_one_or_none()


def last_saved(session: Session, audit: Audit) -> dict[str, object]:
    """The answers of the auditor's audit saved before this one with the same checklist (any version), for
    ${last-saved#x}: the newest submitted one, as ODK takes the last form saved on the device."""
    same_checklist = Audit.checklist_key.startswith(audit.checklist_id + "@", autoescape=True)
    previous = session.execute(
        select(Audit.id).where(Audit.auditor_id == audit.auditor_id, Audit.id != audit.id,
                               Audit.status == "submitted", same_checklist)
        .order_by(Audit.submitted_at.desc()).limit(1)).scalar_one_or_none()
    return answers_of(session, previous) if previous is not None else {}
