"""What the maps show, as plain data: facility markers, legends, choropleth classes. Pure; no Flask, no database.

A choropleth is the simplified kecamatan FeatureCollection of a kabupaten/kota (geo.layers) with
per-kecamatan properties merged in: `value` (a number or None), `label` (text shown on tap), `class`
(a legend key) and `colour`. static/js/map.js draws any such collection with a legend given in
data-* attributes; audit coverage is one use, the KLA indicators another.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def N_(message: str) -> str:
    """Mark a string for translation; translated where it is shown."""
    return message


# Marker colours by latest result: the app's own ok/bad/none colours (static/css/app.css).
RESULT_CLASSES = ("memenuhi", "belum_memenuhi", "none")
RESULT_COLOURS = {"memenuhi": "#17692f", "belum_memenuhi": "#a3201a", "none": "#6b7684"}
RESULT_LEGEND = {"memenuhi": N_("Meets the standard"), "belum_memenuhi": N_("Does not yet meet the standard"),
                 "none": N_("Not yet audited")}
# On a hub grey means "no approved audit" (a submitted one may be waiting for review).
RESULT_LEGEND_APPROVED = {**RESULT_LEGEND, "none": N_("No approved audit yet")}
NO_DATA_COLOUR = "#e9edf2"


@dataclass(frozen=True)
class LegendClass:
    """One class of a choropleth: values from `lower` (inclusive) up to the next class's lower bound."""

    key: str
    lower: float
    colour: str
    label: str


# Audit coverage, the share of registered facilities audited this year: a sequential blue scale.
COVERAGE_CLASSES = (
    LegendClass("c0", 0.0, "#f1f6fb", N_("None yet")),
    LegendClass("c1", 1e-9, "#c6dbef", N_("under 25%")),
    LegendClass("c2", 0.25, "#6baed6", N_("25–49%")),
    LegendClass("c3", 0.50, "#2f7fbf", N_("50–74%")),
    LegendClass("c4", 0.75, "#08468a", N_("75–100%")),
)


def classify(value: float | None, classes: Sequence[LegendClass]) -> LegendClass | None:
    """The class a value falls in (the last whose lower bound it reaches); None for no value."""
    if value is None:
        return None
    found = None
    for legend_class in classes:
        if value >= legend_class.lower:
            found = legend_class
    return found


def choropleth(layer: Mapping, values: Mapping[str, Mapping]) -> dict:
    """A copy of a region FeatureCollection with each feature's properties updated from values[code].

    A region without values gets value None, class "none" and the no-data colour, so the map and its
    legend can show it as "no data" rather than leave it out.
    """
    collection = copy.deepcopy(dict(layer))
    for feature in collection.get("features", []):
        properties = feature["properties"]
        extra = values.get(properties["code"])
        if extra is None:
            properties.update({"value": None, "label": None, "class": "none", "colour": NO_DATA_COLOUR})
        else:
            properties.update(extra)
    return collection


def classed_values(values: Mapping[str, float | None], classes: Sequence[LegendClass],
                   label: Callable[[str, float | None], str]) -> dict[str, dict]:
    """{code: {value, label, class, colour}} for choropleth(): each value in its legend class."""
    result = {}
    for code, value in values.items():
        legend_class = classify(value, classes)
        result[code] = {"value": value, "label": label(code, value),
                        "class": legend_class.key if legend_class else "none",
                        "colour": legend_class.colour if legend_class else NO_DATA_COLOUR}
    return result


def legend_data(classes: Iterable[LegendClass], translate: Callable[[str], str], no_data: str | None = None) -> list[dict]:
    """The legend as map.js reads it from data-legend: [{key, colour, label}], "no data" last when given."""
    entries = [{"key": c.key, "colour": c.colour, "label": translate(c.label)} for c in classes]
    if no_data:
        entries.append({"key": "none", "colour": NO_DATA_COLOUR, "label": no_data})
    return entries


@dataclass(frozen=True)
class Coverage:
    """Facilities of one kecamatan: registered, and audited this year (by the counted audits)."""

    registered: int
    audited: int

    @property
    def share(self) -> float | None:
        """Audited / registered; None when nothing is registered."""
        return self.audited / self.registered if self.registered else None


def coverage(registered: Mapping[str, int], audited: Mapping[str, int], codes: Iterable[str]) -> dict[str, Coverage]:
    """Coverage of each kecamatan code (zero where nothing is counted)."""
    return {code: Coverage(registered.get(code, 0), audited.get(code, 0)) for code in codes}


def counted_for_role(role: str) -> str:
    """Which audits set a facility's standing: approved ones on a hub (what planners rely on), not rejected ones
    on a field device (which may not have the hub's decision yet); see survey.audits.queries.COUNTED."""
    return "approved" if role == "hub" else "not_rejected"


def year_period(year: int, tz: str) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of a year in the local time zone, as UTC datetimes ("audited this year")."""
    zone = ZoneInfo(tz)
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(timezone.utc)
    return start, datetime(year + 1, 1, 1, tzinfo=zone).astimezone(timezone.utc)


def result_class(result: str | None) -> str:
    """The marker class of a latest result: memenuhi, belum_memenuhi or none."""
    return result if result in RESULT_COLOURS else "none"


def facility_feature(facility_id: str, name: str, kind: str, lon: float, lat: float, result: str | None,
                     review: str | None) -> dict:
    """One facility as a GeoJSON point for the map: coloured by its latest result."""
    cls = result_class(result)
    properties = {"id": facility_id, "name": name, "kind": kind, "result": cls, "colour": RESULT_COLOURS[cls]}
    if review:
        properties["review"] = review
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": properties}
