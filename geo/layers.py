"""Region layers for the map: the simplified coverage of a kabupaten/kota, cached per boundary stamp. Never commits.

Simplifying a coverage takes a fraction of a second per layer, so each (database, kabupaten/kota, level)
keeps its result until a boundary of that level in that kabupaten/kota is added, changed or removed
(the stamp is their count and newest updated_at, as for geo.service.region_index).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo import mapdata
from geo.models import Wilayah
from geo.simplify import simplified_geojson

# The kecamatan layer of a kabupaten must stay under 150 KB for a tablet (issue 4); desa layers too.
MAX_LAYER_BYTES = 150_000
LAYER_LEVELS = ("kecamatan", "desa")


@dataclass(frozen=True)
class Layer:
    """A simplified FeatureCollection, its compact JSON and an ETag naming the boundaries it came from."""

    collection: dict
    payload: bytes
    etag: str


_layers: dict[tuple[str, str, str], tuple[tuple, Layer]] = {}
_lock = threading.Lock()


def region_layer(session: Session, kabkota_code: str, level: str) -> Layer:
    """The simplified kecamatan or desa/kelurahan layer of a kabupaten/kota (cached per boundary stamp)."""
    if level not in LAYER_LEVELS:
        raise ValueError(f"unknown layer level {level}")
    key = (session.get_bind().url.render_as_string(hide_password=True), kabkota_code, level)
    stamp = _stamp(session, kabkota_code, level)
    cached = _layers.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    collection = simplified_geojson(_boundaries(session, kabkota_code, level), max_bytes=MAX_LAYER_BYTES)
    payload = json.dumps(collection, separators=(",", ":"), ensure_ascii=False).encode()
    etag = hashlib.sha256(repr((key, stamp)).encode()).hexdigest()[:32]
    layer = Layer(collection, payload, etag)
    with _lock:
        _layers[key] = (stamp, layer)
    return layer


def kecamatan_layer(session: Session, kabkota_code: str) -> dict:
    """The simplified kecamatan FeatureCollection of a kabupaten/kota (properties: code, name). Do not mutate."""
    return region_layer(session, kabkota_code, "kecamatan").collection


def choropleth_layer(session: Session, kabkota_code: str, values: Mapping[str, Mapping]) -> dict:
    """The kecamatan layer of a kabupaten/kota with per-kecamatan properties merged in.

    `values` maps a kecamatan code to the properties map.js reads: value, label, class, colour
    (geo.mapdata.classed_values makes them from numbers and legend classes). The reuse point for any
    per-kecamatan map: audit coverage here, KLA indicators later.
    """
    return mapdata.choropleth(kecamatan_layer(session, kabkota_code), values)


def boundary_count(session: Session, kabkota_code: str, level: str) -> int:
    """How many regions of a level inside a kabupaten/kota have a boundary (0: that layer is not loaded)."""
    return _stamp(session, kabkota_code, level)[0]


def _members(level: str, kabkota_code: str):
    """The WHERE clause for the regions of a level inside a kabupaten/kota (codes nest: 36.73.01.1001)."""
    return (Wilayah.level == level, Wilayah.code.like(f"{kabkota_code}.%"), Wilayah.boundary.is_not(None))


def _stamp(session: Session, kabkota_code: str, level: str) -> tuple:
    count, newest = session.execute(select(func.count(), func.max(Wilayah.updated_at))
                                    .where(*_members(level, kabkota_code))).one()
    return count, str(newest)


def _boundaries(session: Session, kabkota_code: str, level: str) -> list[tuple[str, str, bytes]]:
    stmt = select(Wilayah.code, Wilayah.name, Wilayah.boundary).where(*_members(level, kabkota_code))
    return [(code, name, boundary) for code, name, boundary in session.execute(stmt.order_by(Wilayah.code))]
