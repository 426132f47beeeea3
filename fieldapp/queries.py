"""What the field package reads: one named query per collection, each limited to a device's kecamatan by the
rules a pull follows (sync.service.changes_for), so the package holds no more and no less than a pull would."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.auth.models import User, user_kecamatan
from app.auth.scope import NAMED_AUDITORS
from geo.codes import parent_of
from geo.models import Wilayah
from survey.audits.models import Answer, AnswerPhoto, Audit, ChecklistVersion, GpsReading
from survey.facilities.models import Facility
from sync import wire
from sync.models import AuditReview

CHUNK = 500  # ids per IN (...): far below every driver's parameter limit


def ancestors(scope: Iterable[str]) -> set[str]:
    """The kabupaten/kota and provinsi codes the kecamatan of a scope lie in (codes nest: 36 > 36.73 > 36.73.01)."""
    found = set()
    for code in scope:
        parent = parent_of(code)
        while parent:
            found.add(parent)
            parent = parent_of(parent)
    return found


def regions(session: Session, scope: list[str]) -> list:
    """(code, name, level, parent_code, boundary, updated_at) of the scope's kecamatan, their desa/kelurahan and the
    regions they lie in. Kecamatan and desa are what sync.documents.wilayah_scope sends to this scope; of the
    regions above, which a pull sends to everyone, only those the scope lies in."""
    stmt = (select(Wilayah.code, Wilayah.name, Wilayah.level, Wilayah.parent_code, Wilayah.boundary, Wilayah.updated_at)
            .where(or_(and_(Wilayah.level == "kecamatan", Wilayah.code.in_(scope)),
                       and_(Wilayah.level == "desa", Wilayah.parent_code.in_(scope)),
                       and_(Wilayah.level.in_(("provinsi", "kabkota")), Wilayah.code.in_(sorted(ancestors(scope))))))
            .order_by(Wilayah.code))
    return list(session.execute(stmt))


def facilities(session: Session, scope: list[str]) -> list[Facility]:
    """The scope's facilities, without tombstones (a facility change goes to the devices of its kecamatan)."""
    stmt = (select(Facility).where(Facility.kecamatan_code.in_(scope), Facility.status != "deleted")
            .order_by(Facility.kecamatan_code, Facility.name, Facility.id))
    return list(session.execute(stmt).scalars())


def auditors(session: Session, scope: list[str], demo: bool) -> list:
    """(username, full_name) of the active accounts that may be named as an audit's auditor (auditors and
    supervisors, app.auth.scope.NAMED_AUDITORS) and that a pull sends to this scope: those with a kecamatan of it.
    Demo accounts only from a hub in demo mode (a hub out of demo mode never publishes them)."""
    of_scope = select(user_kecamatan.c.user_id).where(user_kecamatan.c.kecamatan_code.in_(scope))
    stmt = select(User.username, User.full_name).where(User.id.in_(of_scope), User.active.is_(True),
                                                       User.role.in_(sorted(NAMED_AUDITORS)))
    if not demo:
        stmt = stmt.where(User.is_demo.is_(False))
    return list(session.execute(stmt.order_by(User.username)))


def auditor_of_scope(session: Session, username: str, scope: list[str]) -> User | None:
    """The account with this username when it is one `auditors` lists for this scope (demo or not: the caller asks
    app.auth.service.may_sign_in, as sign-in does)."""
    of_scope = select(user_kecamatan.c.user_id).where(user_kecamatan.c.kecamatan_code.in_(scope))
    stmt = select(User).where(User.username == username, User.id.in_(of_scope), User.active.is_(True),
                              User.role.in_(sorted(NAMED_AUDITORS)))
    return session.execute(stmt).scalar_one_or_none()


def device_audits(session: Session, device_id: uuid.UUID, scope: list[str]) -> list:
    """(audit, auditor username) of the submitted audits this device made, of facilities in its scope (a review
    goes back to the device that made the audit, and only while the audit's kecamatan is in its scope)."""
    stmt = (select(Audit, User.username).join(User, User.id == Audit.auditor_id)
            .join(Facility, Facility.id == Audit.facility_id)
            .where(Audit.device_id == device_id, Audit.status == "submitted", Facility.kecamatan_code.in_(scope))
            .order_by(Audit.submitted_at, Audit.id))
    return list(session.execute(stmt))


def latest_reviews(session: Session, audit_ids: list[uuid.UUID]) -> dict[uuid.UUID, AuditReview]:
    """Each audit's latest decision, by HLC (sync rule 4), of these audits."""
    latest: dict[uuid.UUID, AuditReview] = {}
    for start in range(0, len(audit_ids), CHUNK):
        stmt = select(AuditReview).where(AuditReview.audit_id.in_(audit_ids[start:start + CHUNK]))
        for review in session.execute(stmt).scalars():
            held = latest.get(review.audit_id)
            if held is None or (review.hlc, str(review.id)) > (held.hlc, str(held.id)):
                latest[review.audit_id] = review
    return latest


def audit_documents(session: Session, audits: list[tuple[Audit, str]]) -> dict[uuid.UUID, dict]:
    """The sync documents of these (audit, auditor username) pairs, as sync.documents.audit_document writes each,
    in three queries for all of them rather than three per audit."""
    ids = [audit.id for audit, _ in audits]
    answers: dict = {audit_id: {} for audit_id in ids}
    photos: dict = {audit_id: {} for audit_id in ids}
    readings: dict = {audit_id: [] for audit_id in ids}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for answer in session.execute(select(Answer).where(Answer.audit_id.in_(chunk))).scalars():
            answers[answer.audit_id][answer.item_id] = wire.answer_json(answer)
        for link in session.execute(select(AnswerPhoto).where(AnswerPhoto.audit_id.in_(chunk)).order_by(
                AnswerPhoto.audit_id, AnswerPhoto.item_id, AnswerPhoto.added_at, AnswerPhoto.sha256)).scalars():
            photos[link.audit_id].setdefault(link.item_id, []).append(link.sha256)
        for reading in session.execute(select(GpsReading).where(GpsReading.audit_id.in_(chunk)).order_by(
                GpsReading.audit_id, GpsReading.taken_at, GpsReading.id)).scalars():
            readings[reading.audit_id].append(wire.reading_json(reading))
    return {audit.id: {**wire.audit_json(audit, username), "answers": answers[audit.id], "photos": photos[audit.id],
                       "readings": readings[audit.id]} for audit, username in audits}


def stored_versions(session: Session, keys: list[str]) -> dict[str, tuple[str, str]]:
    """(sha256, content) of the stored checklist versions among these keys: the text audits are filled with."""
    stmt = select(ChecklistVersion.key, ChecklistVersion.sha256, ChecklistVersion.content).where(
        ChecklistVersion.key.in_(keys))
    return {key: (sha256, content) for key, sha256, content in session.execute(stmt)} if keys else {}
