"""Map data without an app: legend classes, choropleth merging, coverage, markers, the counted-audit rule."""

from __future__ import annotations

import pytest

from geo import mapdata

LAYER = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"code": "36.73.01", "name": "Serang"}, "geometry": None},
    {"type": "Feature", "properties": {"code": "36.73.02", "name": "Kasemen"}, "geometry": None}]}


@pytest.mark.parametrize("value, key", [
    (None, None), (0.0, "c0"), (0.0001, "c1"), (0.2499, "c1"), (0.25, "c2"), (0.5, "c3"), (0.7499, "c3"),
    (0.75, "c4"), (1.0, "c4"),
])
def test_coverage_values_fall_in_their_legend_class(value, key):
    found = mapdata.classify(value, mapdata.COVERAGE_CLASSES)
    assert (found.key if found else None) == key


def test_choropleth_merges_values_and_marks_regions_without_data():
    values = mapdata.classed_values({"36.73.01": 0.6}, mapdata.COVERAGE_CLASSES, lambda code, v: f"{code}: {v:.0%}")
    merged = mapdata.choropleth(LAYER, values)
    serang, kasemen = (f["properties"] for f in merged["features"])
    assert serang == {"code": "36.73.01", "name": "Serang", "value": 0.6, "label": "36.73.01: 60%", "class": "c3",
                      "colour": "#2f7fbf"}
    assert kasemen["class"] == "none" and kasemen["colour"] == mapdata.NO_DATA_COLOUR and kasemen["value"] is None
    assert "value" not in LAYER["features"][0]["properties"]  # the source layer is left as it was


def test_legend_data_is_what_map_js_reads():
    legend = mapdata.legend_data(mapdata.COVERAGE_CLASSES, str.upper, no_data="no data")
    assert legend[0] == {"key": "c0", "colour": "#f1f6fb", "label": "NONE YET"}
    assert legend[-1] == {"key": "none", "colour": mapdata.NO_DATA_COLOUR, "label": "no data"}


def test_coverage_is_audited_over_registered():
    found = mapdata.coverage({"a": 4, "b": 0}, {"a": 3}, ["a", "b", "c"])
    assert found["a"].share == 0.75 and found["b"].share is None and found["c"] == mapdata.Coverage(0, 0)


def test_markers_carry_result_colour_and_card():
    feature = mapdata.facility_feature("id-1", "Taman", "ruang_bermain", 106.1600004, -6.1150004, None, "waiting")
    assert feature["geometry"]["coordinates"] == [106.16, -6.115]
    assert feature["properties"] == {"id": "id-1", "name": "Taman", "kind": "ruang_bermain", "result": "none",
                                     "colour": mapdata.RESULT_COLOURS["none"], "review": "waiting"}
    assert mapdata.result_class("memenuhi") == "memenuhi" and mapdata.result_class("bogus") == "none"


def test_a_hub_counts_approved_audits_and_a_device_those_not_rejected():
    assert mapdata.counted_for_role("hub") == "approved"
    assert mapdata.counted_for_role("field") == "not_rejected"
