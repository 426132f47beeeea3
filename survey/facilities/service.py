"""Registering and editing facilities. Checks every field; never commits."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import auditlog
from app.auth.scope import in_scope
from geo.coordinates import check_position
from geo.geofence import KecamatanCheck, check_kecamatan
from geo.models import Wilayah
from geo.problems import GEO_PROBLEMS
from geo.service import locate_position, located_codes
from survey import signals
from survey.facilities.models import FACILITY_FIELDS, STATUSES, Facility
from survey.facilities.queries import facility as facility_by_id
from survey.kinds import KIND_CODES
from survey.problems import SURVEY_PROBLEMS

# NPSN (Nomor Pokok Sekolah Nasional) is 8 digits; other official ids are free text.
NPSN = re.compile(r"^\d{8}$")


@dataclass
class FacilityInput:
    """What a user may set on a facility."""

    kind: str
    name: str
    kecamatan_code: str
    official_id: str | None = None
    address: str | None = None
    desa_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    status: str = "active"


def create_facility(session: Session, data: FacilityInput, *, verified: bool, user_id=None,
                    device_id=None) -> Facility:
    """Add a facility after validating it; field registrations arrive unverified."""
    _validate(session, data, None)
    facility = Facility(**asdict(data), verified=verified, created_by=user_id, origin_device_id=device_id)
    facility.located_kecamatan_code, facility.located_desa_code = located_codes(session, data.lat, data.lon)
    session.add(facility)
    session.flush()
    signals.facility_changed.send(session, facility=facility, fields=list(FACILITY_FIELDS))
    auditlog.record(session, action="create", entity="facility", entity_id=facility.id, user_id=user_id,
                    device_id=device_id, changes={k: [None, v] for k, v in asdict(data).items() if v is not None})
    return facility


def update_facility(session: Session, facility: Facility, data: FacilityInput, *, user_id=None,
                    device_id=None) -> Facility:
    """Change a facility's fields, recording what changed."""
    _validate(session, data, facility)
    before = {k: getattr(facility, k) for k in asdict(data)}
    for key, value in asdict(data).items():
        setattr(facility, key, value)
    facility.located_kecamatan_code, facility.located_desa_code = located_codes(session, data.lat, data.lon)
    changes = auditlog.diff(before, asdict(data))
    if changes:
        signals.facility_changed.send(session, facility=facility, fields=sorted(changes))
        auditlog.record(session, action="update", entity="facility", entity_id=facility.id, changes=changes,
                        user_id=user_id, device_id=device_id)
    return facility


def verify_facility(session: Session, facility: Facility, *, user_id=None, device_id=None) -> None:
    """A supervisor confirms a facility registered in the field."""
    if not facility.verified:
        facility.verified = True
        signals.facility_changed.send(session, facility=facility, fields=["verified"])
        auditlog.record(session, action="verify", entity="facility", entity_id=facility.id,
                        changes={"verified": [False, True]}, user_id=user_id, device_id=device_id)


def visible_facility(session: Session, facility_id, scope: tuple[str, ...]) -> Facility:
    """A facility someone with this kecamatan scope may see (app.auth.scope); else 404."""
    found = facility_by_id(session, facility_id)
    if found is None or not in_scope(scope, found.kecamatan_code):
        raise SURVEY_PROBLEMS("facility.not_found")
    return found


def kecamatan_check(session: Session, kecamatan_code: str, lat: float | None, lon: float | None) -> KecamatanCheck:
    """The kecamatan chosen for a facility against the one its position lies in, by the loaded boundaries."""
    if lat is None or lon is None:
        return check_kecamatan(kecamatan_code, None, has_position=False, boundaries_loaded=False)
    found = locate_position(session, lon, lat)
    return check_kecamatan(kecamatan_code, found.get("kecamatan"), has_position=True,
                           boundaries_loaded="kecamatan" in found)


def check_facility(session: Session, data: FacilityInput, existing: Facility | None = None) -> None:
    """Normalise and check every field; raise AppError naming the field at the first problem."""
    _validate(session, data, existing)


def _validate(session: Session, data: FacilityInput, existing: Facility | None) -> None:
    data.name = (data.name or "").strip()
    data.official_id = (data.official_id or "").strip() or None
    data.address = (data.address or "").strip() or None
    data.desa_code = data.desa_code or None
    if data.kind not in KIND_CODES:
        raise SURVEY_PROBLEMS("facility.bad_kind", field="kind")
    if not 3 <= len(data.name) <= 160:
        raise SURVEY_PROBLEMS("facility.bad_name", field="name")
    if data.status not in STATUSES:
        raise SURVEY_PROBLEMS("facility.bad_status")
    if data.kind == "sekolah" and data.official_id and not NPSN.match(data.official_id):
        raise SURVEY_PROBLEMS("facility.bad_npsn", field="official_id")
    _validate_position(data.lat, data.lon)
    kecamatan = session.get(Wilayah, data.kecamatan_code or "")
    if kecamatan is None or kecamatan.level != "kecamatan":
        raise GEO_PROBLEMS("wilayah.unknown_kecamatan", field="kecamatan_code", codes=data.kecamatan_code or "-")
    if data.desa_code:
        desa = session.get(Wilayah, data.desa_code)
        if desa is None or desa.level != "desa" or desa.parent_code != kecamatan.code:
            raise SURVEY_PROBLEMS("wilayah.desa_not_in_kecamatan", field="kecamatan_code", code=data.desa_code,
                                  kecamatan=kecamatan.name)
    if data.official_id:
        stmt = select(Facility.id).where(Facility.kind == data.kind, Facility.official_id == data.official_id)
        other = session.execute(stmt).scalar_one_or_none()
        if other is not None and (existing is None or other != existing.id):
            raise SURVEY_PROBLEMS("facility.duplicate_official_id", field="official_id", id=data.official_id)


def _validate_position(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise SURVEY_PROBLEMS("facility.partial_position", field="lat")
    if lat is not None:
        check_position(lat, lon, field="lat")
