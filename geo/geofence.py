"""Where an audit was taken compared with where it should be. Pure; shapely only, no Flask.

Warnings, not blocks, for what may be right: GPS in a courtyard may be poor, a registry position may be
wrong; the supervisor decides. Two exceptions (`decide`): a point more than FAR_OUTSIDE_M from the
facility's kecamatan cannot be the audit's position (a flipped sign, a mistyped digit) and is refused;
a point set by hand outside the kecamatan is confirmed by the user before it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from shapely import wkb
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from geo.distance import haversine_m

POOR_ACCURACY = "gps.poor_accuracy"
OUTSIDE_KECAMATAN = "gps.outside_kecamatan"
FAR_FROM_FACILITY = "gps.far_from_facility"
NO_ACCURACY = "gps.no_accuracy"

# A hand-set position needs a confirmation outside its kecamatan; beyond this it is refused (a latitude
# with its sign flipped lands ~1,360 km away, a swapped digit tens to hundreds of km: no audit is there).
FAR_OUTSIDE_M = 100_000.0

# What to do with a position: take it, ask for a confirmation first (outside the kecamatan), refuse it.
ACCEPT, CONFIRM, REFUSE = "accept", "confirm", "refuse"

# Real boundaries overlap or leave slivers of up to ~20 m along shared borders; a point this close
# to its kecamatan counts as inside rather than raising a false alarm.
BORDER_TOLERANCE_M = 25.0


@dataclass(frozen=True)
class Limits:
    """Thresholds from the settings."""

    accuracy_m: float = 30.0
    distance_m: float = 150.0
    far_m: float = FAR_OUTSIDE_M


@dataclass(frozen=True)
class Placement:
    """Where a point lies relative to the facility's registered point and its kecamatan."""

    facility_distance_m: float | None  # None: the facility has no registered position
    outside_by_m: float | None  # metres beyond the kecamatan's edge (0 inside); None: no boundary loaded

    @property
    def outside(self) -> bool:
        """Beyond the kecamatan by more than the border tolerance."""
        return self.outside_by_m is not None and self.outside_by_m > BORDER_TOLERANCE_M

    @property
    def far_m(self) -> float | None:
        """How far the point is from where the audit should be: the kecamatan when loaded, else the facility."""
        return self.outside_by_m if self.outside_by_m is not None else self.facility_distance_m


def placement(lat: float, lon: float, *, facility_lat: float | None, facility_lon: float | None,
              kecamatan_boundary: bytes | BaseGeometry | None) -> Placement:
    """Distances from a point to the facility's registered point and to its kecamatan."""
    facility = (haversine_m(lat, lon, facility_lat, facility_lon)
                if facility_lat is not None and facility_lon is not None else None)
    outside = distance_outside_m(lat, lon, kecamatan_boundary) if kecamatan_boundary is not None else None
    return Placement(facility, outside)


def decide(where: Placement, source: str, limits: Limits) -> str:
    """ACCEPT, CONFIRM or REFUSE a position.

    Beyond `limits.far_m` from the kecamatan (or, without a boundary, from the facility) nothing can be
    the audit's position: refused, whatever the source. A point outside the kecamatan set by hand (typed
    or tapped) is easy to get wrong: the user confirms it. A GPS reading outside is where the device is:
    kept with its warning, the supervisor decides.
    """
    far = where.far_m
    if far is not None and far > limits.far_m:
        return REFUSE
    if where.outside and source in ("manual", "map"):
        return CONFIRM
    return ACCEPT


def distance_outside_m(lat: float, lon: float, boundary: bytes | BaseGeometry) -> float:
    """Metres from the point to the nearest point of the polygon; 0 inside it."""
    shape = _shape(boundary)
    point = Point(lon, lat)
    if shape.covers(point):
        return 0.0
    nearest = nearest_points(shape, point)[0]
    return haversine_m(lat, lon, nearest.y, nearest.x)


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
    shape = _shape(boundary)
    point = Point(lon, lat)
    if shape.covers(point):
        return True
    # Degrees to metres at this latitude is close enough for a 25 m tolerance.
    return shape.distance(point) * 111_320 <= BORDER_TOLERANCE_M


def _shape(boundary: bytes | BaseGeometry) -> BaseGeometry:
    """A geometry from WKB (as stored) or a geometry."""
    return wkb.loads(bytes(boundary)) if isinstance(boundary, (bytes, bytearray, memoryview)) else boundary


# The kecamatan chosen for a new facility against the one its position lies in.
MATCH, OTHER, NOWHERE, UNCHECKED = "match", "other", "nowhere", "unchecked"


@dataclass(frozen=True)
class KecamatanCheck:
    """The chosen kecamatan against the located one: MATCH, OTHER (`located` names it), NOWHERE or UNCHECKED."""

    status: str
    chosen_code: str
    located_code: str | None = None
    located_name: str | None = None

    @property
    def needs_confirmation(self) -> bool:
        """The user must choose: the located kecamatan, or keep theirs because the point is right."""
        return self.status in (OTHER, NOWHERE)


def check_kecamatan(chosen_code: str, located, *, has_position: bool, boundaries_loaded: bool) -> KecamatanCheck:
    """Compare the chosen kecamatan with the region (geo.locate.Region or None) the position lies in."""
    if not has_position or not boundaries_loaded:
        return KecamatanCheck(UNCHECKED, chosen_code)
    if located is None:
        return KecamatanCheck(NOWHERE, chosen_code)
    status = MATCH if located.code == chosen_code else OTHER
    return KecamatanCheck(status, chosen_code, located.code, located.name)
