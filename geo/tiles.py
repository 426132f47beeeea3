"""An optional basemap: raster tiles read from an MBTiles file (SQLite) and served by the app itself. Pure; sqlite3.

MBTiles 1.3: a `metadata` table (name, value) and a `tiles` table or view (zoom_level, tile_column,
tile_row, tile_data). Rows are numbered TMS-style, from the south: row = 2^z - 1 - y for the y of the
XYZ URLs Leaflet asks for. Vector tiles (pbf) need a renderer the app does not ship, so they are refused.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from geo.problems import GEO_PROBLEMS

FORMATS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class Basemap:
    """What an MBTiles file holds, from its metadata."""

    path: str
    name: str
    format: str  # png, jpg or webp: the extension of the tile URLs
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float] | None  # west, south, east, north
    attribution: str

    @property
    def mimetype(self) -> str:
        return FORMATS[self.format]


_opened: dict[tuple, Basemap] = {}
_lock = threading.Lock()


def open_basemap(path: str | os.PathLike) -> Basemap:
    """Check an MBTiles file and read its metadata (cached until the file changes); else BasemapError."""
    file = Path(path)
    try:
        stat = file.stat()
    except OSError:
        raise GEO_PROBLEMS("tiles.missing_file", path=str(file)) from None
    key = (str(file), stat.st_mtime_ns, stat.st_size)
    cached = _opened.get(key)
    if cached is not None:
        return cached
    basemap = _read(file)
    with _lock:
        _opened[key] = basemap
    return basemap


def tile(basemap: Basemap, z: int, x: int, y: int) -> bytes | None:
    """The tile at XYZ (z, x, y), or None when the file has none there."""
    if not (0 <= z <= 30 and 0 <= x < 2 ** z and 0 <= y < 2 ** z):
        return None
    with closing(_connect(Path(basemap.path))) as connection:
        row = connection.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                                 (z, x, 2 ** z - 1 - y)).fetchone()
    return bytes(row[0]) if row and row[0] is not None else None


def _connect(file: Path) -> sqlite3.Connection:
    """A read-only connection: the app never writes to a basemap. Use it in `closing()`: sqlite3's own
    context manager ends a transaction but leaves the connection open."""
    return sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)


def _read(file: Path) -> Basemap:
    """Validate the file and read its metadata."""
    bad = {"path": str(file)}
    try:
        with closing(_connect(file)) as connection:
            names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            if not {"metadata", "tiles"} <= names:
                raise GEO_PROBLEMS("tiles.bad_file/no_tables", **bad)
            metadata = {str(name): str(value) for name, value in connection.execute("SELECT name, value FROM metadata")}
            zooms = connection.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
    except sqlite3.DatabaseError:
        raise GEO_PROBLEMS("tiles.bad_file", **bad) from None
    fmt = metadata.get("format", "png").lower()
    if fmt not in FORMATS:
        raise GEO_PROBLEMS("tiles.unsupported_format", format=fmt, **bad)
    if zooms[0] is None:
        raise GEO_PROBLEMS("tiles.empty", **bad)
    return Basemap(path=str(file), name=metadata.get("name", file.stem), format="jpg" if fmt == "jpeg" else fmt,
                   minzoom=_int(metadata.get("minzoom"), zooms[0]), maxzoom=_int(metadata.get("maxzoom"), zooms[1]),
                   bounds=_bounds(metadata.get("bounds")), attribution=_plain_text(metadata.get("attribution", "")))


def _int(text: str | None, default: int) -> int:
    try:
        return int(float(text)) if text is not None else int(default)
    except ValueError:
        return int(default)


def _bounds(text: str | None) -> tuple[float, float, float, float] | None:
    """west,south,east,north from the metadata, when it is four numbers in range."""
    try:
        west, south, east, north = (float(part) for part in (text or "").split(","))
    except ValueError:
        return None
    if -180 <= west < east <= 180 and -90 <= south < north <= 90:
        return west, south, east, north
    return None


def _plain_text(text: str) -> str:
    """The file's attribution without markup: Leaflet shows it as HTML, and the file is not ours
    (entities such as &copy; stay: they are text; the CSP forbids inline handlers anyway)."""
    return re.sub(r"<[^>]*>?", "", text)[:200]
