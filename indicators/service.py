"""Indicator writes: computing a year, entering values with evidence, editing points. Never commits."""

from __future__ import annotations

import datetime
import logging
import re
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, text
from sqlalchemy.orm import Session

from app import auditlog
from app.db import utcnow
from geo.problems import GEO_PROBLEMS
from geo.queries import kabkota_list, wilayah
from indicators import queries
from indicators.definitions import IndicatorSet, shipped_sets, set_for_year
from indicators.engine import Entry, Value, counting_audits, coverage, entered_kabkota, facility_values, rollup
from indicators.evidence import EvidenceInfo, EvidenceStore, inspect_evidence
from indicators.models import (EntryEvidence, EvidenceFile, IndicatorCoverage, IndicatorEntry, IndicatorPoints, IndicatorSetVersion,
                               IndicatorValue, IndicatorYear)
from indicators.problems import INDICATOR_PROBLEMS

log = logging.getLogger(__name__)

MAX_NOTE = 2000
MAX_FILES = 10


@dataclass(frozen=True)
class ComputeSummary:
    """What a computation did."""

    year: int
    set_id: str
    kabkota: tuple[str, ...]
    values: int


def check_year(year) -> int:
    """A plausible evaluation year."""
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise INDICATOR_PROBLEMS("indicators.bad_year", field="year")
    return year


def store_set(session: Session, indicator_set: IndicatorSet) -> IndicatorSet:
    """Keep a set's text and default points when first used; the stored text is what counts afterwards."""
    if session.get(IndicatorSetVersion, indicator_set.id) is None:
        session.add(IndicatorSetVersion(id=indicator_set.id, applies_from=indicator_set.applies_from,
                                        sha256=indicator_set.sha256, content=indicator_set.content))
        session.flush()
        session.add_all(IndicatorPoints(set_id=indicator_set.id, number=i.number, points=i.points)
                        for i in indicator_set.indicators)
        session.flush()
    return queries.stored_set(session, indicator_set.id)


def set_of_year(session: Session, year: int, set_id: str | None = None) -> IndicatorSet:
    """The set a year is computed with: the one it already has, the one asked for, or the newest that applies."""
    check_year(year)
    row = queries.year_row(session, year)
    if set_id is None and row is not None:
        return queries.stored_set(session, row.set_id)
    shipped = shipped_sets()
    if set_id is None:
        chosen = set_for_year(shipped, year)
        if chosen is None:
            raise INDICATOR_PROBLEMS("indicators.no_set", year=year)
    else:
        chosen = queries.stored_set(session, set_id) or next((s for s in shipped if s.id == set_id), None)
        if chosen is None:
            raise INDICATOR_PROBLEMS("indicators.unknown_set/invalid", set_id=set_id)
    indicator_set = store_set(session, chosen)
    if row is None:
        session.add(IndicatorYear(year=year, set_id=indicator_set.id))
    elif row.set_id != indicator_set.id:
        # The year moves to another set on request only: its old values go with the old set.
        session.execute(delete(IndicatorValue).where(IndicatorValue.year == year, IndicatorValue.set_id == row.set_id))
        row.set_id = indicator_set.id
    session.flush()
    return indicator_set


def compute_year(session: Session, year: int, zone: datetime.tzinfo, set_id: str | None = None,
                 kabkota_codes: Iterable[str] | None = None, only_kecamatan: set[str] | None = None) -> ComputeSummary:
    """Recompute every indicator value of a year for the given (default: every) kabupaten/kota.

    `only_kecamatan`: recompute only the facility-derived values there (and the rollup), as after a
    review; a year computed for the first time is always computed whole.
    """
    _lock_year(session, check_year(year))
    first_time = queries.year_row(session, year) is None
    indicator_set = set_of_year(session, year, set_id)
    # A year computed for the first time (or moved to another set) is computed everywhere: its row
    # says it is computed, so no kabupaten/kota may be left without values.
    whole = first_time or set_id is not None
    codes = tuple(sorted(kabkota_codes)) if kabkota_codes is not None and not whole else \
        tuple(k.code for k in kabkota_list(session))
    subset = None if whole else only_kecamatan
    written = sum(_compute_kabkota(session, indicator_set, year, code, zone, subset) for code in codes)
    queries.year_row(session, year).computed_at = utcnow()
    return ComputeSummary(year, indicator_set.id, codes, written)


LOCK_KEY = zlib.crc32(b"indicators") - 2**31  # an int4 naming the indicators' advisory locks


def _lock_year(session: Session, year: int) -> None:
    """Serialise computations of one year on PostgreSQL (the dashboard's button and a sync batch at once
    would delete and insert the same keys); SQLite writers are already serialised by BEGIN IMMEDIATE."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key, :year)"), {"key": LOCK_KEY, "year": year})


def _compute_kabkota(session: Session, indicator_set: IndicatorSet, year: int, kabkota_code: str,
                     zone: datetime.tzinfo, only_kecamatan: set[str] | None = None) -> int:
    """Recompute a kabupaten/kota's values and audit coverage for a year.

    With `only_kecamatan` (a review changed audits there), only those kecamatan's facility-derived
    values are computed again; the kabupaten/kota rolls up from them and the stored values of the
    other kecamatan, and entered values, which audits cannot change, stay as they are.
    """
    kecamatan = [k.code for k in queries.kecamatan_of(session, kabkota_code)]
    targets = [k for k in kecamatan if only_kecamatan is None or k in only_kecamatan]
    facilities = queries.counted_facilities(session, targets)
    counting = counting_audits(queries.audit_records(session, targets, zone, year), year)
    _store_coverage(session, year, targets, coverage(facilities, counting, targets))
    numbers = [i.number for i in indicator_set.indicators if only_kecamatan is None or i.is_facility]
    cleared = [*targets, kabkota_code]
    session.execute(delete(IndicatorValue).where(IndicatorValue.set_id == indicator_set.id, IndicatorValue.year == year,
                                                 IndicatorValue.wilayah_code.in_(cleared), IndicatorValue.number.in_(numbers)))
    others = queries.values_of(session, indicator_set.id, year, [k for k in kecamatan if k not in targets])
    entries = queries.entries_of(session, indicator_set.id, year, [*kecamatan, kabkota_code]) if only_kecamatan is None else {}
    now, rows = utcnow(), []
    for indicator in indicator_set.indicators:
        if indicator.number not in numbers:
            continue
        if indicator.is_facility:
            per_kecamatan = facility_values(indicator, facilities, counting, targets)
            everywhere = {**{code: v for (n, code), v in others.items() if n == indicator.number}, **per_kecamatan}
            values = {**per_kecamatan, kabkota_code: rollup(indicator, everywhere)}
        else:
            kecamatan_entries = [e for (n, code), e in entries.items() if n == indicator.number and code != kabkota_code]
            values = {e.wilayah_code: Value(e.value, e.numerator, e.denominator, "entered") for e in kecamatan_entries}
            total = entered_kabkota(indicator, _as_entry(entries.get((indicator.number, kabkota_code))),
                                    queries.as_entries(kecamatan_entries), kecamatan)
            if total is not None:
                values[kabkota_code] = total
        rows += [{"set_id": indicator_set.id, "year": year, "number": indicator.number, "wilayah_code": code,
                  "value": v.value, "numerator": v.numerator, "denominator": v.denominator, "basis": v.basis,
                  "computed_at": now} for code, v in values.items()]
    if rows:
        session.execute(insert(IndicatorValue), rows)
    session.flush()
    return len(rows)


def _store_coverage(session: Session, year: int, kecamatan: list[str], counts: dict[str, tuple[int, int]]) -> None:
    session.execute(delete(IndicatorCoverage).where(IndicatorCoverage.year == year,
                                                    IndicatorCoverage.wilayah_code.in_(kecamatan)))
    if kecamatan:
        now = utcnow()
        session.execute(insert(IndicatorCoverage), [{"year": year, "wilayah_code": code, "audited": audited,
                                                     "facilities": total, "computed_at": now}
                                                    for code, (audited, total) in counts.items()])


def _as_entry(row: IndicatorEntry | None) -> Entry | None:
    return Entry(row.wilayah_code, row.value, row.numerator, row.denominator) if row else None


def recompute_for_audits(session: Session, audit_ids: Iterable[uuid.UUID], zone: datetime.tzinfo) -> list[ComputeSummary]:
    """Recompute the years and kabupaten/kota of reviewed audits (approving, returning, a revision arriving).

    Uses the stored indicator sets only, never the files: a bad draft file must not touch reviews or sync.
    Only a year that no stored set applies to (a fresh installation) reads the shipped files, and when
    they cannot be read it is left for `flask indicators compute` or the dashboard's button.
    """
    stored = queries.stored_sets(session)
    summaries = []
    for year, kecamatan in sorted(_affected_years(session, audit_ids, zone, stored).items()):
        kabkota = queries.kabkota_of_kecamatan(session, kecamatan)
        if not kabkota:
            continue
        row = queries.year_row(session, year)
        chosen = None if row is not None else set_for_year(stored, year) or _shipped_for_year(year)
        if row is None and chosen is None:
            continue
        summaries.append(compute_year(session, year, zone, set_id=chosen.id if chosen else None, kabkota_codes=kabkota,
                                      only_kecamatan=kecamatan))
    return summaries


def _shipped_for_year(year: int) -> IndicatorSet | None:
    try:
        return set_for_year(shipped_sets(), year)
    except Exception:  # noqa: BLE001 - a bad file is reported by `flask indicators check`, not by a review
        log.exception("indicators: the shipped indicator sets cannot be read")
        return None


def mark_stale(session: Session, audit_ids: Iterable[uuid.UUID], zone: datetime.tzinfo) -> list[int]:
    """Mark the computed years these audits count in as needing a recompute (when the hook could not recompute)."""
    years = [y for y in _affected_years(session, audit_ids, zone, None) if queries.year_row(session, y) is not None]
    for year in years:
        queries.year_row(session, year).computed_at = None
    session.flush()
    return years


def _affected_years(session: Session, audit_ids: Iterable[uuid.UUID], zone: datetime.tzinfo,
                    sets: list[IndicatorSet] | None) -> dict[int, set[str]]:
    """Per year of the reviewed audits' chains: their kecamatan (years before every given set left out)."""
    earliest = min((s.applies_from for s in sets), default=None) if sets is not None else None
    by_year: dict[int, set[str]] = {}
    for place in queries.reviewed_audit_places(session, list(audit_ids)):
        year = place.submitted_at.astimezone(zone).year
        if earliest is None or year >= earliest:
            by_year.setdefault(year, set()).add(place.kecamatan_code)
    return by_year


# --- entered values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryInput:
    """A planner's entry as typed: numbers as text (a decimal comma is fine), files as (name, bytes)."""

    year: int
    number: int
    wilayah_code: str
    value: str
    numerator: str = ""
    denominator: str = ""
    note: str = ""
    files: tuple[tuple[str, bytes], ...] = ()


def enter_value(session: Session, data: EntryInput, store: EvidenceStore, max_bytes: int, zone: datetime.tzinfo,
                user_id=None, device_id=None) -> IndicatorEntry:
    """Record (or correct) an entered value with its note and evidence; everything is checked before anything is written."""
    if queries.year_row(session, check_year(data.year)) is None:
        compute_year(session, data.year, zone)  # first value of a year: every kabupaten/kota gets its values
    indicator_set = set_of_year(session, data.year)
    try:
        indicator = indicator_set.indicator(data.number)
    except KeyError:
        raise INDICATOR_PROBLEMS("indicators.unknown_indicator", number=data.number) from None
    if indicator.is_facility:
        raise INDICATOR_PROBLEMS("indicators.not_entered")
    region = wilayah(session, data.wilayah_code)
    if region is None or region.level not in ("kecamatan", "kabkota"):
        raise GEO_PROBLEMS("wilayah.unknown_kecamatan/not_found", codes=data.wilayah_code)
    if region.level not in indicator.levels:
        raise INDICATOR_PROBLEMS("indicators.level_not_allowed", field="wilayah")
    value, numerator, denominator = _entered_numbers(indicator.unit, data)
    note = (data.note or "").strip()
    if not note:
        raise INDICATOR_PROBLEMS("indicators.note_required", field="note")
    if len(note) > MAX_NOTE:
        raise INDICATOR_PROBLEMS("indicators.note_too_long", field="note")
    if len(data.files) > MAX_FILES:
        raise INDICATOR_PROBLEMS("evidence.too_many", field="files")
    checked = [(name, content, inspect_evidence(content, name, max_bytes)) for name, content in data.files]
    row = queries.entries_of(session, indicator_set.id, data.year, [region.code]).get((indicator.number, region.code))
    before = {"value": row.value, "numerator": row.numerator, "denominator": row.denominator, "note": row.note} if row else {}
    if row is None:
        row = IndicatorEntry(set_id=indicator_set.id, year=data.year, number=indicator.number, wilayah_code=region.code)
        session.add(row)
    row.value, row.numerator, row.denominator, row.note, row.entered_by = value, numerator, denominator, note, user_id
    row.entered_at = utcnow()
    session.flush()
    attached = [_attach(session, row, name, content, info, store) for name, content, info in checked]
    changes = auditlog.diff(before, {"value": value, "numerator": numerator, "denominator": denominator, "note": note})
    if attached:
        changes["evidence"] = [None, [a for a in attached if a]]
    auditlog.record(session, action="enter" if not before else "correct", entity="indicator_entry", entity_id=row.id,
                    user_id=user_id, device_id=device_id,
                    changes={"indicator": [None, f"{indicator_set.id}#{indicator.number}"], "year": [None, data.year],
                             "wilayah": [None, region.code], **changes})
    kabkota = region.code if region.level == "kabkota" else region.parent_code
    _compute_kabkota(session, indicator_set, data.year, kabkota, zone)
    return row


def _entered_numbers(unit: str, data: EntryInput) -> tuple[float, float | None, float | None]:
    numerator, denominator = _whole(data.numerator, "numerator"), _whole(data.denominator, "denominator")
    value = _number(data.value, "value")
    if (numerator is None) != (denominator is None) or unit != "percent" and numerator is not None:
        raise INDICATOR_PROBLEMS("indicators.bad_counts", field="numerator")
    if numerator is not None:
        if denominator <= 0 or not 0 <= numerator <= denominator:
            raise INDICATOR_PROBLEMS("indicators.bad_counts/range", field="numerator")
        value = round(100.0 * numerator / denominator, 4)
    if value is None:
        raise INDICATOR_PROBLEMS("indicators.value_required", field="value")
    if unit == "percent" and not 0 <= value <= 100:
        raise INDICATOR_PROBLEMS("indicators.value_range/percent", field="value")
    if unit == "count" and (value < 0 or value != int(value)):
        raise INDICATOR_PROBLEMS("indicators.value_range/count", field="value")
    if unit == "yes_no" and value not in (0, 1):
        raise INDICATOR_PROBLEMS("indicators.value_range/yes_no", field="value")
    return value, numerator, denominator


_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")  # 1.234 or 12.345.678: the Indonesian thousands separator


def _whole(text: str, field: str) -> int | None:
    """A count of people or facilities: digits, optionally grouped by dots (1.234 is 1234); anything else is refused."""
    text = (text or "").strip().replace(" ", "")
    if not text:
        return None
    if _THOUSANDS.fullmatch(text):
        text = text.replace(".", "")
    if not text.isascii() or not text.isdigit():
        raise INDICATOR_PROBLEMS("indicators.not_whole", field=field, text=text[:40])
    return int(text)


def _number(text: str, field: str) -> float | None:
    text = (text or "").strip().replace(" ", "")
    if not text:
        return None
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # the Indonesian decimal comma
    try:
        number = float(text)
    except ValueError:
        raise INDICATOR_PROBLEMS("indicators.bad_value", field=field, text=text[:40]) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise INDICATOR_PROBLEMS("indicators.bad_value", field=field, text=text[:40])
    return number


def _attach(session: Session, row: IndicatorEntry, name: str, content: bytes, info: EvidenceInfo,
            store: EvidenceStore) -> str | None:
    store.save(content, info)
    if session.get(EvidenceFile, info.sha256) is None:
        session.add(EvidenceFile(sha256=info.sha256, mime=info.mime, extension=info.extension, size_bytes=info.size_bytes))
        session.flush()
    if session.get(EntryEvidence, (row.id, info.sha256)) is not None:
        return None
    session.add(EntryEvidence(entry_id=row.id, sha256=info.sha256, filename=name))
    session.flush()
    return info.sha256


# --- points ------------------------------------------------------------------------------------------


def set_points(session: Session, set_id: str, points: dict[int, object], user_id=None, device_id=None) -> int:
    """Change a set's points (all at once, so the total stays 1000); each change is audit-logged. Returns how many changed."""
    current = queries.points_of(session, set_id)
    if not current:
        raise INDICATOR_PROBLEMS("indicators.unknown_set", set_id=set_id)
    wanted = {}
    for number in current:
        raw = points.get(number, current[number])
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise INDICATOR_PROBLEMS("indicators.bad_points", field=f"points_{number}") from None
        if not 0 <= value <= 1000:
            raise INDICATOR_PROBLEMS("indicators.bad_points", field=f"points_{number}")
        wanted[number] = value
    total = sum(wanted.values())
    if total != 1000:
        raise INDICATOR_PROBLEMS("indicators.points_total", total=total)
    changed = 0
    for number, value in wanted.items():
        if value != current[number]:
            session.get(IndicatorPoints, (set_id, number)).points = value
            auditlog.record(session, action="points", entity="indicator", entity_id=f"{set_id}#{number}",
                            user_id=user_id, device_id=device_id, changes={"points": [current[number], value]})
            changed += 1
    session.flush()
    return changed
