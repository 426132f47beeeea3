"""Facilities located in the loaded kecamatan and desa boundaries: after a boundary import and on demand."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app import auditlog
from geo.service import LOCATED_LEVELS, LocateReport, region_index
from survey.facilities.models import Facility


def boundaries_changed(session: Session, level: str) -> LocateReport:
    """geo.signals.boundaries_changed: the boundaries of a level were imported; locate every facility again."""
    return relocate_facilities(session)


def relocate_facilities(session: Session) -> LocateReport:
    """Locate every facility in the loaded kecamatan and desa boundaries (bulk), updating what changed."""
    report = LocateReport()
    rows = session.execute(select(Facility.id, Facility.lon, Facility.lat, Facility.kecamatan_code,
                                  Facility.located_kecamatan_code, Facility.located_desa_code)).all()
    placed = [row for row in rows if row.lat is not None and row.lon is not None]
    report.facilities = len(placed)
    located = {}
    for level in LOCATED_LEVELS:
        index = region_index(session, level)
        codes = index.locate_many([r.lon for r in placed], [r.lat for r in placed]) if len(index) else []
        located[level] = dict(zip((r.id for r in placed), codes))
        if level == "kecamatan" and len(index):
            report.in_kecamatan = sum(code is not None for code in codes)
            report.outside = len(codes) - report.in_kecamatan
            report.mismatched = sum(code is not None and code != r.kecamatan_code for r, code in zip(placed, codes))
    changes = []
    for row in rows:
        new = (located["kecamatan"].get(row.id), located["desa"].get(row.id))
        if new != (row.located_kecamatan_code, row.located_desa_code):
            changes.append({"key": row.id, "kecamatan": new[0], "desa": new[1]})
    report.changed = len(changes)
    if changes:
        _store_located(session, changes)
    return report


def relocate(session: Session) -> LocateReport:
    """Relocate every facility and record that in the audit log (`flask geo relocate`)."""
    report = relocate_facilities(session)
    auditlog.record(session, action="relocate", entity="facility", entity_id="*",
                    changes={"facilities": report.facilities, "changed": report.changed,
                             "outside": report.outside, "mismatched": report.mismatched})
    return report


def _store_located(session: Session, changes: list[dict]) -> None:
    """Write located codes in one executemany.

    A derived value, not an edit: updated_at is kept (set to itself), so sync sees no new version.
    """
    table = Facility.__table__
    stmt = (update(table).where(table.c.id == bindparam("key"))
            .values(located_kecamatan_code=bindparam("kecamatan"), located_desa_code=bindparam("desa"),
                    updated_at=table.c.updated_at))
    session.execute(stmt, changes)
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Facility):
            session.expire(instance, ["located_kecamatan_code", "located_desa_code"])
