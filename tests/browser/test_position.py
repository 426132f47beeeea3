"""Positions in the browser: the hand-set map shows the kecamatan outline, the registered point and the distance
(live while choosing, from the server after saving); the GPS wait shows each reading's accuracy and keeps the best."""

from __future__ import annotations

import re
import sqlite3

REGISTERED = "Lokasi terdaftar"


def db_rows(server, sql: str, *args):
    with sqlite3.connect(server.instance / "pantau.db") as conn:
        return conn.execute(sql, args).fetchall()


def start_audit(tab, facility: str) -> str:
    """Open the facility by its name and start its audits; the first one opens."""
    tab.goto("/facilities/?kecamatan=36.73.01&q=" + facility.replace(" ", "+"))
    tab.page.get_by_role("link", name=facility).first.click()
    tab.page.get_by_role("link", name="Mulai audit").click()
    tab.page.get_by_role("button", name="Mulai", exact=True).click()  # the checklists offered are all ticked
    tab.page.wait_for_selector("#position")


def test_the_hand_set_map_shows_the_outline_the_registered_point_and_the_distance(demo_server, tab_factory):
    tab = tab_factory(demo_server.url, "phone")  # no geolocation permission: the page opens the manual map
    tab.login("auditor")
    start_audit(tab, "RTH Taman Serang")
    page = tab.page
    manual = page.locator("details[data-manual]")
    page.wait_for_function("() => document.querySelector('details[data-manual]').open")
    canvas = manual.locator("[data-map]")
    # The outline is an SVG path in Leaflet's overlay pane, and the whole of it is in view (not a grey box at zoom 17).
    page.wait_for_function("() => document.querySelectorAll('#position .leaflet-overlay-pane path').length >= 2")
    box = canvas.bounding_box()
    paths = [p.bounding_box() for p in canvas.locator(".leaflet-overlay-pane path").all()]
    outline = max(paths, key=lambda b: b["width"] * b["height"])
    assert outline["width"] > box["width"] / 3 and outline["height"] > box["height"] / 3
    assert box["x"] - 1 <= outline["x"] and outline["x"] + outline["width"] <= box["x"] + box["width"] + 1
    assert manual.get_by_text(REGISTERED, exact=True).first.is_visible()  # the registered point's label
    assert canvas.locator(".leaflet-control-scale-line").is_visible()

    # Live distance while choosing: typing a flipped latitude warns before anything is sent.
    facility_lat = float(canvas.get_attribute("data-facility-lat"))
    facility_lon = float(canvas.get_attribute("data-facility-lon"))
    page.get_by_label("Lintang").fill(f"{-facility_lat:.5f}".replace(".", ","))
    page.get_by_label("Bujur").fill(f"{facility_lon:.5f}")
    distance = page.locator("[data-map-distance]")
    assert re.match(r"1\.3\d\d km dari lokasi terdaftar", distance.inner_text())  # ~1,360 km, Indonesian digits
    assert "titik sejauh ini ditolak" in distance.inner_text()
    # A tap on the map near the registered point: the distance follows the tap.
    canvas.click(position={"x": box["width"] / 2 + 20, "y": box["height"] / 2 + 20})
    assert " km dari lokasi terdaftar" in distance.inner_text() or " m dari lokasi terdaftar" in distance.inner_text()

    # Saved: the server's distance to the registered point (0.001° of latitude is 111 m).
    page.get_by_label("Lintang").fill(f"{facility_lat + 0.001:.6f}")
    page.get_by_label("Bujur").fill(f"{facility_lon:.6f}")
    page.get_by_role("button", name="Simpan posisi ini").click()
    saved = page.locator("[data-saved-distance]")
    saved.wait_for()
    assert saved.inner_text().startswith("111 m dari lokasi terdaftar")
    assert db_rows(demo_server, "SELECT position_source FROM audit WHERE lat IS NOT NULL AND facility_id IN "
                   "(SELECT id FROM facility WHERE name = 'RTH Taman Serang')") == [("manual",)]
    page.wait_for_function("() => document.querySelectorAll('#position .leaflet-overlay-pane path').length >= 3")
    tab.assert_clean()


def test_the_gps_wait_shows_live_accuracy_and_keeps_the_best_reading(demo_server, tab_factory):
    point = {"latitude": -6.1126, "longitude": 106.1611}
    tab = tab_factory(demo_server.url, "tablet", geolocation={**point, "accuracy": 120}, permissions=["geolocation"])
    tab.login("auditor")
    start_audit(tab, "RPTRA Serang 3")  # opening the draft starts the GPS wait
    page, context = tab.page, tab.context
    live = page.locator("#position [data-gps-live]")
    live.get_by_text("± 120 m sekarang").wait_for()
    use = live.get_by_role("button", name="Pakai posisi ini")
    context.set_geolocation({**point, "accuracy": 45})
    live.get_by_text("± 45 m sekarang").wait_for()
    context.set_geolocation({**point, "accuracy": 200})
    live.get_by_text("± 200 m sekarang").wait_for()
    assert "terbaik ± 45 m" in live.inner_text()  # the best reading is kept, not the last
    assert page.locator("#position .pos-line").count() == 0  # nothing is sent while waiting
    use.click()
    page.locator("#position .pos-line").wait_for()
    assert "± 45 m" in page.locator("#position .pos-line").inner_text()
    assert db_rows(demo_server, "SELECT accuracy_m, position_source FROM audit WHERE lat IS NOT NULL AND facility_id IN "
                   "(SELECT id FROM facility WHERE name = 'RPTRA Serang 3')") == [(45.0, "gps")]

    # Taken again: a reading within GPS_ACCURACY_WARN_M (30 m) is used at once, without a tap.
    context.set_geolocation({**point, "accuracy": 8})
    page.get_by_role("button", name="Ambil ulang posisi GPS").click()
    page.locator("#position .pos-line .badge", has_text="± 8 m").wait_for()
    assert page.locator("#position [data-gps-live]").count() == 0
    tab.assert_clean()


def test_the_facility_form_takes_its_position_through_the_same_gps_wait(demo_server, tab_factory):
    tab = tab_factory(demo_server.url, "phone", geolocation={"latitude": -6.1201, "longitude": 106.1503, "accuracy": 7},
                      permissions=["geolocation"])
    tab.login("auditor")
    tab.goto("/facilities/new")
    page = tab.page
    page.get_by_role("button", name="Gunakan posisi saya").click()
    page.wait_for_function("() => document.querySelector('[name=lat]').value !== ''")
    assert float(page.get_by_label("Lintang").input_value()) == -6.1201
    assert float(page.get_by_label("Bujur").input_value()) == 106.1503
    assert page.get_by_text("± 7 m").is_visible(), "the accuracy taken stays beside the button"
    tab.assert_clean()
