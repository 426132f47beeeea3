"""Where an audit was taken compared with where it should be. Pure; shapely only, no Flask.

Warnings, never blocks: GPS in a courtyard may be poor, a registry position may be wrong; the
supervisor decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from shapely import wkb
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.distance import haversine_m

POOR_ACCURACY = "gps.poor_accuracy"
OUTSIDE_KECAMATAN = "gps.outside_kecamatan"
FAR_FROM_FACILITY = "gps.far_from_facility"
NO_ACCURACY = "gps.no_accuracy"

# Real boundaries overlap or leave slivers of up to ~20 m along shared borders; a point this close
# to its kecamatan counts as inside rather than raising a false alarm.
BORDER_TOLERANCE_M = 25.0


@dataclass(frozen=True)
class Limits:
    """Thresholds from the settings."""

    accuracy_m: float = 30.0
    distance_m: float = 150.0


def position_warnings(lat: float, lon: float, accuracy_m: float | None, source: str, *,
                      facility_lat: float | None, facility_lon: float | None,
                      kecamatan_boundary: bytes | BaseGeometry | None, limits: Limits) -> list[str]:
    """Warning codes for one reading, in a stable order."""
    warnings = []
    if source == "gps":
        if accuracy_m is None:
            warnings.append(NO_ACCURACY)
        elif accuracy_m > limits.accuracy_m:
            warnings.append(POOR_ACCURACY)
    if kecamatan_boundary is not None and not inside(lat, lon, kecamatan_boundary):
        warnings.append(OUTSIDE_KECAMATAN)
    if facility_lat is not None and facility_lon is not None:
        if haversine_m(lat, lon, facility_lat, facility_lon) > limits.distance_m:
            warnings.append(FAR_FROM_FACILITY)
    return warnings


def inside(lat: float, lon: float, boundary: bytes | BaseGeometry) -> bool:
    """True when the point lies in the polygon or within BORDER_TOLERANCE_M of its edge."""
    shape = wkb.loads(boundary) if isinstance(boundary, (bytes, bytearray, memoryview)) else boundary
    point = Point(lon, lat)
    if shape.covers(point):
        return True
    # Degrees to metres at this latitude is close enough for a 25 m tolerance.
    return shape.distance(point) * 111_320 <= BORDER_TOLERANCE_M
