"""Where a position may be: the far-outside rule (geo.geofence.decide), the kecamatan check, and the audit's
position form refusing a flipped-sign latitude, asking to confirm a hand-set point outside the kecamatan and
showing the distance to the facility's registered point."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from survey import demo
from geo.geofence import (ACCEPT, CONFIRM, MATCH, NOWHERE, OTHER, REFUSE, UNCHECKED, Limits, check_kecamatan, decide,
                          distance_outside_m, placement)
from geo.locate import Region
from survey.audits.models import Audit, GpsReading
from tests.support import html

SERANG = demo.demo_boundaries()["36.73.01"]
FACILITY = (-6.1150, 106.1600)  # the `facility` fixture's registered point, in Kecamatan Serang
LIMITS = Limits(accuracy_m=30, distance_m=150)

# (name, lat, lon, source, boundary loaded, facility known, expected)
RULE = [
    ("inside, GPS", -6.1151, 106.1601, "gps", True, True, ACCEPT),
    ("inside, typed", -6.1151, 106.1601, "manual", True, True, ACCEPT),
    ("next kecamatan, typed", -6.06, 106.19, "manual", True, True, CONFIRM),
    ("next kecamatan, tapped", -6.06, 106.19, "map", True, True, CONFIRM),
    ("next kecamatan, GPS: where the device is", -6.06, 106.19, "gps", True, True, ACCEPT),
    ("Jakarta, ~65 km: typed", -6.20, 106.80, "manual", True, True, CONFIRM),
    ("latitude sign flipped", 6.1151, 106.1601, "manual", True, True, REFUSE),
    ("latitude sign flipped, GPS", 6.1151, 106.1601, "gps", True, True, REFUSE),
    ("Bandung, ~150 km", -6.90, 107.60, "manual", True, True, REFUSE),
    ("flipped, no boundary: measured from the facility", 6.1151, 106.1601, "manual", False, True, REFUSE),
    ("next kecamatan, no boundary: nothing to confirm", -6.06, 106.19, "manual", False, True, ACCEPT),
    ("flipped, neither boundary nor facility", 6.1151, 106.1601, "manual", False, False, ACCEPT),
]


@pytest.mark.parametrize("lat,lon,source,has_boundary,has_facility,expected",
                         [row[1:] for row in RULE], ids=[row[0] for row in RULE])
def test_the_far_outside_rule(lat, lon, source, has_boundary, has_facility, expected):
    where = placement(lat, lon, facility_lat=FACILITY[0] if has_facility else None,
                      facility_lon=FACILITY[1] if has_facility else None,
                      kecamatan_boundary=SERANG.wkb if has_boundary else None)
    assert decide(where, source, LIMITS) == expected


def test_a_flipped_latitude_is_1360_km_away():
    flipped = placement(6.1151, 106.1601, facility_lat=FACILITY[0], facility_lon=FACILITY[1], kecamatan_boundary=SERANG)
    assert 1_355_000 < flipped.facility_distance_m < 1_365_000
    assert 1_300_000 < flipped.outside_by_m < flipped.facility_distance_m  # the kecamatan's edge is nearer
    assert distance_outside_m(-6.1151, 106.1601, SERANG) == 0.0
    assert placement(-6.1151, 106.1601, facility_lat=None, facility_lon=None, kecamatan_boundary=None).far_m is None


KECAMATAN_CHECK = [
    ("same kecamatan", "36.73.01", Region("36.73.01", "Serang"), True, True, MATCH, "36.73.01"),
    ("another kecamatan", "36.73.01", Region("36.73.05", "Cipocok Jaya"), True, True, OTHER, "36.73.05"),
    ("outside every kecamatan", "36.73.01", None, True, True, NOWHERE, None),
    ("no position", "36.73.01", None, False, True, UNCHECKED, None),
    ("no boundaries loaded", "36.73.01", None, True, False, UNCHECKED, None),
]


@pytest.mark.parametrize("chosen,located,has_position,loaded,status,located_code",
                         [row[1:] for row in KECAMATAN_CHECK], ids=[row[0] for row in KECAMATAN_CHECK])
def test_the_kecamatan_check(chosen, located, has_position, loaded, status, located_code):
    check = check_kecamatan(chosen, located, has_position=has_position, boundaries_loaded=loaded)
    assert (check.status, check.located_code) == (status, located_code)
    assert check.needs_confirmation == (status in (OTHER, NOWHERE))


# -- the audit's position form --------------------------------------------------------------------------

def start(auth, facility_id: str) -> str:
    response = auth.post(f"/facilities/{facility_id}/audits/new", {"checklist": ["ktr@1"]})
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[1]


def post_position(auth, audit_id: str, lat, lon, source="manual", **extra):
    return auth.post(f"/audits/{audit_id}/position", {"lat": lat, "lon": lon, "source": source, **extra},
                     headers={"HX-Request": "true"})


def count_readings(app) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(GpsReading)).scalar_one()


@pytest.fixture
def audit_id(auth, auditor, facility):
    auth.login("siti")
    return start(auth, facility)


@pytest.mark.parametrize("source", ["manual", "gps"])
def test_a_flipped_latitude_is_refused_beside_the_form(app, auth, audit_id, source):
    response = post_position(auth, audit_id, "6,1151", "106,1601", source=source)
    assert response.status_code == 422
    panel = html(response).select_one("#position")
    problem = panel.select_one("[data-position-problem='gps.far_outside']")
    km = int(re.search(r"(\d+) km", problem.get_text()).group(1))
    assert 1300 < km < 1400 and "kecamatan Serang" in problem.get_text()
    assert "negatif" in problem.get_text()  # the hint, in Indonesian (the default language)
    if source == "manual":
        assert panel.select_one("details[data-manual]").has_attr("open")
        assert panel.select_one("#manual-lat")["value"] == "6,1151"  # kept as typed
    assert count_readings(app) == 0


def test_a_hand_set_point_outside_the_kecamatan_is_confirmed_first(app, auth, audit_id):
    asked = post_position(auth, audit_id, "-6.06", "106.19")
    assert asked.status_code == 409
    panel = html(asked).select_one("#position")
    assert "di luar kecamatan Serang" in panel.select_one("[data-position-problem='gps.confirm_outside']").get_text()
    assert panel.select_one("button[name=confirm_outside][value='1']")
    assert count_readings(app) == 0
    saved = post_position(auth, audit_id, "-6.06", "106.19", confirm_outside="1")
    assert saved.status_code == 200
    panel = html(saved).select_one("#position")
    assert panel.select_one("[data-warning='gps.outside_kecamatan']")
    assert count_readings(app) == 1


def test_the_saved_position_shows_its_distance_to_the_registered_point(app, auth, audit_id):
    panel = html(post_position(auth, audit_id, "-6.1170", "106.1600", source="map")).select_one("#position")
    distance = panel.select_one("[data-saved-distance]")
    assert 215 <= int(distance["data-saved-distance"]) <= 230  # 0.002° of latitude
    assert "m dari lokasi terdaftar" in distance.get_text()
    from app.extensions import db

    with app.app_context():
        assert db.session.execute(select(Audit.position_source)).scalar_one() == "map"


def test_the_map_gets_the_outline_the_registered_point_and_the_limits(auth, audit_id):
    page = html(auth.client.get(f"/audits/{audit_id}"))
    canvas = page.select_one("#position [data-map]")
    assert canvas["data-boundary"].endswith("/wilayah/36.73.01/boundary.geojson")
    assert (float(canvas["data-facility-lat"]), float(canvas["data-facility-lon"])) == FACILITY
    assert canvas["data-far-m"] == "100000" and canvas["data-warn-m"] == str(int(auth.client.application.config[
        "FACILITY_DISTANCE_WARN_M"]))
    assert "{d}" in canvas["data-text-distance"]
    outline = auth.client.get(canvas["data-boundary"])
    assert outline.status_code == 200 and outline.get_json()["geometry"]["type"] in ("Polygon", "MultiPolygon")
