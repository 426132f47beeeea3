"""Queries about indicators, and the facility and audit records the engine computes from."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from geo.models import Wilayah
from indicators.definitions import IndicatorSet, load_text
from indicators.engine import AuditRecord, Entry, FacilityRecord, Value
from indicators.models import (EntryEvidence, IndicatorCoverage, IndicatorEntry, IndicatorPoints, IndicatorSetVersion, IndicatorValue,
                               IndicatorYear)
from survey.audits.models import Audit
from survey.facilities.models import Facility

_PARSED: dict[str, IndicatorSet] = {}  # by sha256: a stored text never changes, parse it once


def stored_set(session: Session, set_id: str) -> IndicatorSet | None:
    """The indicator set as stored when first used."""
    row = session.get(IndicatorSetVersion, set_id)
    if row is None:
        return None
    if row.sha256 not in _PARSED:
        _PARSED[row.sha256] = load_text(row.content, f"{set_id}.yaml")
    return _PARSED[row.sha256]


def stored_sets(session: Session) -> list[IndicatorSet]:
    """Every stored indicator set, oldest first (what the review hook computes with; files are never read there)."""
    ids = session.execute(select(IndicatorSetVersion.id).order_by(IndicatorSetVersion.applies_from, IndicatorSetVersion.id)).scalars()
    return [stored_set(session, set_id) for set_id in list(ids)]


def year_row(session: Session, year: int) -> IndicatorYear | None:
    """Which set a year is computed with, if it has been computed."""
    return session.get(IndicatorYear, year)


def years(session: Session) -> list[int]:
    """Years with indicator values, newest first."""
    return list(session.execute(select(IndicatorYear.year).order_by(IndicatorYear.year.desc())).scalars())


def points_of(session: Session, set_id: str) -> dict[int, int]:
    """Current points per indicator number of a stored set."""
    stmt = select(IndicatorPoints.number, IndicatorPoints.points).where(IndicatorPoints.set_id == set_id)
    return dict(session.execute(stmt).all())


def values_of(session: Session, set_id: str, year: int, codes: Iterable[str] | None = None) -> dict[tuple[int, str], Value]:
    """Stored values by (indicator number, wilayah code)."""
    stmt = select(IndicatorValue).where(IndicatorValue.set_id == set_id, IndicatorValue.year == year)
    if codes is not None:
        stmt = stmt.where(IndicatorValue.wilayah_code.in_(list(codes)))
    return {(row.number, row.wilayah_code): Value(row.value, row.numerator, row.denominator, row.basis)
            for row in session.execute(stmt).scalars()}


def entries_of(session: Session, set_id: str, year: int, codes: Iterable[str]) -> dict[tuple[int, str], IndicatorEntry]:
    """Entered values by (indicator number, wilayah code), with their evidence."""
    stmt = (select(IndicatorEntry).options(joinedload(IndicatorEntry.evidence).joinedload(EntryEvidence.file))
            .where(IndicatorEntry.set_id == set_id, IndicatorEntry.year == year, IndicatorEntry.wilayah_code.in_(list(codes))))
    return {(row.number, row.wilayah_code): row for row in session.execute(stmt).unique().scalars()}


def entry(session: Session, entry_id) -> IndicatorEntry | None:
    """An entered value by id; None for a malformed id."""
    try:
        return session.get(IndicatorEntry, uuid.UUID(str(entry_id)))
    except ValueError:
        return None


def as_entries(rows: Iterable[IndicatorEntry]) -> list[Entry]:
    """Stored entries as engine entries."""
    return [Entry(r.wilayah_code, r.value, r.numerator, r.denominator) for r in rows]


def kecamatan_of(session: Session, kabkota_code: str) -> list[Wilayah]:
    """The kecamatan of a kabupaten/kota, by code."""
    stmt = select(Wilayah).where(Wilayah.parent_code == kabkota_code, Wilayah.level == "kecamatan").order_by(Wilayah.code)
    return list(session.execute(stmt).scalars())


def kabkota_of_kecamatan(session: Session, codes: Iterable[str]) -> set[str]:
    """The kabupaten/kota the kecamatan lie in."""
    codes = list(codes)
    if not codes:
        return set()
    stmt = select(Wilayah.parent_code).where(Wilayah.code.in_(codes), Wilayah.level == "kecamatan")
    return {code for code in session.execute(stmt).scalars() if code}


def counted_facilities(session: Session, kecamatan_codes: Iterable[str]) -> list[FacilityRecord]:
    """Facilities that count in denominators: active and confirmed by a supervisor."""
    stmt = select(Facility.id, Facility.kind, Facility.kecamatan_code).where(*_counted(kecamatan_codes))
    return [FacilityRecord(*row) for row in session.execute(stmt)]


def counted_facility_rows(session: Session, kecamatan_codes: Iterable[str], kinds: Iterable[str] | None = None) -> list[Facility]:
    """The counted facilities themselves (with their kecamatan), by kecamatan, kind and name."""
    stmt = (select(Facility).options(joinedload(Facility.kecamatan)).where(*_counted(kecamatan_codes))
            .order_by(Facility.kecamatan_code, Facility.kind, Facility.name))
    if kinds is not None:
        stmt = stmt.where(Facility.kind.in_(list(kinds)))
    return list(session.execute(stmt).scalars())


def audit_records(session: Session, kecamatan_codes: Iterable[str], zone: datetime.tzinfo,
                  year: int | None = None, kinds: Iterable[str] | None = None) -> list[AuditRecord]:
    """Submitted audits of the counted facilities of these kecamatan, with their local year.

    With `year`, audits submitted from that year on, and the earlier audits their revision chains
    start from: a chain belongs to the year of its first audit, which must be known to place it.
    """
    stmt = _audit_columns().join(Facility, Facility.id == Audit.facility_id).where(Audit.status == "submitted",
                                                                                   *_counted(kecamatan_codes))
    if kinds is not None:
        stmt = stmt.where(Facility.kind.in_(list(kinds)))
    if year is not None:
        start = datetime.datetime(year, 1, 1, tzinfo=zone) - datetime.timedelta(days=1)  # margin for odd zones
        stmt = stmt.where(Audit.submitted_at >= start)
    rows = {row[0]: row for row in session.execute(stmt)}
    todo = {row[7] for row in rows.values() if row[7] is not None and row[7] not in rows}
    while todo:  # the ancestors of revisions whose earlier audit was submitted before the year
        found = []
        for chunk in _chunks(sorted(todo, key=str)):
            found += session.execute(_audit_columns().where(Audit.id.in_(chunk), Audit.submitted_at.is_not(None))).all()
        rows.update((row[0], row) for row in found)
        todo = {row[7] for row in found if row[7] is not None and row[7] not in rows}
    return [AuditRecord(audit_id, facility_id, key.split("@")[0], result, review, submitted_at,
                        submitted_at.astimezone(zone).year, revision or 1, revision_of)
            for audit_id, facility_id, key, result, review, submitted_at, revision, revision_of in rows.values()]


def _audit_columns():
    return select(Audit.id, Audit.facility_id, Audit.checklist_key, Audit.result, Audit.review_status,
                  Audit.submitted_at, Audit.revision, Audit.revision_of)


def _counted(kecamatan_codes: Iterable[str]) -> tuple:
    """Facilities that count: active, confirmed, in these kecamatan."""
    return (Facility.kecamatan_code.in_(list(kecamatan_codes)), Facility.status == "active", Facility.verified.is_(True))


def coverage_of(session: Session, year: int, codes: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Stored audit coverage per kecamatan: (audited, facilities)."""
    stmt = select(IndicatorCoverage).where(IndicatorCoverage.year == year, IndicatorCoverage.wilayah_code.in_(list(codes)))
    return {row.wilayah_code: (row.audited, row.facilities) for row in session.execute(stmt).scalars()}


@dataclass(frozen=True)
class AuditPlace:
    """Where a reviewed audit lies: its kecamatan and the local year it was submitted."""

    kecamatan_code: str
    submitted_at: datetime.datetime


def reviewed_audit_places(session: Session, audit_ids: Iterable[uuid.UUID]) -> list[AuditPlace]:
    """Kecamatan and the chain's first submission time of those audits that have a review (others cannot
    change a value). Revision chains are walked up in bulk, one query per level."""
    ids = list(audit_ids)
    rows = []
    for start in range(0, len(ids), 500):
        stmt = (select(Facility.kecamatan_code, Audit.submitted_at, Audit.revision_of).join(Facility, Facility.id == Audit.facility_id)
                .where(Audit.id.in_(ids[start:start + 500]), Audit.review_status.is_not(None), Audit.submitted_at.is_not(None)))
        rows += session.execute(stmt).all()
    roots = _chain_roots(session, {revision_of for _, _, revision_of in rows if revision_of is not None})
    return [AuditPlace(code, roots.get(revision_of, submitted_at) if revision_of else submitted_at)
            for code, submitted_at, revision_of in rows]


def _chain_roots(session: Session, audit_ids: set[uuid.UUID]) -> dict[uuid.UUID, datetime.datetime]:
    """For each audit id: when the first audit of its revision chain was submitted."""
    parent_of: dict[uuid.UUID, uuid.UUID | None] = {}
    submitted: dict[uuid.UUID, datetime.datetime] = {}
    todo = set(audit_ids)
    while todo:
        found = []
        for chunk in _chunks(sorted(todo, key=str)):
            found += session.execute(select(Audit.id, Audit.submitted_at, Audit.revision_of).where(Audit.id.in_(chunk))).all()
        for audit_id, at, parent in found:
            parent_of[audit_id], submitted[audit_id] = parent, at
        todo = {parent for _, _, parent in found if parent is not None and parent not in parent_of}
    roots = {}
    for audit_id in audit_ids:
        current, seen = audit_id, set()
        while parent_of.get(current) is not None and parent_of[current] in submitted and current not in seen:
            seen.add(current)
            current = parent_of[current]
        if current in submitted and submitted[current] is not None:
            roots[audit_id] = submitted[current]
    return roots


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]
