"""What the planner pages and exports show: a year's indicators for a kabupaten/kota or a kecamatan.

Reads stored values (indicators.service keeps them current) and computes audit coverage live.
No Flask; the views translate and render.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from geo.models import Wilayah
from indicators import queries
from indicators.definitions import GROUPS, Indicator, IndicatorSet
from indicators.engine import (AuditRecord, Gain, Projection, Value, achievement, counting_audits,
                               project)
from indicators.models import IndicatorEntry
from survey.facilities.models import Facility


@dataclass(frozen=True)
class Row:
    """One indicator in one region and year."""

    indicator: Indicator
    value: Value | None
    target: float
    points: int
    earned: float
    previous: Value | None = None
    entry: IndicatorEntry | None = None
    entered_kecamatan: int | None = None  # entered indicators of a kabupaten/kota: how many kecamatan have a value

    @property
    def achievement(self) -> float:
        return self.earned / self.points if self.points else achievement(self.indicator, self.value.value if self.value else None)

    @property
    def change(self) -> float | None:
        """Value this year minus value the year before, when both exist."""
        if self.value is None or self.previous is None or self.value.value is None or self.previous.value is None:
            return None
        return self.value.value - self.previous.value


@dataclass(frozen=True)
class Group:
    """A cluster (or kelembagaan) with its rows and points."""

    code: str
    rows: tuple[Row, ...]

    @property
    def earned(self) -> float:
        return sum(r.earned for r in self.rows)

    @property
    def points(self) -> int:
        return sum(r.points for r in self.rows)


@dataclass(frozen=True)
class CoverageRow:
    """How much of a kecamatan's facilities have an approved audit this year."""

    kecamatan: Wilayah
    audited: int
    facilities: int

    @property
    def share(self) -> float | None:
        return self.audited / self.facilities if self.facilities else None


@dataclass
class Report:
    """A year's indicators for one region."""

    region: Wilayah
    year: int
    indicator_set: IndicatorSet
    computed_at: datetime.datetime | None
    groups: list[Group]
    projection: Projection | None = None
    previous_projection: Projection | None = None
    previous_comparable: bool = False
    coverage: list[CoverageRow] = field(default_factory=list)
    kecamatan: list[Wilayah] = field(default_factory=list)

    @property
    def rows(self) -> list[Row]:
        return [r for g in self.groups for r in g.rows]

    def row(self, number: int) -> Row:
        return next(r for r in self.rows if r.indicator.number == number)

    def top_gains(self, limit: int = 5) -> list[tuple[Gain, Row]]:
        """The indicators whose improvement would gain the most points, largest first."""
        if self.projection is None:
            return []
        return [(g, self.row(g.number)) for g in self.projection.gains[:limit]]


def build(session: Session, region: Wilayah, year: int, zone: datetime.tzinfo) -> Report | None:
    """The report of a kabupaten/kota or kecamatan for a year; None when the year was never computed."""
    year_row = queries.year_row(session, year)
    if year_row is None:
        return None
    indicator_set = queries.stored_set(session, year_row.set_id)
    points = queries.points_of(session, indicator_set.id)
    level = region.level
    values = queries.values_of(session, indicator_set.id, year, [region.code])
    entries = queries.entries_of(session, indicator_set.id, year, [region.code])
    previous_row = queries.year_row(session, year - 1)
    comparable = previous_row is not None and previous_row.set_id == indicator_set.id
    previous = queries.values_of(session, indicator_set.id, year - 1, [region.code]) if comparable else {}
    kecamatan = queries.kecamatan_of(session, region.code) if level == "kabkota" else []
    entered = _entered_counts(session, indicator_set.id, year, kecamatan)
    rows = []
    for indicator in indicator_set.indicators:
        value = values.get((indicator.number, region.code))
        worth = points.get(indicator.number, indicator.points)
        share = achievement(indicator, value.value if value else None, level)
        rows.append(Row(indicator, value, indicator.target_for(level), worth, worth * share,
                        previous.get((indicator.number, region.code)), entries.get((indicator.number, region.code)),
                        entered.get(indicator.number, 0) if kecamatan and not indicator.is_facility else None))
    groups = [Group(code, tuple(r for r in rows if r.indicator.group == code)) for code in GROUPS]
    report = Report(region, year, indicator_set, year_row.computed_at, [g for g in groups if g.rows],
                    previous_comparable=comparable)
    if level == "kabkota":
        report.projection = project(indicator_set, points, {r.indicator.number: r.value for r in rows})
        if comparable:
            report.previous_projection = project(indicator_set, points,
                                                 {n: v for (n, _), v in previous.items()})
        report.kecamatan = kecamatan
        report.coverage = _coverage(session, report.kecamatan, year, zone)
    return report


def _entered_counts(session: Session, set_id: str, year: int, kecamatan: list[Wilayah]) -> dict[int, int]:
    """Per indicator number: how many of these kecamatan have an entered value."""
    counts: dict[int, int] = {}
    for (number, _), value in queries.values_of(session, set_id, year, [k.code for k in kecamatan]).items():
        if value.basis == "entered":
            counts[number] = counts.get(number, 0) + 1
    return counts


def _coverage(session: Session, kecamatan: list[Wilayah], year: int, zone: datetime.tzinfo) -> list[CoverageRow]:
    """Stored with the values (indicators.service): the dashboard reads it, it does not count audits again."""
    counts = queries.coverage_of(session, year, [k.code for k in kecamatan])
    return [CoverageRow(k, *counts.get(k.code, (0, 0))) for k in kecamatan]


def kecamatan_values(session: Session, report: Report) -> dict[tuple[int, str], Value]:
    """Every kecamatan's value of every indicator, for the dashboard table and the exports."""
    return queries.values_of(session, report.indicator_set.id, report.year, [k.code for k in report.kecamatan])


@dataclass(frozen=True)
class FacilityStanding:
    """A facility and the audit of each checklist that counts for it this year."""

    facility: Facility
    counting: dict[str, AuditRecord]


def facility_standing(session: Session, kecamatan_codes: list[str], year: int, zone: datetime.tzinfo,
                      kinds: tuple[str, ...] | None = None) -> list[FacilityStanding]:
    """Counted facilities of these kecamatan (optionally of some kinds) with their counting audits, by name."""
    facilities = queries.counted_facility_rows(session, kecamatan_codes, kinds)
    counting = counting_audits(queries.audit_records(session, kecamatan_codes, zone, year, kinds), year)
    by_facility: dict[uuid.UUID, dict[str, AuditRecord]] = {}
    for (facility_id, checklist_id), audit in counting.items():
        by_facility.setdefault(facility_id, {})[checklist_id] = audit
    return [FacilityStanding(f, by_facility.get(f.id, {})) for f in facilities]
