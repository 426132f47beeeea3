"""Checking a latitude/longitude typed or sent by a device. Pure; no Flask."""

from __future__ import annotations

import math

from geo.problems import GEO_PROBLEMS

# Indonesia spans about 95°E–141°E and 6°N–11°S; a point outside is almost always swapped or mistyped.
INDONESIA = (-11.5, 6.5, 94.5, 141.5)


def check_position(lat, lon, field: str | None = None) -> None:
    """Raise AppError unless (lat, lon) are finite, in range and inside Indonesia's bounding box."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lat, lon)):
        raise GEO_PROBLEMS("geo.bad_coordinates", field=field)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise GEO_PROBLEMS("geo.bad_coordinates/range", field=field)
    south, north, west, east = INDONESIA
    if not (south <= lat <= north and west <= lon <= east):
        raise GEO_PROBLEMS("geo.outside_indonesia", field=field)
