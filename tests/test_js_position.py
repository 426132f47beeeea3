"""The field app decides positions in JavaScript (static/app/position.js) as the desktop and the hub do with
geo/geofence.py: the same verdict (refused beyond the kecamatan's limit, confirmed when set by hand outside it),
the same warnings, nearly the same distance outside (a flat projection against shapely's nearest point)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import pytest
from shapely.geometry import Polygon, mapping

from geo.geofence import Limits, decide, distance_outside_m, placement, position_warnings
from tests.support import ROOT

# An irregular kecamatan around Serang (lon, lat), with a notch: the nearest edge is not always a corner.
OUTLINE = Polygon([(106.10, -6.15), (106.16, -6.16), (106.19, -6.12), (106.15, -6.11), (106.145, -6.13),
                   (106.12, -6.10), (106.10, -6.15)])
LIMITS = Limits(accuracy_m=30.0, distance_m=150.0, far_m=100_000.0)
FACILITY = {"lat": -6.1300, "lon": 106.1500}
M = 1 / 111_320  # about a metre of latitude, in degrees

POINTS = {
    "inside": (-6.13, 106.15),
    "inside, near the notch": (-6.118, 106.145),
    "10 m outside the south edge (border tolerance)": (-6.16 - 10 * M, 106.16),
    "60 m outside the south edge": (-6.16 - 60 * M, 106.16),
    "5 km east": (-6.13, 106.19 + 5000 * M),
    "80 km north": (-6.10 + 80_000 * M, 106.12),
    "latitude's sign flipped": (6.13, 106.15),
    "Jakarta": (-6.2, 106.85),
    "at sea, far": (-9.5, 110.0),
}


def cases():
    for name, (lat, lon) in POINTS.items():
        for source, accuracy in (("gps", 8.0), ("gps", 80.0), ("gps", None), ("manual", None), ("map", None)):
            for facility in (FACILITY, {"lat": None, "lon": None}):
                for outline in (True, False):
                    yield {"name": name, "lat": lat, "lon": lon, "accuracy": accuracy, "source": source,
                           "facility": facility, "outline": outline}


def test_the_tablet_decides_a_position_as_the_desktop_does():
    node = shutil.which("node")
    assert node, "node is needed to test the field app's position rules (make setup installs it with npm)"
    table = list(cases())
    body = {"region": {"code": "36.73.01", "name": "Serang", "geometry": mapping(OUTLINE)},
            "limits": {"accuracy_m": LIMITS.accuracy_m, "distance_m": LIMITS.distance_m, "far_m": LIMITS.far_m},
            "cases": table}
    result = subprocess.run([node, str(ROOT / "tests" / "js" / "position.mjs")], input=json.dumps(body), cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert len(got) == len(table)
    for case, js in zip(table, got):
        boundary = OUTLINE if case["outline"] else None
        facility = case["facility"]
        where = placement(case["lat"], case["lon"], facility_lat=facility["lat"], facility_lon=facility["lon"],
                          kecamatan_boundary=boundary)
        want = {"verdict": decide(where, case["source"], LIMITS),
                "warnings": position_warnings(case["lat"], case["lon"], case["accuracy"], case["source"],
                                              facility_lat=facility["lat"], facility_lon=facility["lon"],
                                              kecamatan_boundary=boundary, limits=LIMITS)}
        assert {"verdict": js["verdict"], "warnings": js["warnings"]} == want, case
        if boundary is not None:
            exact = distance_outside_m(case["lat"], case["lon"], boundary)
            assert math.isclose(js["outside_m"], exact, rel_tol=0.01, abs_tol=2.0), (case["name"], js["outside_m"], exact)


@pytest.mark.parametrize("name", ["80 km north", "latitude's sign flipped"])
def test_the_table_holds_each_verdict(name):
    """The table above is worth its name: it has points the rules accept, confirm and refuse."""
    lat, lon = POINTS[name]
    where = placement(lat, lon, facility_lat=None, facility_lon=None, kecamatan_boundary=OUTLINE)
    assert decide(where, "manual", LIMITS) == {"80 km north": "confirm", "latitude's sign flipped": "refuse"}[name]
