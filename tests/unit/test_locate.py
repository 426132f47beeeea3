"""geo.locate: the border rule on constructed polygons, and bulk locating equal to one-by-one on real layers."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, shape

from geo.locate import TOLERANCE_DEG, Region, RegionIndex
from geo.simplify import overlap_area, simplified_geojson
from tests.support import SHARED, require

BOUNDARIES = SHARED / "data" / "boundaries"
REGIONS = ("kota-serang", "kota-blitar", "kabupaten-pali")
GAP = 2.0**-14  # ~6.8 m in degrees, exactly representable: distances to both sides compare exactly

# Two squares overlapping in the strip 9 <= x <= 10, a third beyond a thin gap, and an enclave in a hole.
# Equal sides and binary fractions: where the rule says "equal", GEOS computes bit-identical distances.
SQUARES = [
    ("01.01.01", "A", box(0, 0, 10, 10)),
    ("01.01.02", "B", box(9, 0, 19, 10)),
    ("01.01.03", "C", box(19 + GAP, 0, 29, 10)),
    ("01.01.04", "D", Polygon([(40, 0), (50, 0), (50, 10), (40, 10)], [[(44, 4), (46, 4), (46, 6), (44, 6)]])),
    ("01.01.05", "E", box(44, 4, 46, 6)),
    ("01.01.06", "F", MultiPolygon([box(60, 0, 61, 1), box(70, 0, 71, 1)])),
]

CASES = [
    # (lon, lat, expected code, why)
    (5, 5, "01.01.01", "inside one square only"),
    (0, 5, "01.01.01", "on the outer edge of one square: covered"),
    (9.2, 5, "01.01.01", "overlap, deeper in A (0.8) than in B (0.2)"),
    (9.8, 5, "01.01.02", "overlap, deeper in B (0.8) than in A (0.2)"),
    (9.5, 5, "01.01.01", "overlap, equally deep in both: smaller code"),
    (9.5, 0.125, "01.01.01", "overlap near the bottom edge: equal depth in both, smaller code"),
    (9.75, 0.5, "01.01.02", "overlap near the bottom edge: depth 0.25 in A, 0.5 in B"),
    (19, 5, "01.01.02", "on B's edge, C a gap away: covered by B only"),
    (19 + GAP / 4, 5, "01.01.02", "in the gap, nearer B"),
    (19 + GAP / 2, 5, "01.01.02", "in the middle of the gap: equally near, smaller code"),
    (19 + 3 * GAP / 4, 5, "01.01.03", "in the gap, nearer C"),
    (29 + TOLERANCE_DEG / 2, 5, "01.01.03", "outside C but within the tolerance"),
    (29 + TOLERANCE_DEG * 1.5, 5, None, "outside C beyond the tolerance"),
    (45, 5, "01.01.05", "enclave E inside D's hole"),
    (44, 5, "01.01.04", "on the edge shared by D's hole and E: equal depth 0, smaller code"),
    (42, 5, "01.01.04", "in D, outside its hole"),
    (70.5, 0.5, "01.01.06", "second part of a MultiPolygon"),
    (35, 5, None, "between regions, far from both"),
    (-50, 5, None, "far off the grid"),
    (float("nan"), 5, None, "not a number"),
]


@pytest.fixture(scope="module")
def squares() -> RegionIndex:
    return RegionIndex(SQUARES)


@pytest.mark.parametrize(("lon", "lat", "expected", "why"), CASES, ids=[case[3] for case in CASES])
def test_border_rule(squares, lon, lat, expected, why):
    found = squares.locate(lon, lat)
    assert (found.code if found else None) == expected, why


def test_locate_returns_code_and_name(squares):
    assert squares.locate(5, 5) == Region("01.01.01", "A")


def test_the_rule_does_not_depend_on_the_order_regions_are_given(squares):
    lons = [case[0] for case in CASES]
    lats = [case[1] for case in CASES]
    expected = squares.locate_many(lons, lats)
    rng = random.Random(7)
    for _ in range(5):
        shuffled = SQUARES[:]
        rng.shuffle(shuffled)
        assert RegionIndex(shuffled).locate_many(lons, lats) == expected


def test_locate_many_equals_locate_for_each_point(squares):
    rng = np.random.default_rng(1)
    lons, lats = rng.uniform(-1, 72, 3000), rng.uniform(-1, 11, 3000)
    assert squares.locate_many(lons, lats) == [
        (r.code if (r := squares.locate(x, y)) else None) for x, y in zip(lons, lats)]


def test_an_empty_index_locates_nothing():
    index = RegionIndex([])
    assert index.locate(106.1, -6.1) is None and index.locate_many([1, 2], [3, 4]) == [None, None]


def test_regions_can_come_as_wkb():
    index = RegionIndex([("36.73.01", "Serang", box(106, -7, 107, -6).wkb)])
    assert index.locate(106.5, -6.5) == Region("36.73.01", "Serang")


def test_duplicate_codes_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        RegionIndex([("01", "a", box(0, 0, 1, 1)), ("01", "b", box(2, 2, 3, 3))])


def test_lons_and_lats_must_match(squares):
    with pytest.raises(ValueError):
        squares.locate_many([1, 2], [1])


def reference(regions, lon, lat, tolerance=TOLERANCE_DEG):
    """The border rule written plainly, one polygon at a time: what the fast path must agree with."""
    point = shapely.Point(lon, lat)
    covering = [(-shape.boundary.distance(point), code) for code, _, shape in regions if shape.covers(point)]
    if covering:
        return min(covering)[1]
    near = [(shape.distance(point), code) for code, _, shape in regions if shape.distance(point) <= tolerance]
    return min(near)[1] if near else None


def test_fast_path_agrees_with_the_plain_rule_on_a_grid_of_squares(squares):
    rng = np.random.default_rng(3)
    lons = np.concatenate([rng.uniform(-1, 72, 1500), rng.uniform(8.9, 10.1, 300), 19 + rng.uniform(-1, 2, 200) * GAP])
    lats = rng.uniform(-0.5, 10.5, len(lons))
    assert squares.locate_many(lons, lats) == [reference(SQUARES, x, y) for x, y in zip(lons, lats)]


# -- real layers --------------------------------------------------------------------------------------

def real_layer(name: str, code_field: str) -> list[tuple[str, str, object]]:
    """(code, name, geometry) of a shared boundary file."""
    require(BOUNDARIES.is_dir(), f"shared boundary data not found at {BOUNDARIES}")
    features = json.loads((BOUNDARIES / name).read_text())["features"]
    name_field = code_field.replace("kode", "nama")
    return [(f["properties"][code_field], f["properties"][name_field], shape(f["geometry"])) for f in features]


LAYERS = [(f"kecamatan_{region}{suffix}.geojson", "kode_kec") for region in REGIONS for suffix in ("", "_coarse")] + \
         [(f"desa_kelurahan_{region}.geojson", "kode_desa") for region in REGIONS]


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "code_field"), LAYERS, ids=[name for name, _ in LAYERS])
def test_locate_many_equals_locate_on_2000_random_points_over_a_real_layer(name, code_field):
    regions = real_layer(name, code_field)
    index = RegionIndex(regions)
    minx, miny, maxx, maxy = shapely.union_all([s for _, _, s in regions]).buffer(0.002).bounds
    rng = np.random.default_rng(2000)
    lons, lats = rng.uniform(minx, maxx, 2000), rng.uniform(miny, maxy, 2000)
    many = index.locate_many(lons, lats)
    assert many == [(r.code if (r := index.locate(x, y)) else None) for x, y in zip(lons, lats)]
    assert many == [reference(regions, x, y) for x, y in zip(lons, lats)]
    assert sum(code is not None for code in many) > 500


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "code_field"), LAYERS, ids=[name for name, _ in LAYERS])
def test_points_near_real_borders_follow_the_rule_in_any_order(name, code_field):
    regions = real_layer(name, code_field)
    index = RegionIndex(regions)
    # Points on and within ~30 m of every shared border, where overlaps and slivers are.
    shapes = [s for _, _, s in regions]
    first, second = shapely.STRtree(shapes).query(shapes, predicate="dwithin", distance=0.0003)
    borders = [shapes[a].boundary.intersection(shapes[b].buffer(0.0003)) for a, b in zip(first, second) if a < b]
    rng = np.random.default_rng(11)
    samples = [border.interpolate(rng.uniform(0, border.length)) for border in borders if border.length
               for _ in range(60)]
    lons = np.array([p.x for p in samples]) + rng.uniform(-0.0003, 0.0003, len(samples))
    lats = np.array([p.y for p in samples]) + rng.uniform(-0.0003, 0.0003, len(samples))
    found = index.locate_many(lons, lats)
    assert found == [reference(regions, x, y) for x, y in zip(lons, lats)]
    assert RegionIndex(regions[::-1]).locate_many(lons, lats) == found
    assert found.count(None) < len(found) * 0.2  # near an inner border almost every point has a region


@pytest.mark.shared_data
@pytest.mark.parametrize("region", REGIONS)
def test_map_layer_is_a_clean_coverage_under_the_budget(region):
    regions = real_layer(f"kecamatan_{region}.geojson", "kode_kec")
    for budget in (150_000, 20_000):
        collection = simplified_geojson(regions, max_bytes=budget)
        shapes = [shape(f["geometry"]) for f in collection["features"]]
        assert collection["simplification"]["fits"] and collection["simplification"]["bytes"] <= budget
        assert [f["properties"]["code"] for f in collection["features"]] == sorted(c for c, _, _ in regions)
        assert all(s.is_valid for s in shapes)
        assert overlap_area(shapes) * 111_320**2 < 1.0  # m²: neighbours share borders, not strips
        original = sum(s.area for _, _, s in regions)
        assert abs(sum(s.area for s in shapes) - original) / original < 0.01
