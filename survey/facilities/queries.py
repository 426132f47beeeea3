"""Queries about facilities."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from geo.distance import haversine_m
from survey.facilities.models import Facility


@dataclass(frozen=True)
class FacilityFilter:
    """What the facility list shows: search text, kind, kecamatan scope, verification, position."""

    text: str = ""
    kind: str = ""
    kecamatan_codes: tuple[str, ...] = ()
    unverified_only: bool = False
    near: tuple[float, float] | None = None  # (lat, lon): order nearest first


@dataclass(frozen=True)
class FacilityRow:
    """A facility as listed, with its distance from the user when known."""

    facility: Facility
    distance_m: float | None


def facility(session: Session, facility_id: str) -> Facility | None:
    """The facility with this id, or None (also for a malformed id)."""
    try:
        return session.get(Facility, uuid.UUID(str(facility_id)))
    except ValueError:
        return None


def list_facilities(session: Session, flt: FacilityFilter, limit: int = 500) -> list[FacilityRow]:
    """Facilities matching the filter: nearest first when a position is known, else by name."""
    stmt = select(Facility).options(joinedload(Facility.kecamatan)).where(Facility.status == "active")
    if flt.kecamatan_codes:
        stmt = stmt.where(Facility.kecamatan_code.in_(flt.kecamatan_codes))
    if flt.kind:
        stmt = stmt.where(Facility.kind == flt.kind)
    if flt.unverified_only:
        stmt = stmt.where(Facility.verified.is_(False))
    if flt.text.strip():
        like = f"%{flt.text.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Facility.name).like(like), func.lower(Facility.official_id).like(like),
                              func.lower(Facility.address).like(like)))
    rows = [FacilityRow(f, _distance(f, flt.near)) for f in session.execute(stmt.order_by(Facility.name)).scalars()]
    if flt.near is not None:
        # Facilities without a position go last, still in name order.
        rows.sort(key=lambda r: (r.distance_m is None, r.distance_m or 0.0))
    return rows[:limit]


def facilities_near(session: Session, kind: str, lat: float, lon: float, radius_m: float) -> list[FacilityRow]:
    """Active facilities of a kind within `radius_m`: likely duplicates of a new registration."""
    # A box of ±0.01° (about 1.1 km) first, then the exact distance.
    pad = max(radius_m / 111_000 * 1.5, 0.001)
    stmt = select(Facility).where(Facility.kind == kind, Facility.status == "active",
                                  Facility.lat.between(lat - pad, lat + pad), Facility.lon.between(lon - pad, lon + pad))
    rows = [FacilityRow(f, _distance(f, (lat, lon))) for f in session.execute(stmt).scalars()]
    return sorted((r for r in rows if r.distance_m is not None and r.distance_m <= radius_m),
                  key=lambda r: r.distance_m)


def counts_by_kecamatan_and_kind(session: Session) -> dict[str, dict[str, int]]:
    """{kecamatan_code: {kind: count}} of active facilities."""
    stmt = (select(Facility.kecamatan_code, Facility.kind, func.count())
            .where(Facility.status == "active").group_by(Facility.kecamatan_code, Facility.kind))
    result: dict[str, dict[str, int]] = {}
    for code, kind, count in session.execute(stmt):
        result.setdefault(code, {})[kind] = count
    return result


def count_unverified(session: Session, kecamatan_codes: tuple[str, ...] = ()) -> int:
    """Facilities registered in the field that a supervisor has not yet confirmed."""
    stmt = select(func.count()).select_from(Facility).where(Facility.verified.is_(False), Facility.status == "active")
    if kecamatan_codes:
        stmt = stmt.where(Facility.kecamatan_code.in_(kecamatan_codes))
    return session.execute(stmt).scalar_one()


def _distance(f: Facility, near: tuple[float, float] | None) -> float | None:
    if near is None or f.lat is None or f.lon is None:
        return None
    return haversine_m(near[0], near[1], f.lat, f.lon)
