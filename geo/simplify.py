"""Boundaries for the map: neighbours sharing each border exactly, small enough to send. Pure; shapely only.

Real layers overlap and leave slivers along shared borders, and simplifying each polygon on its own
would pull neighbours further apart. So the regions are first cleaned into a coverage
(`shapely.coverage_clean`: overlaps go to the neighbour with the longest shared border, slivers
narrower than GAP_WIDTH_DEG are closed, shared edges get identical vertices), then simplified together
(`shapely.coverage_simplify`, which keeps shared edges shared) at the smallest tolerance that fits the
byte budget. The result is for drawing only: locating points uses the stored boundaries and the border
rule of geo.locate, so within ~25 m of a border the map and the located region may differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# ~33 m: a little wider than the border tolerance of geo.locate, so every sliver it forgives closes.
GAP_WIDTH_DEG = 0.0003
# Tried in order, smallest first (degrees; ~5 m to ~5 km): the first whose result fits is used.
TOLERANCES_DEG = (0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
# Six decimals of a degree is ~0.1 m: finer than any boundary survey, and short in JSON.
DECIMALS = 6


def simplified_geojson(features: Iterable[tuple[str, str, BaseGeometry | bytes]],
                       max_bytes: int = 150_000) -> dict:
    """A GeoJSON FeatureCollection of (code, name, geometry) regions as a clean coverage under max_bytes.

    The collection carries a foreign member "simplification": the tolerance used, the size of the
    compact JSON in bytes, and whether it fits (False only when even the coarsest tolerance does not).
    """
    rows = sorted(((code, name, _geometry(shape)) for code, name, shape in features), key=lambda row: row[0])
    coverage = clean_coverage([shape for _, _, shape in rows])
    for tolerance in TOLERANCES_DEG:
        shapes = shapely.coverage_simplify(coverage, tolerance) if len(coverage) else coverage
        collection = _collection(rows, shapes)
        size = payload_bytes(collection)
        if size <= max_bytes:
            break
    collection["simplification"] = {"tolerance_deg": tolerance, "bytes": size, "fits": size <= max_bytes}
    return collection


def clean_coverage(shapes: list[BaseGeometry]) -> np.ndarray:
    """The regions without overlaps or thin gaps, with identical vertices along shared edges."""
    if not shapes:
        return np.zeros(0, dtype=object)
    return shapely.coverage_clean(np.array(shapes, dtype=object), gap_width=GAP_WIDTH_DEG)


def payload_bytes(collection: dict) -> int:
    """Size of the collection as compact UTF-8 JSON, as the map receives it."""
    return len(json.dumps(collection, separators=(",", ":"), ensure_ascii=False).encode())


def overlap_area(shapes) -> float:
    """Total area (in the shapes' units) where two of the shapes overlap; 0 for a clean coverage."""
    shapes = np.asarray([shape for shape in shapes if shape is not None and not shape.is_empty], dtype=object)
    if len(shapes) < 2:
        return 0.0
    first, second = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    pairs = first < second
    return float(shapely.area(shapely.intersection(shapes[first[pairs]], shapes[second[pairs]])).sum())


def _collection(rows: list[tuple[str, str, BaseGeometry]], shapes: np.ndarray) -> dict:
    """Features with rounded coordinates, in code order."""
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {"code": code, "name": name},
                          "geometry": _geojson_geometry(shape)}
                         for (code, name, _), shape in zip(rows, shapes)]}


def _geojson_geometry(shape: BaseGeometry) -> dict | None:
    """A GeoJSON (Multi)Polygon with coordinates rounded to DECIMALS; None for an empty shape."""
    if shape is None or shape.is_empty:
        return None
    if shape.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": _rings(shape)}
    polygons = [part for part in shapely.get_parts(shape) if part.geom_type == "Polygon"]
    return {"type": "MultiPolygon", "coordinates": [_rings(part) for part in polygons]}


def _rings(polygon) -> list:
    """The polygon's exterior and holes as rounded coordinate lists."""
    rings = [polygon.exterior, *polygon.interiors]
    return [np.round(np.asarray(ring.coords)[:, :2], DECIMALS).tolist() for ring in rings]


def _geometry(shape: BaseGeometry | bytes | bytearray | memoryview) -> BaseGeometry:
    """A shapely geometry from a geometry or WKB."""
    if isinstance(shape, (bytes, bytearray, memoryview)):
        return shapely.from_wkb(bytes(shape))
    return shape
