"""What each kind of change carries, built from the database and written back into it."""

from __future__ import annotations

from shapely import wkb
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from geo.models import Wilayah
from survey.audits.models import Answer, AnswerPhoto, Audit, ChecklistVersion, GpsReading
from survey.facilities.models import FACILITY_FIELDS, Facility
from sync import wire


def audit_document(session: Session, audit: Audit) -> dict:
    """A submitted audit, whole: what the hub stores and reviews (its fields are declared in sync.wire)."""
    answers = {a.item_id: wire.answer_json(a)
               for a in session.execute(select(Answer).where(Answer.audit_id == audit.id)).scalars()}
    photos: dict[str, list[str]] = {}
    for link in session.execute(select(AnswerPhoto).where(AnswerPhoto.audit_id == audit.id)
                                .order_by(AnswerPhoto.item_id, AnswerPhoto.added_at, AnswerPhoto.sha256)).scalars():
        photos.setdefault(link.item_id, []).append(link.sha256)
    readings = [wire.reading_json(r) for r in session.execute(select(GpsReading).where(GpsReading.audit_id == audit.id)
                                                              .order_by(GpsReading.taken_at, GpsReading.id)).scalars()]
    auditor = session.get(User, audit.auditor_id)
    return {**wire.audit_json(audit, auditor.username if auditor else None),
            "answers": answers, "photos": photos, "readings": readings}


def checklist_document(version: ChecklistVersion, release_state: str | None = None) -> dict:
    """A version's exact text, with its catalog state when a hub published or retired it."""
    doc = {"key": version.key, "checklist_id": version.checklist_id, "version": version.version,
           "sha256": version.sha256, "content": version.content}
    if release_state is not None:
        doc["release"] = {"state": release_state}
    return doc


def wilayah_document(region: Wilayah) -> dict:
    return {"code": region.code, "level": region.level, "name": region.name, "kind": region.kind,
            "parent_code": region.parent_code, "bps_code": region.bps_code,
            "boundary": region.boundary.hex() if region.boundary else None, "boundary_note": region.boundary_note}


def user_document(user: User) -> dict:
    return {"id": str(user.id), "username": user.username, "full_name": user.full_name, "role": user.role,
            "password_hash": user.password_hash, "active": user.active, "is_demo": user.is_demo,
            "kecamatan": user.kecamatan_codes}


def facility_values(facility: Facility) -> dict:
    """The synced fields of a facility, as JSON values."""
    return {field: getattr(facility, field) for field in FACILITY_FIELDS}


def wilayah_scope(region: Wilayah) -> str | None:
    """Kecamatan and desa go to the devices of their kecamatan; provinsi and kabkota to everyone."""
    if region.level == "kecamatan":
        return region.code
    if region.level == "desa":
        return region.parent_code
    return None


def boundary_bytes(hex_text: str | None) -> bytes | None:
    if not hex_text:
        return None
    data = bytes.fromhex(hex_text)
    wkb.loads(data)  # refuse a boundary that is not WKB before it reaches the map
    return data
