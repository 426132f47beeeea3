"""What each kind of change carries, built from the database and written back into it."""

from __future__ import annotations

import uuid
from datetime import datetime

from shapely import wkb
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from geo.models import Wilayah
from survey.audits.models import Answer, AnswerPhoto, Audit, ChecklistVersion, GpsReading
from survey.facilities.models import FACILITY_FIELDS, Facility


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def audit_document(session: Session, audit: Audit) -> dict:
    """A submitted audit, whole: what the hub stores and reviews."""
    answers = {a.item_id: {"value": a.value, "note": a.note}
               for a in session.execute(select(Answer).where(Answer.audit_id == audit.id)).scalars()}
    photos: dict[str, list[str]] = {}
    for link in session.execute(select(AnswerPhoto).where(AnswerPhoto.audit_id == audit.id)
                                .order_by(AnswerPhoto.item_id, AnswerPhoto.added_at, AnswerPhoto.sha256)).scalars():
        photos.setdefault(link.item_id, []).append(link.sha256)
    readings = [{"id": str(r.id), "lat": r.lat, "lon": r.lon, "accuracy_m": r.accuracy_m, "source": r.source,
                 "taken_at": iso(r.taken_at), "warnings": r.warnings}
                for r in session.execute(select(GpsReading).where(GpsReading.audit_id == audit.id)
                                         .order_by(GpsReading.taken_at, GpsReading.id)).scalars()]
    auditor = session.get(User, audit.auditor_id)
    return {
        "id": str(audit.id), "facility_id": str(audit.facility_id), "checklist_key": audit.checklist_key,
        "revision": audit.revision, "revision_of": str(audit.revision_of) if audit.revision_of else None,
        "auditor": auditor.username if auditor else None, "device_id": str(audit.device_id) if audit.device_id else None,
        "started_at": iso(audit.started_at), "submitted_at": iso(audit.submitted_at), "score": audit.score,
        "result": audit.result, "lat": audit.lat, "lon": audit.lon, "accuracy_m": audit.accuracy_m,
        "position_source": audit.position_source, "position_at": iso(audit.position_at),
        "position_warnings": list(audit.position_warnings or []),
        "answers": answers, "photos": photos, "readings": readings,
    }


def checklist_document(version: ChecklistVersion) -> dict:
    return {"key": version.key, "checklist_id": version.checklist_id, "version": version.version,
            "sha256": version.sha256, "content": version.content}


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


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def as_uuid(value) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def boundary_bytes(hex_text: str | None) -> bytes | None:
    if not hex_text:
        return None
    data = bytes.fromhex(hex_text)
    wkb.loads(data)  # refuse a boundary that is not WKB before it reaches the map
    return data
