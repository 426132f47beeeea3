"""Checking a latitude/longitude typed or sent by a device. Pure; no Flask."""

from __future__ import annotations

import math

from app.problems import AppError, N_

# Indonesia spans about 95°E–141°E and 6°N–11°S; a point outside is almost always swapped or mistyped.
INDONESIA = (-11.5, 6.5, 94.5, 141.5)


def check_position(lat, lon, field: str | None = None) -> None:
    """Raise AppError unless (lat, lon) are finite, in range and inside Indonesia's bounding box."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lat, lon)):
        raise AppError("geo.bad_coordinates", N_("The position is not a valid latitude and longitude."), field=field)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise AppError("geo.bad_coordinates",
                       N_("Latitude must be between -90 and 90 and longitude between -180 and 180."), field=field)
    south, north, west, east = INDONESIA
    if not (south <= lat <= north and west <= lon <= east):
        raise AppError("geo.outside_indonesia",
                       N_("This position is outside Indonesia. Check that latitude and longitude are not swapped."),
                       field=field)
