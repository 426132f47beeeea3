"""Merging facilities: every field edit is kept, each field is its latest edit by (hlc, device),
edits of one field on one base are a recorded conflict (docs/sync.md, rule 3). Never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import Wilayah
from survey.facilities.models import Facility
from sync import documents
from sync.changes import Change
from sync.conflict_rows import record_conflict
from sync.models import FacilityEdit
from sync.npsn import claimed_official_id, settle_official_id

CREATE_FIELDS = ("kind", "name", "kecamatan_code")


def apply_facilities(session: Session, changes: list[Change]) -> set:
    """Store and materialise the edits whose facility and regions are here; the others wait."""
    done = set()
    for change in sorted(changes, key=lambda c: (c.hlc, c.key)):
        doc = change.payload
        facility_id = uuid.UUID(doc["facility_id"])
        facility = session.get(Facility, facility_id)
        known = {f for (f,) in session.execute(select(FacilityEdit.field).where(FacilityEdit.facility_id == facility_id))}
        fields = doc.get("fields") or {}
        if facility is None and not set(CREATE_FIELDS) <= (known | set(fields)):
            continue  # an edit of a facility whose registration has not arrived yet
        for code_field in ("kecamatan_code", "desa_code"):
            code = fields.get(code_field)
            if code and session.get(Wilayah, code) is None:
                break
        else:
            claim_before = (facility.kind, claimed_official_id(session, facility)) if facility else (None, None)
            _store_edits(session, change, facility_id, fields, doc.get("base") or {})
            _materialise(session, facility_id, facility, set(fields), claim_before)
            done.add(change.key)
    return done


def _store_edits(session: Session, change: Change, facility_id: uuid.UUID, fields: dict, base: dict) -> None:
    device = uuid.UUID(change.origin_id)
    for name, value in fields.items():
        if name not in documents.FACILITY_FIELDS:
            continue  # only synced fields are edits (sync.trust refuses the others at the door)
        exists = session.execute(select(FacilityEdit.id).where(
            FacilityEdit.facility_id == facility_id, FacilityEdit.field == name, FacilityEdit.hlc == change.hlc,
            FacilityEdit.device_id == device)).first()
        if exists is None:
            session.add(FacilityEdit(facility_id=facility_id, field=name, value=value, hlc=change.hlc, device_id=device,
                                     base_hlc=base.get(name)))
    session.flush()


def _materialise(session: Session, facility_id: uuid.UUID, facility: Facility | None, touched: set,
                 claim_before: tuple = (None, None)) -> None:
    """Set each touched field to its winning edit; record sibling edits (same base) as a conflict;
    settle the NPSN the facility claimed before and claims now (`claim_before`: (kind, NPSN))."""
    edits = session.execute(select(FacilityEdit).where(FacilityEdit.facility_id == facility_id,
                                                       FacilityEdit.field.in_(touched))).scalars().all()
    winners: dict[str, FacilityEdit] = {}
    siblings: dict[tuple, list[FacilityEdit]] = {}
    for edit in edits:
        best = winners.get(edit.field)
        if best is None or (edit.hlc, str(edit.device_id)) > (best.hlc, str(best.device_id)):
            winners[edit.field] = edit
        siblings.setdefault((edit.field, edit.base_hlc), []).append(edit)
    if facility is None:
        facility = Facility(id=facility_id, verified=True, status="active")
        session.add(facility)
    with session.no_autoflush:  # an NPSN is only set once settled: the unique index must never see a clash
        for name, edit in winners.items():
            if name != "official_id" and name in documents.FACILITY_FIELDS:  # never `id`, never `__class__`
                setattr(facility, name, edit.value)
        if "official_id" in winners or "kind" in winners:
            facility.official_id = None
    session.flush()
    claimed = claimed_official_id(session, facility)
    for kind, official_id in {claim_before, (facility.kind, claimed)}:
        if kind and official_id:
            settle_official_id(session, kind, official_id)
    for (name, base), group in siblings.items():
        versions = {(e.hlc, str(e.device_id)) for e in group}
        if len(versions) > 1:
            record_conflict(session, "facility", str(facility_id), f"{name}:{base}", {
                "field": name, "base_hlc": base,
                "versions": sorted(({"hlc": e.hlc, "device": str(e.device_id), "value": e.value} for e in group),
                                   key=lambda v: (v["hlc"], v["device"]))}, refresh=True)
