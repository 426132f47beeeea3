"""Loading boundaries into the wilayah table and locating facilities in them. Never commits.

Request-path code may import this module: it needs shapely and SQLAlchemy only (the GIS stack that reads
files lives in geo.boundaries, which only `flask geo import` loads).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import auditlog
from geo import signals
from geo.codes import LEVELS, desa_kind, kabkota_kind, level_of, parent_of
from geo.locate import Region, RegionIndex
from geo.models import Wilayah
from geo.problems import GEO_PROBLEMS

if TYPE_CHECKING:
    from geo.boundaries import BoundaryFile

# Levels facilities are located in, coarsest first.
LOCATED_LEVELS = ("kecamatan", "desa")
# Codes per IN (...) query: well under every database's limit on bound parameters.
_CHUNK = 500


@dataclass
class LocateReport:
    """What locating every facility found."""

    facilities: int = 0  # with a position
    changed: int = 0  # whose located kecamatan or desa changed
    in_kecamatan: int = 0
    outside: int = 0  # in no kecamatan loaded (only counted when kecamatan boundaries are loaded)
    mismatched: int = 0  # in another kecamatan than the registered one


@dataclass
class ImportReport:
    """What a boundary import did."""

    source: str
    level: str
    features: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    parents_created: list[str] = field(default_factory=list)  # "36.73 Kota Serang"
    area_km2: float = 0.0
    repairs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    located: LocateReport = field(default_factory=LocateReport)


def import_boundaries(session: Session, boundary_file: BoundaryFile, level: str, source_note: str) -> ImportReport:
    """Create or update the file's regions by code (and missing regions above them), then announce the change."""
    if boundary_file.level != level or level not in LOCATED_LEVELS:
        raise ValueError(f"cannot import a {boundary_file.level} file as {level}")
    report = ImportReport(source=boundary_file.source, level=level, features=len(boundary_file.features),
                          area_km2=round(boundary_file.area_km2, 3), repairs=list(boundary_file.repairs),
                          notes=list(boundary_file.notes))
    report.parents_created = _create_parents(session, boundary_file)
    existing = _by_code(session, [feature.code for feature in boundary_file.features])
    note = source_note[:200]
    for feature in boundary_file.features:
        values = {"level": level, "name": feature.name[:120], "parent_code": feature.parent_code,
                  "kind": desa_kind(feature.code) if level == "desa" else None,
                  "boundary": feature.geometry, "boundary_note": note}
        region = existing.get(feature.code)
        if region is None:
            session.add(Wilayah(code=feature.code, **values))
            report.created += 1
        elif _assign(region, values):
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    # What lies in the boundaries (facilities) is located again by its own package, in this transaction.
    for _receiver, located in signals.boundaries_changed.send(session, level=level):
        if isinstance(located, LocateReport):
            report.located = located
    auditlog.record(session, action="import", entity="wilayah", entity_id=boundary_file.source[:64],
                    changes={"level": level, "features": report.features, "created": report.created,
                             "updated": report.updated, "unchanged": report.unchanged,
                             "parents_created": report.parents_created, "repairs": len(report.repairs),
                             "source_note": note, "facilities_changed": report.located.changed})
    return report


def _create_parents(session: Session, boundary_file: BoundaryFile) -> list[str]:
    """Add the regions above the features that the database lacks, named by the file; else geo.unknown_parent."""
    wanted = set()
    for feature in boundary_file.features:
        code = feature.parent_code
        while code is not None:
            wanted.add(code)
            code = parent_of(code)
    present = set(_by_code(session, sorted(wanted)))
    missing = sorted(wanted - present, key=lambda code: (len(code), code))  # provinsi first
    unnamed = [code for code in missing if not boundary_file.ancestors.get(code)]
    if unnamed:
        raise GEO_PROBLEMS("geo.unknown_parent",
                           codes=", ".join(unnamed[:5]) + (f" … (+{len(unnamed) - 5})" if len(unnamed) > 5 else ""))
    created = []
    for code in missing:
        level = level_of(code)
        name = boundary_file.ancestors[code][:120]
        session.add(Wilayah(code=code, level=level, name=name, parent_code=parent_of(code),
                            kind=kabkota_kind(code) if level == "kabkota" else None))
        session.flush()  # the parent row exists before its children refer to it
        created.append(f"{code} {name}")
    return created


def _by_code(session: Session, codes: list[str]) -> dict[str, Wilayah]:
    """The loaded wilayah with these codes."""
    found: dict[str, Wilayah] = {}
    for start in range(0, len(codes), _CHUNK):
        stmt = select(Wilayah).where(Wilayah.code.in_(codes[start:start + _CHUNK]))
        found.update((region.code, region) for region in session.execute(stmt).scalars())
    return found


def _assign(region: Wilayah, values: dict) -> bool:
    """Set the values that differ; True when any did (unchanged rows keep their updated_at)."""
    changed = False
    for key, value in values.items():
        if getattr(region, key) != value:
            setattr(region, key, value)
            changed = True
    return changed


# -- locating ----------------------------------------------------------------------------------------

_indexes: dict[tuple[str, str], tuple[tuple, RegionIndex]] = {}
_indexes_lock = threading.Lock()


def region_index(session: Session, level: str) -> RegionIndex:
    """The boundaries of a level as a RegionIndex, rebuilt only when they changed (cached per database)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level}")
    key = (session.get_bind().url.render_as_string(hide_password=True), level)
    stamp = _boundary_stamp(session, level)
    cached = _indexes.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    index = RegionIndex(_boundaries(session, level))
    with _indexes_lock:
        _indexes[key] = (stamp, index)
    return index


def _boundary_stamp(session: Session, level: str) -> tuple:
    """(count, newest updated_at) of a level's boundaries: changes whenever one is added, changed or removed."""
    stmt = select(func.count(), func.max(Wilayah.updated_at)).where(
        Wilayah.level == level, Wilayah.boundary.is_not(None))
    count, newest = session.execute(stmt).one()
    return count, str(newest)


def _boundaries(session: Session, level: str) -> list[tuple[str, str, bytes]]:
    """(code, name, boundary WKB) of every region of a level that has a boundary."""
    stmt = select(Wilayah.code, Wilayah.name, Wilayah.boundary).where(
        Wilayah.level == level, Wilayah.boundary.is_not(None))
    return [(code, name, boundary) for code, name, boundary in session.execute(stmt)]


def locate_position(session: Session, lon: float, lat: float) -> dict[str, Region | None]:
    """The kecamatan and desa/kelurahan at a point, for each of those levels that has boundaries loaded."""
    found = {}
    for level in LOCATED_LEVELS:
        index = region_index(session, level)
        if len(index):
            found[level] = index.locate(lon, lat)
    return found


def located_codes(session: Session, lat: float | None, lon: float | None) -> tuple[str | None, str | None]:
    """(located_kecamatan_code, located_desa_code) for a facility at (lat, lon), for the facility service."""
    if lat is None or lon is None:
        return None, None
    found = locate_position(session, lon, lat)
    kecamatan, desa = found.get("kecamatan"), found.get("desa")
    return (kecamatan.code if kecamatan else None), (desa.code if desa else None)
