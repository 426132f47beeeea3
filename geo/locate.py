"""Which region a point lies in: one point or many at once. Pure; shapely and numpy only, no Flask.

The border rule. Real layers overlap slightly and leave slivers along shared borders (up to ~20 m in
the Kota Serang, Kota Blitar and PALI layers), so a point near a border can fall in two regions or in
none. Every point is decided the same way, whatever the order the regions were given in:

1. covered by exactly one region (its interior or its edge) -> that region;
2. covered by several -> the one whose boundary is farthest from the point (the point lies deepest
   inside it); equal depths (a point on a shared edge, the middle of an overlap) -> the smaller code;
3. covered by none, but within TOLERANCE_DEG (~25 m) of one or more -> the nearest; equal distances ->
   the smaller code;
4. otherwise -> None: the point is outside every region loaded.

Distances are in degrees, as the boundaries are stored (EPSG:4326). Indonesia lies within 11° of the
equator, where a degree is 109–111 km in any direction, so TOLERANCE_DEG is 24.6–25.0 m on the ground.

How many points at once (`locate_many`, the bulk assignment): a uniform grid over the regions lists,
for each cell, the regions whose bounding box (grown by the tolerance) reaches it. A cell lying wholly
inside one region that no other region touches is "pure": its points are decided by numpy alone.
The other points get their candidates from the grid, also with numpy (no point geometries are built
for that), tested in one `shapely.intersects_xy` call on prepared polygons; only points covered by
several regions, or by none, get point geometries for the distance rules. An STRtree query of point
geometries gives the same answers but spends most of its time building the points: bench/geo.py
measures both against geopandas.sjoin.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

# ~25 m: the border tolerance of geo.geofence (BORDER_TOLERANCE_M), in degrees at Indonesia's latitudes.
TOLERANCE_DEG = 0.000225
# Points handled per batch: bounds the memory of the candidate pairs (about 6 per point).
_BATCH = 250_000
# Grid limits: enough cells for a national desa layer, small enough for a field laptop.
_MAX_CELLS = 2_000_000
_MAX_CELL_PAIRS = 8_000_000
# Cells across a typical region: finer cells leave more points in a cell wholly inside one region.
_CELLS_PER_REGION = 8


@dataclass(frozen=True)
class Region:
    """A region a point was located in."""

    code: str
    name: str


class RegionIndex:
    """Regions of one level, ready to locate points by the border rule in the module docstring."""

    def __init__(self, regions: Iterable[tuple[str, str, BaseGeometry | bytes]],
                 tolerance: float = TOLERANCE_DEG):
        rows = sorted(((code, name, _geometry(shape)) for code, name, shape in regions), key=lambda row: row[0])
        codes = [code for code, _, _ in rows]
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate region codes")
        self.tolerance = tolerance
        self.codes = codes
        self.names = [name for _, name, _ in rows]
        self.geometries = np.array([shape for _, _, shape in rows] or [], dtype=object)
        shapely.prepare(self.geometries)
        self._boundaries: np.ndarray | None = None
        self._grid = _Grid(self.geometries, tolerance)

    def __len__(self) -> int:
        return len(self.codes)

    def locate(self, lon: float, lat: float) -> Region | None:
        """The region at one point, or None outside every region."""
        index = int(self.locate_indices([lon], [lat])[0])
        return None if index < 0 else Region(self.codes[index], self.names[index])

    def locate_many(self, lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
        """The region code at each point (None outside), in the order given."""
        return [None if i < 0 else self.codes[i] for i in self.locate_indices(lons, lats).tolist()]

    def locate_indices(self, lons, lats) -> np.ndarray:
        """Index into `codes` of the region at each point, -1 outside."""
        x = np.asarray(lons, dtype=float).ravel()
        y = np.asarray(lats, dtype=float).ravel()
        if x.shape != y.shape:
            raise ValueError("lons and lats differ in length")
        result = np.full(len(x), -1, dtype=np.int64)
        if not len(self.codes):
            return result
        for start in range(0, len(x), _BATCH):
            stop = start + _BATCH
            result[start:stop] = self._locate_batch(x[start:stop], y[start:stop])
        return result

    def _locate_batch(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Apply the border rule to one batch of points."""
        cell = self._grid.cell_of(x, y)
        result = np.where(cell >= 0, self._grid.pure[np.maximum(cell, 0)], -1)
        # Points in a pure cell are decided; the others are checked against their candidates.
        points, regions, in_box = self._grid.candidates(x, y, np.where(result < 0, cell, -1))
        # Rules 1 and 2: regions covering the point (intersects = interior or edge).
        p, g = points[in_box], regions[in_box]
        covered = shapely.intersects_xy(self.geometries[g], x[p], y[p])
        p, g = p[covered], g[covered]
        hits = np.bincount(p, minlength=len(x))
        once = hits[p] == 1
        result[p[once]] = g[once]
        p, g = p[~once], g[~once]
        if len(p):
            depth = shapely.distance(self.boundaries[g], shapely.points(x[p], y[p]))
            _pick(result, p, g, -depth)
        # Rule 3: uncovered points near a region.
        near = result[points] < 0
        p, g = points[near], regions[near]
        if len(p):
            gap = shapely.distance(self.geometries[g], shapely.points(x[p], y[p]))
            close = gap <= self.tolerance
            _pick(result, p[close], g[close], gap[close])
        return result

    @property
    def boundaries(self) -> np.ndarray:
        """Region boundaries (lines), built on first need: only points in overlaps use them."""
        if self._boundaries is None:
            self._boundaries = shapely.boundary(self.geometries)
        return self._boundaries


def _pick(result: np.ndarray, points: np.ndarray, regions: np.ndarray, key: np.ndarray) -> None:
    """For each point, the candidate with the smallest key; equal keys -> smaller region index (code)."""
    order = np.lexsort((regions, key, points))
    points, regions = points[order], regions[order]
    first = np.ones(len(points), dtype=bool)
    first[1:] = points[1:] != points[:-1]
    result[points[first]] = regions[first]


def _geometry(shape: BaseGeometry | bytes | bytearray | memoryview) -> BaseGeometry:
    """A shapely geometry from a geometry or WKB, refusing what cannot hold a point."""
    if isinstance(shape, (bytes, bytearray, memoryview)):
        shape = shapely.from_wkb(bytes(shape))
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"not a polygon: {shape.geom_type}")
    return shape


class _Grid:
    """Regions by the cells of a uniform grid their grown bounding box reaches.

    Candidates for a point come from numpy alone. A cell lying wholly inside one region that no
    other region touches is "pure": its points need no geometry test at all.
    """

    def __init__(self, geometries: np.ndarray, tolerance: float):
        bounds = shapely.bounds(geometries).reshape(-1, 4)
        finite = np.isfinite(bounds).all(axis=1)  # empty geometries have NaN bounds: never candidates
        self.boxes = bounds
        self.grown = bounds + np.array([-1, -1, 1, 1]) * tolerance
        self.owners = np.zeros(0, dtype=np.int64)
        self.start = np.zeros(2, dtype=np.int64)
        self.pure = np.full(1, -1, dtype=np.int64)
        self.x0 = self.y0 = 0.0
        self.nx = self.ny = 1
        self.size = 1.0
        if finite.any():
            self._build(np.flatnonzero(finite))
            self.pure = self._pure_cells(geometries)

    def _build(self, regions: np.ndarray) -> None:
        """Choose the cell size and list the regions reaching each cell (CSR: start, owners)."""
        b = self.grown[regions]
        self.x0, self.y0 = float(b[:, 0].min()), float(b[:, 1].min())
        width, height = float(b[:, 2].max()) - self.x0, float(b[:, 3].max()) - self.y0
        # An eighth of the typical region's extent: most points then fall in a pure cell.
        size = float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]))) / _CELLS_PER_REGION
        size = max(size, math.sqrt(width * height / _MAX_CELLS), max(width, height) / 4096, 1e-9)
        while True:
            lo_x, hi_x = self._cells(b[:, 0], self.x0, size), self._cells(b[:, 2], self.x0, size)
            lo_y, hi_y = self._cells(b[:, 1], self.y0, size), self._cells(b[:, 3], self.y0, size)
            span_x, span_y = hi_x - lo_x + 1, hi_y - lo_y + 1
            if int((span_x * span_y).sum()) <= _MAX_CELL_PAIRS:
                break
            size *= 2
        self.size = size
        self.nx, self.ny = int(hi_x.max()) + 1, int(hi_y.max()) + 1
        per_region = span_x * span_y
        owner = np.repeat(np.arange(len(b)), per_region)
        local = _ranks(per_region)
        cells = (lo_x[owner] + local // span_y[owner]) * self.ny + lo_y[owner] + local % span_y[owner]
        order = np.argsort(cells, kind="stable")
        self.owners = regions[owner[order]]
        self.start = np.searchsorted(cells[order], np.arange(self.nx * self.ny + 1))

    def _pure_cells(self, geometries: np.ndarray) -> np.ndarray:
        """Per cell, the one region covering it when no other region touches it; else -1."""
        counts = np.diff(self.start)
        cell_of = np.repeat(np.arange(len(counts)), counts)  # the cell of each owners entry
        # Cells grown by a hair: a point that rounding puts in a cell is still inside its region.
        hair = self.size * 1e-6
        ix, iy = cell_of // self.ny, cell_of % self.ny
        x_min, y_min = self.x0 + ix * self.size - hair, self.y0 + iy * self.size - hair
        x_max, y_max = self.x0 + (ix + 1) * self.size + hair, self.y0 + (iy + 1) * self.size + hair
        box = self.boxes[self.owners]
        overlaps = (box[:, 0] <= x_max) & (x_min <= box[:, 2]) & (box[:, 1] <= y_max) & (y_min <= box[:, 3])
        holds = (box[:, 0] <= x_min) & (x_max <= box[:, 2]) & (box[:, 1] <= y_min) & (y_max <= box[:, 3])
        # Only a cell inside some region's bounding box can be pure: test those with geometry.
        maybe = np.zeros(len(counts), dtype=bool)
        maybe[cell_of[holds]] = True
        pairs = np.flatnonzero(overlaps & maybe[cell_of])
        _, first, slot = np.unique(cell_of[pairs], return_index=True, return_inverse=True)
        one = pairs[first]  # one pair per cell gives the cell's box
        shapes = shapely.box(x_min[one], y_min[one], x_max[one], y_max[one])[slot]
        regions = self.owners[pairs]
        touching = shapely.intersects(geometries[regions], shapes)
        which, regions, shapes = cell_of[pairs][touching], regions[touching], shapes[touching]
        alone = np.bincount(which, minlength=len(counts))[which] == 1
        covering = shapely.covers(geometries[regions[alone]], shapes[alone])
        pure = np.full(len(counts), -1, dtype=np.int64)
        pure[which[alone][covering]] = regions[alone][covering]
        return pure

    @staticmethod
    def _cells(values: np.ndarray, origin: float, size: float) -> np.ndarray:
        """The grid column (or row) of each value."""
        return np.floor((values - origin) / size).astype(np.int64)

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The cell of each point, -1 off the grid (or not a number)."""
        with np.errstate(invalid="ignore"):
            fx, fy = (x - self.x0) / self.size, (y - self.y0) / self.size
            inside = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)  # False for NaN
        column = np.where(inside, fx, 0).astype(np.int64)
        row = np.where(inside, fy, 0).astype(np.int64)
        return np.where(inside, column * self.ny + row, -1)

    def candidates(self, x: np.ndarray, y: np.ndarray, cell: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, region) pairs whose grown bounding box holds the point, and whether the box itself does."""
        first = self.start[np.maximum(cell, 0)]
        count = np.where(cell >= 0, self.start[cell + 1] - first, 0)
        points = np.repeat(np.arange(len(x)), count)
        regions = self.owners[np.repeat(first, count) + _ranks(count)]
        px, py = x[points], y[points]
        box = self.grown[regions]
        reach = (box[:, 0] <= px) & (px <= box[:, 2]) & (box[:, 1] <= py) & (py <= box[:, 3])
        points, regions, px, py = points[reach], regions[reach], px[reach], py[reach]
        box = self.boxes[regions]
        in_box = (box[:, 0] <= px) & (px <= box[:, 2]) & (box[:, 1] <= py) & (py <= box[:, 3])
        return points, regions, in_box


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for each count, concatenated."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
