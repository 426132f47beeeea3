"""Indicator sets: the model, the YAML loader and its validation. Pure; no Flask.

An indicator set (`indicators/kla-2022.yaml`) is data, not code: the official list is under
revision (kla-reference.md §1) and points are not published (§2). Every rule a file can break
has a stable code and names where it went wrong, e.g. `kla-2022.yaml: indicators[3].target`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from app.problems import N_
from indicators.problems import INDICATOR_PROBLEMS
from survey.kinds import KIND_CODES

FOLDER = Path(__file__).resolve().parent
GROUPS = ("kelembagaan", "klaster_1", "klaster_2", "klaster_3", "klaster_4", "klaster_5")
GROUP_LABELS = {
    "kelembagaan": N_("Institutions (kelembagaan)"),
    "klaster_1": N_("Cluster I: civil rights and freedoms"),
    "klaster_2": N_("Cluster II: family environment and alternative care"),
    "klaster_3": N_("Cluster III: basic health and welfare"),
    "klaster_4": N_("Cluster IV: education, leisure and cultural activities"),
    "klaster_5": N_("Cluster V: special protection"),
}
SOURCE_STATUSES = ("verified", "weak", "unverified")
OBTAINED = ("facility", "entered")
UNITS = ("percent", "count", "yes_no")
LEVELS = ("kabkota", "kecamatan")
MEASURES = ("share", "count")
RESULTS = ("memenuhi", "belum_memenuhi")
MAX_TOTAL = 1000
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,38}")
_CHECKLIST_ID = re.compile(r"[a-z0-9_]{1,64}")


@dataclass(frozen=True)
class Text:
    """A bilingual text; Indonesian is the fallback."""

    id: str
    en: str

    def get(self, locale: str | None = None) -> str:
        """The text for a locale such as 'en' or 'id'."""
        return self.en if locale and str(locale).lower().startswith("en") and self.en else self.id


@dataclass(frozen=True)
class Formula:
    """A facility-derived value: facilities of `kinds` whose latest approved audit of every checklist has a result in `results`."""

    facility_kinds: tuple[str, ...]
    checklists: tuple[str, ...]
    results: tuple[str, ...]
    measure: str  # share: numerator/denominator in percent; count: the numerator


@dataclass(frozen=True)
class Indicator:
    """One KLA indicator with its default points and how its value is obtained."""

    number: int
    group: str
    name: Text
    source_status: str
    source: str
    obtained: str
    unit: str
    target: float
    points: int
    kecamatan_target: float | None = None
    levels: tuple[str, ...] = ("kabkota", "kecamatan")
    formula: Formula | None = None

    @property
    def is_facility(self) -> bool:
        return self.obtained == "facility"

    def target_for(self, level: str) -> float:
        """The target at kecamatan or kabupaten/kota level (counts may have a smaller kecamatan target)."""
        if level == "kecamatan" and self.kecamatan_target is not None:
            return self.kecamatan_target
        return self.target


@dataclass(frozen=True)
class IndicatorSet:
    """A whole indicator set as one file defines it; `sha256` names the exact text."""

    id: str
    title: Text
    applies_from: int
    source: str
    points_note: Text
    indicators: tuple[Indicator, ...]
    sha256: str
    content: str

    def indicator(self, number: int) -> Indicator:
        """The indicator with this number; KeyError if the set has none."""
        for indicator in self.indicators:
            if indicator.number == number:
                return indicator
        raise KeyError(number)

    @property
    def default_points(self) -> dict[int, int]:
        return {i.number: i.points for i in self.indicators}


def load_text(content: str, name: str = "<text>") -> IndicatorSet:
    """Parse and validate an indicator set; IndicatorSetError names the first problem."""
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise INDICATOR_PROBLEMS("indicators.bad_yaml", location=where) from None
    if not isinstance(data, dict):
        raise INDICATOR_PROBLEMS("indicators.bad_file", location=name)
    set_id = _string(data, "id", name)
    if not _ID.fullmatch(set_id):
        raise INDICATOR_PROBLEMS("indicators.bad_id", location=f"{name}: id")
    applies_from = data.get("applies_from")
    if not isinstance(applies_from, int) or isinstance(applies_from, bool) or not 2000 <= applies_from <= 2100:
        raise INDICATOR_PROBLEMS("indicators.bad_year/file", location=f"{name}: applies_from")
    rows = data.get("indicators")
    if not isinstance(rows, list) or not rows:
        raise INDICATOR_PROBLEMS("indicators.none", location=f"{name}: indicators")
    indicators = tuple(_indicator(row, f"{name}: indicators[{index}]") for index, row in enumerate(rows))
    _check_whole(indicators, name)
    return IndicatorSet(id=set_id, title=_text(data, "title", name), applies_from=applies_from,
                        source=_string(data, "source", name), points_note=_text(data, "points_note", name),
                        indicators=indicators, sha256=hashlib.sha256(content.encode()).hexdigest(), content=content)


def load_file(path: Path) -> IndicatorSet:
    """Load one indicator file; its id must match its file name (`kla-2022.yaml` holds id kla-2022)."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise INDICATOR_PROBLEMS("indicators.bad_encoding", location=Path(path).name) from None
    loaded = load_text(content, Path(path).name)
    if loaded.id != Path(path).stem:
        raise INDICATOR_PROBLEMS("indicators.filename_mismatch", location=Path(path).name, id=loaded.id)
    return loaded


def shipped_sets(folder: Path = FOLDER) -> list[IndicatorSet]:
    """Every indicator set in the folder, oldest first by the year it applies from (parsed again only when a file changes)."""
    paths = sorted(Path(folder).glob("*.yaml"))
    stamp = (str(folder), tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths))
    if stamp not in _SHIPPED:
        _SHIPPED.clear()
        _SHIPPED[stamp] = sorted((load_file(path) for path in paths), key=lambda s: (s.applies_from, s.id))
    return list(_SHIPPED[stamp])


_SHIPPED: dict[tuple, list[IndicatorSet]] = {}


def set_for_year(sets: list[IndicatorSet], year: int) -> IndicatorSet | None:
    """The newest set that applies to this year."""
    usable = [s for s in sets if s.applies_from <= year]
    return usable[-1] if usable else None


def _indicator(row, where: str) -> Indicator:
    if not isinstance(row, dict):
        raise INDICATOR_PROBLEMS("indicators.bad_indicator", location=where)
    number = row.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 99:
        raise INDICATOR_PROBLEMS("indicators.bad_number", location=f"{where}.number")
    group = _choice(row, "group", GROUPS, where)
    obtained = _choice(row, "obtained", OBTAINED, where)
    unit = _choice(row, "unit", UNITS, where)
    target = _number(row, "target", where, positive=True)
    kecamatan_target = _number(row, "kecamatan_target", where, positive=True) if "kecamatan_target" in row else None
    points = row.get("points")
    if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= MAX_TOTAL:
        raise INDICATOR_PROBLEMS("indicators.bad_points/file", location=f"{where}.points")
    if unit == "percent" and target > 100:
        raise INDICATOR_PROBLEMS("indicators.bad_target", location=f"{where}.target")
    formula, levels = None, tuple(LEVELS)
    if obtained == "facility":
        if "levels" in row:
            raise INDICATOR_PROBLEMS("indicators.levels_for_facility", location=f"{where}.levels")
        formula = _formula(row.get("formula"), f"{where}.formula")
        if (formula.measure == "share") != (unit == "percent"):
            raise INDICATOR_PROBLEMS("indicators.unit_measure", location=f"{where}.unit")
    else:
        if "formula" in row:
            raise INDICATOR_PROBLEMS("indicators.formula_for_entered", location=f"{where}.formula")
        levels = _levels(row.get("levels"), f"{where}.levels")
    return Indicator(number=number, group=group, name=_text(row, "name", where),
                     source_status=_choice(row, "source_status", SOURCE_STATUSES, where), source=_string(row, "source", where),
                     obtained=obtained, unit=unit, target=target, points=points, kecamatan_target=kecamatan_target,
                     levels=levels, formula=formula)


def _formula(value, where: str) -> Formula:
    if not isinstance(value, dict):
        raise INDICATOR_PROBLEMS("indicators.no_formula", location=where)
    kinds = _list(value, "facility_kinds", where)
    for kind in kinds:
        if kind not in KIND_CODES:
            raise INDICATOR_PROBLEMS("indicators.unknown_kind", location=f"{where}.facility_kinds", value=kind)
    checklists = _list(value, "checklists", where)
    for checklist_id in checklists:
        if not _CHECKLIST_ID.fullmatch(checklist_id):
            raise INDICATOR_PROBLEMS("indicators.bad_checklist", location=f"{where}.checklists", value=checklist_id)
    results = _list(value, "results", where)
    for result in results:
        if result not in RESULTS:
            raise INDICATOR_PROBLEMS("indicators.bad_result", location=f"{where}.results", value=result)
    return Formula(kinds, checklists, results, _choice(value, "measure", MEASURES, where))


def _levels(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(level not in LEVELS for level in value) or len(set(value)) != len(value):
        raise INDICATOR_PROBLEMS("indicators.bad_levels", location=where)
    return tuple(value)


def _check_whole(indicators: tuple[Indicator, ...], name: str) -> None:
    numbers = [i.number for i in indicators]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise INDICATOR_PROBLEMS("indicators.duplicate_number", location=f"{name}: indicators", number=duplicates[0])
    total = sum(i.points for i in indicators)
    if total != MAX_TOTAL:
        raise INDICATOR_PROBLEMS("indicators.points_total/file", location=f"{name}: indicators", total=total)


def _text(data: dict, key: str, where: str) -> Text:
    value = data.get(key)
    if not isinstance(value, dict) or not all(isinstance(value.get(lang), str) and value[lang].strip() for lang in ("id", "en")):
        raise INDICATOR_PROBLEMS("indicators.bad_text", location=f"{where}.{key}", key=key)
    return Text(value["id"].strip(), value["en"].strip())


def _string(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise INDICATOR_PROBLEMS("indicators.missing", location=f"{where}.{key}", key=key)
    return value.strip()


def _choice(data: dict, key: str, allowed: tuple[str, ...], where: str) -> str:
    value = data.get(key)
    if value not in allowed:
        raise INDICATOR_PROBLEMS("indicators.bad_choice", location=f"{where}.{key}", key=key, allowed=", ".join(allowed))
    return value


def _number(data: dict, key: str, where: str, positive: bool = False) -> float:
    value = data.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or (positive and value <= 0):
        raise INDICATOR_PROBLEMS("indicators.bad_number_value", location=f"{where}.{key}", key=key)
    return float(value)


def _list(data: dict, key: str, where: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise INDICATOR_PROBLEMS("indicators.bad_list", location=f"{where}.{key}", key=key)
    return tuple(value)
