"""What the rest of the app calls when it changes a synced record: the change enters the log.

Called inside the caller's transaction, so the record and its change commit together or not at all.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import User
from geo.models import Wilayah
from survey.audits.models import Audit, ChecklistVersion
from survey.facilities.models import Facility
from sync import documents, outbox
from sync.models import AuditReview, FacilityEdit, SyncChange


def audit_submitted(session: Session, audit: Audit) -> None:
    """A submitted audit travels whole and never changes again."""
    doc = documents.audit_document(session, audit)
    change = outbox.emit(session, "audit", str(audit.id), doc, audit.facility.kecamatan_code)
    audit.sync_source, audit.sync_sha256 = outbox.change_key(change), change.sha256


def checklist_used(session: Session, version: ChecklistVersion) -> None:
    """The text of a checklist version travels before the audits filled with it."""
    outbox.emit_if_changed(session, "checklist", version.key, documents.checklist_document(version), None)


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


def user_changed(session: Session, user: User) -> None:
    """Accounts travel so auditors can sign in offline and audits name a known auditor."""
    if user.is_demo or _role(session) != "hub":
        return  # demo accounts never leave their machine; accounts are made on hubs and travel down
    outbox.emit_if_changed(session, "user", str(user.id), documents.user_document(user), None)


def wilayah_changed(session: Session, region: Wilayah) -> None:
    """Regions and boundaries are published by hubs only."""
    outbox.emit_if_changed(session, "wilayah", region.code, documents.wilayah_document(region),
                           documents.wilayah_scope(region))


def review_decided(session: Session, review: AuditReview, kecamatan_code: str, audit_device: str | None) -> None:
    """A hub's decision travels down to the device that made the audit (and up the chain)."""
    doc = {"id": str(review.id), "audit_id": str(review.audit_id), "decision": review.decision,
           "comment": review.comment, "reviewer": review.reviewer, "decided_at": documents.iso(review.decided_at),
           "device_id": audit_device}
    outbox.emit(session, "review", str(review.audit_id), doc, kecamatan_code, hlc=review.hlc)


def publish_state(session: Session) -> dict[str, int]:
    """Put the current state of regions, users, checklists and facilities made outside the log
    (demo seed, imports before sync existed) into the log, so a new device gets everything."""
    counts = {"wilayah": 0, "user": 0, "checklist": 0, "facility": 0}
    for region in session.execute(select(Wilayah).order_by(func.length(Wilayah.code), Wilayah.code)).scalars():
        before = _count(session)
        wilayah_changed(session, region)
        counts["wilayah"] += _count(session) - before
    for user in session.execute(select(User).where(User.is_demo.is_(False))).scalars():
        before = _count(session)
        user_changed(session, user)
        counts["user"] += _count(session) - before
    for version in session.execute(select(ChecklistVersion)).scalars():
        before = _count(session)
        checklist_used(session, version)
        counts["checklist"] += _count(session) - before
    edited = set(session.execute(select(FacilityEdit.facility_id).distinct()).scalars())
    for facility in session.execute(select(Facility)).scalars():
        if facility.id not in edited:
            facility_changed(session, facility, list(documents.FACILITY_FIELDS))
            counts["facility"] += 1
    return counts


def _current_hlcs(session: Session, facility_id: uuid.UUID, fields: list[str]) -> dict[str, str]:
    stmt = (select(FacilityEdit.field, func.max(FacilityEdit.hlc)).where(FacilityEdit.facility_id == facility_id,
                                                                         FacilityEdit.field.in_(fields))
            .group_by(FacilityEdit.field))
    return dict(session.execute(stmt).all())


def _count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(SyncChange)).scalar_one()


def _role(session: Session) -> str:
    from sync.queries import self_device

    me = self_device(session)
    return me.role if me else "field"
