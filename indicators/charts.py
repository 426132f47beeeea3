"""Geometry of the server-rendered SVG charts (templates/indicators/_charts.html). Pure; no Flask.

Charts are SVG drawn by the server: no JavaScript chart library, nothing to load, and they print.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.problems import N_
from geo.mapdata import LegendClass
from indicators.engine import BANDS

WIDTH = 460  # a phone shows the chart at ~350 px: 13 px text stays readable
LABEL_W = 150
BAR_H = 22
GAP = 12


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: a value out of a maximum, positioned in the chart."""

    label: str
    value: float | None  # None: no value (drawn empty, shown as a dash)
    maximum: float
    y: int
    width: float  # of the value
    full: float  # of the maximum
    css: str = ""
    x: int = LABEL_W


def hbars(items: list[tuple[str, float | None, float]], css: str = "") -> tuple[list[Bar], int]:
    """Bars for (label, value, maximum); each maximum spans the plot width. Returns the bars and the chart height."""
    plot = WIDTH - LABEL_W - 84
    bars = []
    for index, (label, value, maximum) in enumerate(items):
        share = 0.0 if not maximum or value is None else max(0.0, min(1.0, value / maximum))
        bars.append(Bar(label, value, maximum, GAP + index * (BAR_H + GAP), round(plot * share, 1), plot, css))
    return bars, GAP + len(items) * (BAR_H + GAP)


@dataclass(frozen=True)
class Segment:
    """A predicate band on the 0-1000 scale."""

    name: str
    lowest: int
    x: float
    width: float


def band_scale(total: float | None, previous: float | None = None, width: int = WIDTH) -> dict:
    """The 0-1000 scale with the predicate bands, and markers for this year's and last year's totals."""
    scale = width / 1000
    edges = sorted((lowest, name) for name, lowest in BANDS)
    segments = [Segment("none", 0, 0.0, edges[0][0] * scale)]
    for index, (lowest, name) in enumerate(edges):
        upper = edges[index + 1][0] if index + 1 < len(edges) else 1000
        segments.append(Segment(name, lowest, lowest * scale, (upper - lowest) * scale))
    return {"segments": segments, "total_x": None if total is None else round(total * scale, 1),
            "previous_x": None if previous is None else round(previous * scale, 1), "width": width}


def achievement_classes():
    """Choropleth classes of an indicator per kecamatan by share of the kecamatan target reached (geo.mapdata)."""
    return (
        LegendClass("a0", 0.0, "#fbe5e3", N_("nothing yet")),
        LegendClass("a1", 1e-9, "#fdd49e", N_("under 50%")),
        LegendClass("a2", 0.5, "#c7e9c0", N_("50–74%")),
        LegendClass("a3", 0.75, "#74c476", N_("75–99%")),
        LegendClass("a4", 1.0, "#17692f", N_("target reached")),
    )
