"""Settling who holds an NPSN (a facility's official id, unique per kind) from the edits alone. Never commits.

docs/sync.md, rule 3: among the facilities of one kind whose latest official_id edit claims an
NPSN, the earliest claim by (hlc, device) holds it; the others are held back and each is one open
conflict against the holder.
"""

from __future__ import annotations

import json

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from survey.facilities.models import Facility
from sync.conflict_rows import record_conflict
from sync.models import FacilityEdit, SyncConflict


def settle_official_id(session: Session, kind: str, official_id: str) -> None:
    """Who holds an NPSN follows from the edits, never from arrival order.

    Among the facilities of one kind whose latest official_id edit claims an NPSN, the earliest
    claim (smallest (hlc, device), facilities made outside sync first) holds it; every other
    claimant is held back (official_id empty, its edit kept in facility_edit) and shown as one open
    conflict against the holder. When a claim is given up, the next claimant gets the NPSN back and
    an open conflict that no longer holds disappears, as if the clash had never been.
    """
    claims = [(_latest_claim(session, f), f) for f in _candidates(session, kind, official_id)]
    claimants = sorted((key, f) for (value, key), f in claims if value == official_id)
    holder = claimants[0][1] if claimants else None
    for _, facility in claimants[1:]:
        facility.official_id = None
    session.flush()  # losers first: the unique index sees at most one holder at any moment
    if holder is not None and holder.official_id != official_id:
        holder.official_id = official_id
        session.flush()
    wanted = {str(loser.id): loser for _, loser in claimants[1:]}
    detail_key = f"official_id:{official_id}"
    for row in session.execute(select(SyncConflict).where(SyncConflict.kind == "facility",
                                                          SyncConflict.detail_key == detail_key)).scalars():
        if (row.resolved_at is None and row.detail.get("kind", kind) == kind and "facilities" in row.detail
                and row.entity_id not in wanted):
            session.delete(row)  # the clash no longer holds
    session.flush()
    for loser_id in sorted(wanted):
        record_conflict(session, "facility", loser_id, detail_key, {
            "field": "official_id", "base_hlc": None, "official_id": official_id, "kind": kind,
            "facilities": sorted([str(holder.id), loser_id]), "kept_by": str(holder.id),
            "versions": [{"hlc": "", "device": "", "value": official_id}, {"hlc": "", "device": "", "value": None}]},
            refresh=True)


def _candidates(session: Session, kind: str, official_id: str) -> list[Facility]:
    """Facilities of a kind that hold an NPSN or have ever been given it (JSON text compared: both dialects)."""
    edited = select(FacilityEdit.facility_id).where(
        FacilityEdit.field == "official_id", cast(FacilityEdit.value, String) == json.dumps(official_id))
    return list(session.execute(select(Facility).where(
        Facility.kind == kind, or_(Facility.official_id == official_id, Facility.id.in_(edited)))).scalars())


def claimed_official_id(session: Session, facility: Facility) -> str | None:
    """The NPSN a facility claims: its latest official_id edit, or what it holds if it was made outside sync."""
    return _latest_claim(session, facility)[0]


def _latest_claim(session: Session, facility: Facility) -> tuple[str | None, tuple]:
    """The facility's latest official_id edit, read once: (the NPSN it claims, its (hlc, device, id) key).
    A facility made outside sync claims what it holds, and its key sorts first."""
    row = session.execute(select(FacilityEdit.value, FacilityEdit.hlc, FacilityEdit.device_id).where(
        FacilityEdit.facility_id == facility.id, FacilityEdit.field == "official_id")
        .order_by(FacilityEdit.hlc.desc(), FacilityEdit.device_id.desc()).limit(1)).first()
    if row is None:
        return facility.official_id, ("", "", str(facility.id))
    return row[0], (row[1], str(row[2]), str(facility.id))
