"""Computing KLA indicators: which audits count, facility-derived values, rollup, points, predicate. Pure.

Which audit counts (docs/architecture.md, "Indicator"):
- only audits approved on the hub count; returned, rejected and not yet reviewed audits do not;
- a revision replaces the audit it revises once the revision is approved. While a revision waits
  for review, or when it is returned or rejected, the earlier approved audit of its chain still
  counts: a correction in progress never makes a facility drop out of the evidence;
- a chain of revisions belongs to the year its first audit was submitted in (the visit's year);
- per facility and checklist the chain whose first audit (the visit) was submitted last wins; the
  counting audit's submission breaks ties. A chain whose first audit is unknown never counts.

A facility with no counting audit is in the denominator and not in the numerator.
"""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from indicators.definitions import Indicator, IndicatorSet

# (name, lowest total) from the top; below 500 there is no predicate (kla-reference §2).
BANDS = (("kla", 901), ("utama", 801), ("nindya", 701), ("madya", 601), ("pratama", 500))
BAND_NAMES = {"kla": "KLA", "utama": "Utama", "nindya": "Nindya", "madya": "Madya", "pratama": "Pratama"}


@dataclass(frozen=True)
class FacilityRecord:
    """A facility that counts in denominators: active and confirmed by a supervisor."""

    id: uuid.UUID
    kind: str
    kecamatan_code: str


@dataclass(frozen=True)
class AuditRecord:
    """What the engine needs of a submitted audit."""

    id: uuid.UUID
    facility_id: uuid.UUID
    checklist_id: str
    result: str | None
    review_status: str | None
    submitted_at: datetime.datetime
    year: int  # the year of submitted_at in the installation's time zone
    revision: int = 1
    revision_of: uuid.UUID | None = None


@dataclass(frozen=True)
class Value:
    """An indicator's value in one region: numerator/denominator for shares, the count, or an entered value."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    basis: str = "facilities"  # facilities, entered, rollup


@dataclass(frozen=True)
class Gain:
    """Points an indicator would add if it reached its target."""

    number: int
    earned: float
    points: int
    gain: float
    closes_gap: bool = False  # part of the smallest set of indicators that reaches the next band


@dataclass(frozen=True)
class Projection:
    """The projected total, its predicate and what would reach the next band."""

    total: int  # whole points, rounded half up (rounded_total)
    predicate: str | None
    next_band: str | None
    gap: int | None
    earned: dict[int, float] = field(default_factory=dict)
    gains: tuple[Gain, ...] = ()


# --- which audits count ------------------------------------------------------------------------------


def counting_audits(audits: Iterable[AuditRecord], year: int) -> dict[tuple[uuid.UUID, str], AuditRecord]:
    """Per (facility, checklist): the audit that counts for this year, as the module docstring says."""
    by_id = {a.id: a for a in audits}
    chains: dict[uuid.UUID, list[AuditRecord]] = {}
    for audit in by_id.values():
        chains.setdefault(_root(audit, by_id).id, []).append(audit)
    chosen: dict[tuple[uuid.UUID, str], tuple[tuple, AuditRecord]] = {}
    for root_id, members in chains.items():
        root = by_id[root_id]
        # A chain whose first audit is not known cannot be placed in a year: it never counts.
        if root.revision_of is not None or root.year != year:
            continue
        approved = [a for a in members if a.review_status == "approved"]
        if not approved:
            continue
        counting = max(approved, key=lambda a: (a.revision, a.submitted_at, str(a.id)))
        key = (counting.facility_id, counting.checklist_id)
        # The later visit wins: a correction of an older visit does not override a newer one.
        rank = (root.submitted_at, str(root.id), counting.submitted_at, str(counting.id))
        held = chosen.get(key)
        if held is None or rank > held[0]:
            chosen[key] = (rank, counting)
    return {key: counting for key, (_, counting) in chosen.items()}


def _root(audit: AuditRecord, by_id: Mapping[uuid.UUID, AuditRecord]) -> AuditRecord:
    """The first audit of the chain as far as it is known (its revision_of is set when the chain goes on unknown)."""
    seen = {audit.id}
    while audit.revision_of is not None and audit.revision_of in by_id and audit.revision_of not in seen:
        audit = by_id[audit.revision_of]
        seen.add(audit.id)
    return audit


# --- facility-derived values ---------------------------------------------------------------------------


def meets(indicator: Indicator, facility: FacilityRecord, counting: Mapping[tuple[uuid.UUID, str], AuditRecord]) -> bool:
    """Whether a facility is in the numerator: every listed checklist's counting audit has a listed result."""
    formula = indicator.formula
    for checklist_id in formula.checklists:
        audit = counting.get((facility.id, checklist_id))
        if audit is None or audit.result not in formula.results:
            return False
    return True


def facility_values(indicator: Indicator, facilities: Iterable[FacilityRecord],
                    counting: Mapping[tuple[uuid.UUID, str], AuditRecord], kecamatan_codes: Iterable[str]) -> dict[str, Value]:
    """Per kecamatan: numerator and denominator of a facility-derived indicator (every kecamatan, even empty)."""
    tally = {code: [0, 0] for code in kecamatan_codes}
    for facility in facilities:
        if facility.kind not in indicator.formula.facility_kinds:
            continue
        numerator_denominator = tally.setdefault(facility.kecamatan_code, [0, 0])
        numerator_denominator[1] += 1
        if meets(indicator, facility, counting):
            numerator_denominator[0] += 1
    return {code: facility_value(indicator, n, d) for code, (n, d) in tally.items()}


def facility_value(indicator: Indicator, numerator: float, denominator: float, basis: str = "facilities") -> Value:
    """The value from numerator and denominator: a percent for shares (None with no facility), else the count."""
    if indicator.formula.measure == "count":
        return Value(float(numerator), numerator, denominator, basis)
    value = 100.0 * numerator / denominator if denominator else None
    return Value(value, numerator, denominator, basis)


def rollup(indicator: Indicator, per_kecamatan: Mapping[str, Value]) -> Value:
    """The kabupaten/kota value of a facility-derived indicator: numerators and denominators summed."""
    numerator = sum(v.numerator or 0 for v in per_kecamatan.values())
    denominator = sum(v.denominator or 0 for v in per_kecamatan.values())
    return facility_value(indicator, numerator, denominator, "rollup")


def coverage(facilities: Iterable[FacilityRecord], counting: Mapping[tuple[uuid.UUID, str], AuditRecord],
             kecamatan_codes: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Per kecamatan: (facilities with at least one counting audit this year, facilities)."""
    audited = {facility_id for facility_id, _ in counting}
    result = {code: [0, 0] for code in kecamatan_codes}
    for facility in facilities:
        pair = result.setdefault(facility.kecamatan_code, [0, 0])
        pair[1] += 1
        pair[0] += facility.id in audited
    return {code: (a, n) for code, (a, n) in result.items()}


# --- entered values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A value a planner entered for one region and year (numerator/denominator optional)."""

    wilayah_code: str
    value: float
    numerator: float | None = None
    denominator: float | None = None


def entered_kabkota(indicator: Indicator, kabkota_entry: Entry | None, kecamatan_entries: Iterable[Entry],
                    kecamatan_codes: Iterable[str]) -> Value | None:
    """The kabupaten/kota value of an entered indicator.

    An entry for the kabupaten/kota itself wins. Otherwise kecamatan entries roll up only when every
    kecamatan of the kabupaten/kota has one (a part of the city is not the city): counts are summed;
    percents are numerators over denominators when every entry has both, else their mean.
    A yes/no indicator has no rollup.
    """
    if kabkota_entry is not None:
        return Value(kabkota_entry.value, kabkota_entry.numerator, kabkota_entry.denominator, "entered")
    entries = list(kecamatan_entries)
    if not entries or indicator.unit == "yes_no" or not set(kecamatan_codes) <= {e.wilayah_code for e in entries}:
        return None
    if indicator.unit == "count":
        return Value(sum(e.value for e in entries), None, None, "rollup")
    if all(e.numerator is not None and e.denominator for e in entries):
        numerator = sum(e.numerator for e in entries)
        denominator = sum(e.denominator for e in entries)
        return Value(100.0 * numerator / denominator, numerator, denominator, "rollup")
    return Value(sum(e.value for e in entries) / len(entries), None, None, "rollup")


# --- points and predicate ------------------------------------------------------------------------------


def achievement(indicator: Indicator, value: float | None, level: str = "kabkota") -> float:
    """Share of the target reached, 0..1; no value reaches nothing."""
    if value is None:
        return 0.0
    if indicator.unit == "yes_no":
        return 1.0 if value >= 1 else 0.0
    return max(0.0, min(1.0, value / indicator.target_for(level)))


def rounded_total(total: float) -> int:
    """A total in whole points, half up: the bands are whole points (600 is Pratama, 601 Madya), and the
    total is shown, banded and compared in this one precision."""
    return int(math.floor(total + 0.5 + 1e-9))


def predicate(total: float) -> str | None:
    """The predicate band of a total score (rounded to whole points), or None below 500."""
    total = rounded_total(total)
    for name, lowest in BANDS:
        if total >= lowest:
            return name
    return None


def next_band(total: float) -> tuple[str, float] | None:
    """(the next band up, its lowest total), or None at the top."""
    total = rounded_total(total)
    above = [(name, lowest) for name, lowest in BANDS if lowest > total]
    return above[-1] if above else None


def project(indicator_set: IndicatorSet, points: Mapping[int, int], values: Mapping[int, Value | None]) -> Projection:
    """Total points earned at the kabupaten/kota level, the predicate, and the gains ranked largest first."""
    earned, gains = {}, []
    for indicator in indicator_set.indicators:
        value = values.get(indicator.number)
        share = achievement(indicator, value.value if value else None)
        worth = points.get(indicator.number, indicator.points)
        earned[indicator.number] = worth * share
        gains.append((indicator.number, earned[indicator.number], worth, worth - earned[indicator.number]))
    total = rounded_total(sum(earned.values()))  # one precision for the band, the gap and the display
    upper = next_band(total)
    gap = upper[1] - total if upper else None
    ranked = sorted((g for g in gains if g[3] > 1e-9), key=lambda g: (-g[3], g[0]))
    result, covered = [], 0.0
    for number, got, worth, gain in ranked:
        closes = gap is not None and covered < gap
        covered += gain if closes else 0
        result.append(Gain(number, round(got, 6), worth, round(gain, 6), closes))
    if gap is not None and covered < gap:  # even every indicator at target would not reach the band
        result = [Gain(g.number, g.earned, g.points, g.gain, False) for g in result]
    return Projection(total, predicate(total), upper[0] if upper else None, gap, earned, tuple(result))
