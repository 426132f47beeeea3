"""Locating points in regions: RegionIndex.locate_many against geopandas.sjoin and a naive loop; map payloads.

Regions: a synthetic national kecamatan layer, ~7,000 cells of a grid over Indonesia's extent
(95°E–141°E, 11°S–6°N), corners jittered, every edge broken into 9 jittered segments shared exactly by
the two neighbours (~37 vertices per polygon). Points: 100,000 uniform random over the same extent.
Measured in the same run, each the median of --repeat runs:

- baseline: `geopandas.sjoin(points, polygons, predicate="within")`, points already built (a fresh
  frame each run, so its spatial index is built each time, as it would be for new points);
- sjoin including building the points from the lon/lat arrays (what locate_many does inside);
- ours: `RegionIndex.locate_many(lons, lats)`, index built once (the app caches it; its build is shown);
- STRtree variant: `shapely.points` + `STRtree.query(points, predicate="intersects")` (candidate pairs
  only, no border rule): the obvious design, shown for comparison;
- naive: `for p in points: for poly in polys: if poly.contains(p): break`, run on --naive-sample points
  and scaled to all points (said so in its row name).

Then what the map would send: each real kecamatan layer (../shared/data/boundaries) as GeoJSON after
geo.simplify.simplified_geojson (coverage_clean + coverage_simplify) under 150 KB, with the overlap area
between neighbours before and after.

    python -m bench.geo [--points N] [--polygons N] [--naive-sample N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import warnings

import numpy as np
import shapely

from bench.common import report, summary
from geo.locate import RegionIndex
from geo.simplify import overlap_area, payload_bytes, simplified_geojson
from tests.support import SHARED

EXTENT = (95.0, -11.0, 141.0, 6.0)  # west, south, east, north
TARGETS = {"ours/sjoin at most": 1.5, "naive/ours at least": 50.0}
REGIONS = ("kota-serang", "kota-blitar", "kabupaten-pali")
MAP_BUDGET = 150_000


def grid_polygons(count: int, rng: np.random.Generator, segments: int = 9) -> np.ndarray:
    """About `count` jittered grid cells over EXTENT; neighbours share every edge vertex exactly."""
    west, south, east, north = EXTENT
    ny = max(1, round(math.sqrt(count * (north - south) / (east - west))))
    nx = max(1, round(count / ny))
    dx, dy = (east - west) / nx, (north - south) / ny
    gx, gy = np.meshgrid(np.linspace(west, east, nx + 1), np.linspace(south, north, ny + 1), indexing="ij")
    corners = np.stack([gx + rng.uniform(-0.2, 0.2, gx.shape) * dx, gy + rng.uniform(-0.2, 0.2, gy.shape) * dy], -1)
    t = np.linspace(0, 1, segments + 1)[1:-1]
    wobble = 0.04 * min(dx, dy)

    def edges(start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Inner vertices of the edges start->end, pushed sideways a little (shared by both neighbours)."""
        along = start[..., None, :] + (end - start)[..., None, :] * t[:, None]
        normal = np.stack([-(end - start)[..., 1], (end - start)[..., 0]], -1)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        return along + normal[..., None, :] * rng.uniform(-wobble, wobble, along.shape[:-1])[..., None]

    horizontal = edges(corners[:-1, :], corners[1:, :])  # (nx, ny+1, k, 2): corner (i, j) -> (i+1, j)
    vertical = edges(corners[:, :-1], corners[:, 1:])  # (nx+1, ny, k, 2): corner (i, j) -> (i, j+1)
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    i, j = i.ravel(), j.ravel()
    rings = np.concatenate([
        corners[i, j][:, None], horizontal[i, j],  # bottom, west to east
        corners[i + 1, j][:, None], vertical[i + 1, j],  # right, south to north
        corners[i + 1, j + 1][:, None], horizontal[i, j + 1][:, ::-1],  # top, east to west
        corners[i, j + 1][:, None], vertical[i, j][:, ::-1],  # left, north to south
        corners[i, j][:, None]], axis=1)
    polygons = shapely.polygons(rings)
    assert shapely.is_valid(polygons).all(), "synthetic grid must be valid"
    return polygons


def timed(function, repeat: int, warm: bool = True) -> tuple[list[float], object]:
    """Wall times of `repeat` runs of function() after one untimed warm-up run, and its last result."""
    if warm:
        function()
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - start)
    return samples, result


def copies(polygons: np.ndarray) -> np.ndarray:
    """Independent geometry objects: preparing one method's polygons must not speed up another's."""
    return shapely.from_wkb(shapely.to_wkb(polygons))


def run(points: int, polygons: int, naive_sample: int, repeat: int, seed: int = 2026) -> tuple[list[dict], dict]:
    import geopandas

    rng = np.random.default_rng(seed)
    grid = grid_polygons(polygons, rng)
    codes = [f"P{n:05d}" for n in range(len(grid))]
    west, south, east, north = EXTENT
    lons, lats = rng.uniform(west, east, points), rng.uniform(south, north, points)

    build, index = timed(lambda: RegionIndex(zip(codes, codes, copies(grid))), 1, warm=False)
    ours, located = timed(lambda: index.locate_many(lons, lats), repeat)

    frame = geopandas.GeoDataFrame({"code": codes}, geometry=copies(grid), crs=4326)
    point_geometries = shapely.points(lons, lats)
    fresh = [geopandas.GeoDataFrame(geometry=point_geometries.copy(), crs=4326) for _ in range(repeat + 1)]
    sjoin, joined = [], None
    geopandas.sjoin(fresh.pop(), frame, predicate="within")  # warm-up
    for points_frame in fresh:
        start = time.perf_counter()
        joined = geopandas.sjoin(points_frame, frame, predicate="within")
        sjoin.append(time.perf_counter() - start)

    def sjoin_from_arrays():
        points_frame = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(lons, lats), crs=4326)
        return geopandas.sjoin(points_frame, frame, predicate="within")

    sjoin_xy, _ = timed(sjoin_from_arrays, repeat)
    tree = shapely.STRtree(copies(grid))
    strtree, _ = timed(lambda: tree.query(shapely.points(lons, lats), predicate="intersects"), repeat)

    plain = list(copies(grid))
    sample = [shapely.Point(x, y) for x, y in zip(lons[:naive_sample], lats[:naive_sample])]

    def naive():
        found = []
        for point in sample:
            for position, polygon in enumerate(plain):
                if polygon.contains(point):
                    found.append(position)
                    break
            else:
                found.append(-1)
        return found

    naive_time, naive_found = timed(naive, 1, warm=False)
    scale = points / max(1, len(sample))

    rows = [summary("baseline: sjoin within (pts built)", sjoin),
            summary("sjoin incl. building points", sjoin_xy),
            summary("ours: RegionIndex.locate_many", ours),
            summary("STRtree.query(points) variant", strtree),
            summary(f"naive loop ({len(sample)} pts, x{scale:g})", [naive_time[0] * scale])]
    median = {row["name"]: statistics.median(s) for row, s in zip(rows, (sjoin, sjoin_xy, ours, strtree,
                                                                          [naive_time[0] * scale]))}
    names = [row["name"] for row in rows]
    ratios = {"ours/sjoin": round(median[names[2]] / median[names[0]], 3),
              "ours/sjoin incl. points": round(median[names[2]] / median[names[1]], 3),
              "strtree/ours": round(median[names[3]] / median[names[2]], 3),
              "naive/ours": round(median[names[4]] / median[names[2]], 1)}
    extra = {
        "polygons": len(grid), "points": points, "vertices_per_polygon": int(shapely.get_num_coordinates(grid[0])),
        "index_build_ms": round(build[0] * 1000, 1), "ratios": ratios,
        "targets": {"ours/sjoin <= 1.5": ratios["ours/sjoin"] <= TARGETS["ours/sjoin at most"],
                    "naive/ours >= 50": ratios["naive/ours"] >= TARGETS["naive/ours at least"]},
        "agreement": _agreement(located, joined, codes, naive_found, points),
        "payloads": payloads(),
    }
    return rows, extra


def _agreement(located: list, joined, codes: list[str], naive_found: list[int], points: int) -> dict:
    """How often ours names the same polygon as sjoin (points sjoin puts in exactly one) and the naive loop."""
    matches = joined.groupby(level=0)["code"].agg(list)
    single = {position: found[0] for position, found in matches.items() if len(found) == 1}
    same = sum(located[position] == code for position, code in single.items())
    naive_same = sum(located[position] == (codes[found] if found >= 0 else None)
                     for position, found in enumerate(naive_found))
    return {"with_sjoin": round(same / max(1, len(single)), 6),
            "with_naive": round(naive_same / max(1, len(naive_found)), 6),
            "located": sum(code is not None for code in located), "of": points}


def payloads(budget: int = MAP_BUDGET) -> list[dict] | str:
    """Bytes of each real kecamatan layer as the map would get it, and overlaps before and after."""
    folder = SHARED / "data" / "boundaries"
    if not folder.is_dir():
        return f"skipped: no shared boundary data at {folder}"
    results = []
    for region in REGIONS:
        data = json.loads((folder / f"kecamatan_{region}.geojson").read_text())
        regions = [(f["properties"]["kode_kec"], f["properties"]["nama_kec"], shapely.geometry.shape(f["geometry"]))
                   for f in data["features"]]
        raw = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": f["geometry"]}
            for (code, name, _), f in zip(regions, data["features"])]}
        collection = simplified_geojson(regions, max_bytes=budget)
        shapes = [shapely.geometry.shape(f["geometry"]) for f in collection["features"]]
        results.append({"layer": f"kecamatan_{region}", "raw_bytes": payload_bytes(raw),
                        "map_bytes": collection["simplification"]["bytes"],
                        "tolerance_deg": collection["simplification"]["tolerance_deg"],
                        "overlap_before_m2": round(_m2(overlap_area([s for _, _, s in regions])), 1),
                        "overlap_after_m2": round(_m2(overlap_area(shapes)), 3),
                        "vertices_before": int(sum(shapely.get_num_coordinates(s) for _, _, s in regions)),
                        "vertices_after": int(sum(shapely.get_num_coordinates(s) for s in shapes))})
    return results


def _m2(square_degrees: float) -> float:
    """Square degrees near the equator in m² (close enough to show ~0 against thousands)."""
    return square_degrees * 111_320 * 110_574


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000, help="random points to locate")
    parser.add_argument("--polygons", type=int, default=7_000, help="synthetic kecamatan polygons")
    parser.add_argument("--naive-sample", type=int, default=1_000, help="points the naive loop runs on (scaled)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each fast method (median reported)")
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # geopandas: geographic CRS notices, not relevant here
        rows, extra = run(args.points, args.polygons, args.naive_sample, args.repeat)
    report(f"geo: locating {args.points} points in {extra['polygons']} polygons", rows, extra)
    return {"results": rows, **extra}


if __name__ == "__main__":
    sys.exit(0 if all(main()["targets"].values()) else 1)
