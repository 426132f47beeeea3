"""Maps over HTTP: layers (size, cache), markers by latest counted audit, filters, permissions, the card, coverage."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import make_facility, make_user
from tests.geo_support import make_audit, this_year_utc
from tests.support import ROOT, SHARED, html, require

BOUNDARIES = SHARED / "data" / "boundaries"
# File slug, kabupaten/kota code, kecamatan and desa/kelurahan counts (SOURCE.md beside the files).
REAL = {"kota-serang": ("36.73", 6, 67), "kota-blitar": ("35.72", 3, 21), "kabupaten-pali": ("16.12", 5, 71)}
KB_150 = 150_000


@pytest.fixture
def geo_cli(app):
    from geo import cli

    if "geo" not in app.cli.commands:
        cli.register(app)
    return app


@pytest.fixture
def city(app, kota_serang, auditor, supervisor, planner):
    """Kota Serang with four facilities: two audited in Kecamatan Serang, one unaudited, one in Kasemen.

    Siti's park meets the standard (approved), the school does not (not yet reviewed), the puskesmas is not
    audited, and the Kasemen park's only audit was rejected by the hub.
    """
    park = make_facility(app, name="Taman Bermain RW 01")
    school = make_facility(app, kind="sekolah", name="SD Negeri 1 Serang", official_id="20601001", lat=-6.112, lon=106.158)
    clinic = make_facility(app, kind="puskesmas", name="Puskesmas Serang", lat=-6.118, lon=106.163)
    kasemen = make_facility(app, name="RTH Kasemen", kecamatan_code="36.73.02", lat=-6.06, lon=106.19)
    when = this_year_utc()
    make_audit(app, park, "siti", "memenuhi", 0.9, when, "approved", answers={"jauh_dari_sumber_bahaya": "ya"})
    make_audit(app, school, "siti", "belum_memenuhi", 0.4, when)
    make_audit(app, kasemen, "siti", "memenuhi", 0.8, when, "rejected")
    return {"park": park, "school": school, "clinic": clinic, "kasemen": kasemen}


def geojson(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/geo+json"
    return json.loads(response.get_data())


def markers(client, path: str) -> dict[str, dict]:
    return {f["properties"]["name"]: f["properties"] for f in geojson(client.get(path))["features"]}


# -- layers --------------------------------------------------------------------------------------------

@pytest.mark.shared_data
@pytest.mark.parametrize("slug", REAL)
def test_real_layers_are_sent_simplified_under_150_kb_and_cached(app, auth, geo_cli, planner, slug):
    require(BOUNDARIES.is_dir(), f"shared boundary data not found at {BOUNDARIES}")
    runner = app.test_cli_runner()
    code, kecamatan, desa = REAL[slug]
    for level, name in (("kecamatan", f"kecamatan_{slug}.geojson"), ("desa", f"desa_kelurahan_{slug}.geojson")):
        result = runner.invoke(args=["geo", "import", str(BOUNDARIES / name), "--level", level])
        assert result.exit_code == 0, result.output
    auth.login("dewi")
    for level, count in (("kecamatan", kecamatan), ("desa", desa)):
        response = auth.client.get(f"/wilayah/{code}/layers/{level}.geojson")
        layer = geojson(response)
        assert len(response.get_data()) < KB_150, f"{slug} {level}: {len(response.get_data())} bytes"
        assert layer["simplification"]["fits"] and layer["simplification"]["bytes"] < len(response.get_data()) < KB_150
        assert len(layer["features"]) == count
        assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in layer["features"])
        again = auth.client.get(f"/wilayah/{code}/layers/{level}.geojson", headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
    first_kecamatan = geojson(auth.client.get(f"/wilayah/{code}/layers/kecamatan.geojson"))["features"][0]["properties"]["code"]
    own_desa = geojson(auth.client.get(f"/wilayah/{first_kecamatan}/layers/desa.geojson"))["features"]
    assert own_desa and all(f["properties"]["code"].startswith(first_kecamatan + ".") for f in own_desa)


def test_layer_is_simplified_again_when_a_boundary_changes(app, auth, planner):
    import shapely
    from app.cli_support import write_transaction
    from geo.models import Wilayah

    auth.login("dewi")
    before = auth.client.get("/wilayah/36.73/layers/kecamatan.geojson")
    with app.app_context(), write_transaction() as session:
        serang = session.get(Wilayah, "36.73.01")
        serang.boundary = shapely.from_wkb(serang.boundary).buffer(-0.002).wkb
    after = auth.client.get("/wilayah/36.73/layers/kecamatan.geojson")
    assert after.headers["ETag"] != before.headers["ETag"] and after.get_data() != before.get_data()


def test_unknown_layer_and_region_are_404(auth, planner):
    auth.login("dewi")
    assert auth.client.get("/wilayah/36.73/layers/provinsi.geojson").status_code == 404
    assert auth.client.get("/wilayah/99.99/map").status_code == 404
    assert auth.client.get("/wilayah/36/map").status_code == 404  # a provinsi has no map page


# -- markers, filters, review states --------------------------------------------------------------------

def test_markers_are_coloured_by_the_latest_audit_a_device_relies_on(auth, city):
    auth.login("dewi")
    found = markers(auth.client, "/wilayah/36.73/facilities.geojson")
    assert {name: p["result"] for name, p in found.items()} == {
        "Taman Bermain RW 01": "memenuhi", "SD Negeri 1 Serang": "belum_memenuhi", "Puskesmas Serang": "none",
        "RTH Kasemen": "none"}  # a rejected audit does not count
    assert found["Taman Bermain RW 01"]["colour"] == "#17692f" and found["Puskesmas Serang"]["colour"] == "#6b7684"
    assert found["Taman Bermain RW 01"]["id"] == city["park"] and "review" not in found["Puskesmas Serang"]


def test_on_a_hub_only_approved_audits_colour_the_map_and_waiting_ones_are_marked(app, auth, city):
    app.config["ROLE"] = "hub"
    auth.login("dewi")
    found = markers(auth.client, "/wilayah/36.73/facilities.geojson")
    assert found["Taman Bermain RW 01"]["result"] == "memenuhi"
    assert found["Taman Bermain RW 01"]["review"] == "approved"
    assert found["SD Negeri 1 Serang"]["result"] == "none" and found["SD Negeri 1 Serang"]["review"] == "waiting"
    page = html(auth.client.get("/wilayah/36.73/table"))
    school_row = next(tr for tr in page.select("table.facility-table tbody tr") if "SD Negeri 1 Serang" in tr.get_text())
    assert school_row.select_one(".badge.none") and school_row.select_one(".badge.warn")


@pytest.mark.parametrize("query, expected", [
    ("", {"Taman Bermain RW 01", "SD Negeri 1 Serang", "Puskesmas Serang", "RTH Kasemen"}),
    ("?kind=sekolah", {"SD Negeri 1 Serang"}),
    ("?kind=sekolah&kind=puskesmas", {"SD Negeri 1 Serang", "Puskesmas Serang"}),
    ("?result=none", {"Puskesmas Serang", "RTH Kasemen"}),
    ("?result=memenuhi&kind=ruang_bermain", {"Taman Bermain RW 01"}),
    ("?kind=nonsense", {"Taman Bermain RW 01", "SD Negeri 1 Serang", "Puskesmas Serang", "RTH Kasemen"}),
])
def test_filters_by_kind_and_result_give_the_same_facilities_on_map_and_table(auth, city, query, expected):
    auth.login("dewi")
    assert set(markers(auth.client, f"/wilayah/36.73/facilities.geojson{query}")) == expected
    page = html(auth.client.get(f"/wilayah/36.73/table{query}"))
    assert {a.get_text() for a in page.select("table.facility-table tbody th a")} == expected


def test_result_counts_follow_the_kind_filter(auth, city):
    auth.login("dewi")
    collection = geojson(auth.client.get("/wilayah/36.73/facilities.geojson?kind=ruang_bermain&result=memenuhi"))
    assert collection["counts"] == {"memenuhi": 1, "belum_memenuhi": 0, "none": 1}


def test_kecamatan_map_shows_only_its_facilities(auth, city):
    auth.login("dewi")
    assert set(markers(auth.client, "/wilayah/36.73.02/facilities.geojson")) == {"RTH Kasemen"}
    page = html(auth.client.get("/wilayah/36.73.02/map"))
    canvas = page.select_one("[data-region-map]")
    assert canvas["data-focus"] == "36.73.02"
    assert canvas["data-layer-url"] == "/wilayah/36.73.02/layers/kecamatan.geojson"


# -- permissions ------------------------------------------------------------------------------------------

def test_auditor_sees_the_map_of_their_own_kecamatan_only(auth, city):
    auth.login("siti")
    assert auth.client.get("/wilayah/").headers["Location"].endswith("/wilayah/36.73.01/map")
    assert auth.client.get("/wilayah/36.73.01/map").status_code == 200
    assert set(markers(auth.client, "/wilayah/36.73.01/facilities.geojson")) == {
        "Taman Bermain RW 01", "SD Negeri 1 Serang", "Puskesmas Serang"}
    for path in ("/wilayah/36.73/map", "/wilayah/36.73.02/map", "/wilayah/36.73/facilities.geojson",
                 "/wilayah/36.73.02/table", "/wilayah/36.73/coverage.geojson", "/wilayah/36.73/layers/kecamatan.geojson",
                 "/wilayah/36.73", "/wilayah/36.73.02", "/wilayah/36.73.02/boundary.geojson",
                 "/wilayah/36.73/boundary.geojson", "/wilayah/36.73.02/layers/desa.geojson"):
        assert auth.client.get(path).status_code == 403, path
    assert auth.client.get("/wilayah/36.73.01").status_code == 200
    assert auth.client.get("/wilayah/36.73.01/boundary.geojson").status_code in (200, 404)  # 404: no boundary loaded
    assert auth.client.get(f"/wilayah/36.73.01/map/{city['kasemen']}").status_code == 404
    assert auth.client.get("/wilayah/36.73.01/export/facilities.csv").status_code == 403
    assert not html(auth.client.get("/wilayah/36.73.01/map")).select(".downloads")


def test_an_auditor_without_kecamatan_sees_nothing_not_everything(app, auth, city):
    from tests.conftest import make_user

    make_user(app, "tono", "auditor", [])
    auth.login("tono")
    for path in ("/wilayah/", "/wilayah/36.73/map", "/wilayah/36.73.01/map", "/wilayah/36.73",
                 "/wilayah/36.73.01/facilities.geojson", "/wilayah/36.73.01/table"):
        response = auth.client.get(path)
        assert response.status_code == 403, path
    assert "auth.no_kecamatan" in auth.client.get("/wilayah/36.73.01/map").get_data(as_text=True)
    listed = html(auth.client.get("/facilities/"))
    assert not listed.select("#results .row-link")


def test_planner_supervisor_and_admin_get_the_map_in_nav_or_home_and_downloads(auth, city, admin):
    for username in ("dewi", "budi", "adi"):
        auth.login(username)
        home = html(auth.client.get("/"))
        assert home.select_one('a[href="/wilayah/36.73/map"]'), username
        page = html(auth.client.get("/wilayah/36.73/map"))
        assert page.select('.downloads a[href^="/wilayah/36.73/export/"]'), username
        auth.post("/logout")
    auth.login("dewi")
    assert html(auth.client.get("/")).select_one('.bottom-nav a[href="/wilayah/"]')
    assert auth.client.get("/wilayah/").headers["Location"].endswith("/wilayah/36.73/map")
    assert html(auth.client.get("/wilayah/36.73")).select_one('a[href="/wilayah/36.73/map"]')


def test_anonymous_users_are_sent_to_sign_in(client, city):
    for path in ("/wilayah/36.73/map", "/wilayah/36.73/facilities.geojson", "/tiles/0/0/0.png"):
        assert client.get(path).status_code == 302


# -- the card ---------------------------------------------------------------------------------------------

def test_facility_card_is_a_named_block_of_the_full_map_page(auth, city):
    auth.login("dewi")
    path = f"/wilayah/36.73/map/{city['park']}"
    fragment = auth.client.get(path, headers={"HX-Request": "true", "HX-Target": "card"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    card = html(fragment).select_one("section#card")
    assert card.h2.get_text() == "Taman Bermain RW 01"
    assert card.select_one(".card-badges .badge.ok") and card.select_one(".badge.review-approved")
    history = card.select(".history li")
    assert len(history) == 1 and "Ruang Bermain Ramah Anak" in history[0].get_text() and "90%" in history[0].get_text()
    full = html(auth.client.get(path))
    assert full.select_one("header.topbar") and full.select_one("section#card h2").get_text() == "Taman Bermain RW 01"
    assert full.select_one("[data-region-map]")["data-selected"] == city["park"]
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_card_of_a_facility_outside_the_region_is_404(auth, city):
    auth.login("dewi")
    assert auth.client.get(f"/wilayah/36.73.01/map/{city['kasemen']}").status_code == 404
    assert auth.client.get("/wilayah/36.73/map/not-a-uuid").status_code == 404


# -- coverage choropleth ----------------------------------------------------------------------------------

def test_coverage_choropleth_counts_facilities_audited_this_year(auth, city):
    make_audit(auth.client.application, city["clinic"], "siti", "memenuhi", 1.0, this_year_utc().replace(year=2019))
    auth.login("dewi")
    collection = geojson(auth.client.get("/wilayah/36.73/coverage.geojson"))
    by_code = {f["properties"]["code"]: f["properties"] for f in collection["features"]}
    assert len(by_code) == 6
    serang = by_code["36.73.01"]
    assert (serang["registered"], serang["audited"]) == (3, 2)  # the 2019 audit is not this year's
    assert serang["value"] == pytest.approx(2 / 3) and serang["class"] == "c3" and serang["colour"] == "#2f7fbf"
    assert "2 of 3" in serang["label"] or "2 dari 3" in serang["label"]
    kasemen = by_code["36.73.02"]
    assert (kasemen["registered"], kasemen["audited"], kasemen["class"]) == (1, 0, "c0")  # rejected: not audited
    empty = by_code["36.73.03"]
    assert empty["value"] is None and empty["class"] == "none"
    only_schools = geojson(auth.client.get("/wilayah/36.73/coverage.geojson?kind=sekolah"))
    assert next(f for f in only_schools["features"] if f["properties"]["code"] == "36.73.01")["properties"]["value"] == 1.0


def test_map_page_passes_the_choropleth_and_its_legend_in_data_attributes(auth, city):
    auth.login("dewi")
    canvas = html(auth.client.get("/wilayah/36.73/map")).select_one("[data-region-map]")
    legend = json.loads(canvas["data-choropleth-legend"])
    assert [entry["key"] for entry in legend] == ["c0", "c1", "c2", "c3", "c4", "none"]
    assert canvas["data-choropleth-url"] == "/wilayah/36.73/coverage.geojson"
    assert "data-tiles-url" not in canvas.attrs  # no basemap configured: plain background


def test_choropleth_layer_merges_any_values_for_reuse(app, kota_serang):
    from app.extensions import db
    from geo import mapdata
    from geo.layers import choropleth_layer, kecamatan_layer

    classes = (mapdata.LegendClass("low", 0, "#fee", "low"), mapdata.LegendClass("high", 10, "#f00", "high"))
    values = mapdata.classed_values({"36.73.01": 12.0, "36.73.02": 3.0}, classes, lambda code, v: f"{code}={v}")
    with app.app_context():
        collection = choropleth_layer(db.session, "36.73", values)
        plain = kecamatan_layer(db.session, "36.73")
    by_code = {f["properties"]["code"]: f["properties"] for f in collection["features"]}
    assert by_code["36.73.01"] == {"code": "36.73.01", "name": "Serang", "value": 12.0, "label": "36.73.01=12.0",
                                   "class": "high", "colour": "#f00"}
    assert by_code["36.73.02"]["class"] == "low" and by_code["36.73.04"]["class"] == "none"
    assert "value" not in plain["features"][0]["properties"]  # the cached layer is not changed


def test_request_path_never_imports_geopandas():
    """Serving every map endpoint leaves the GIS file stack unloaded (a field device has shapely only)."""
    script = """
import sys, tempfile
from app import create_app
from flask_migrate import upgrade
from app.cli_support import write_transaction
app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(), "TESTING": True, "WTF_CSRF_ENABLED": False})
with app.app_context():
    upgrade()
    from survey import demo
    from sync.service import ensure_self_device
    with write_transaction() as session:
        ensure_self_device(session, "field")
        demo.seed(session)
client = app.test_client()
client.post("/login", data={"username": "planner", "password": "demo"})
app.config["DEMO"] = True
client.post("/login", data={"username": "planner", "password": "demo"})
fid = client.get("/wilayah/36.73/facilities.geojson").get_json()["features"][0]["properties"]["id"]
for path in ["/", "/wilayah/36.73/map", "/wilayah/36.73.01/map", "/wilayah/36.73/table", "/wilayah/36.73/layers/kecamatan.geojson",
             "/wilayah/36.73/coverage.geojson", f"/wilayah/36.73/map/{fid}", "/indicators/"]:
    assert client.get(path).status_code in (200, 302), path
# The auditor's own paths on a field device: the facility list and page, an audit started, answered and placed.
client.post("/logout")
client.post("/login", data={"username": "auditor", "password": "demo"})
page = client.get("/facilities/").get_data(as_text=True)
facility = page.split('href="/facilities/', 2)[2].split('"', 1)[0]
assert client.get(f"/facilities/{facility}").status_code == 200
audit = client.post(f"/facilities/{facility}/audits/new", data={"checklist": "ktr@1"}).headers["Location"].rsplit("/", 1)[1]
assert client.post(f"/audits/{audit}/answers/tanda_dilarang_merokok", data={"value": "ya"}).status_code == 200
placed = client.post(f"/audits/{audit}/position", data={"lat": "-6.112", "lon": "106.164", "accuracy": "7", "source": "gps"},
                     headers={"HX-Request": "true"})
assert placed.status_code < 400, placed.status_code
assert client.get(f"/audits/{audit}").status_code == 200
assert client.get("/sync/").status_code == 200
print(sorted(m for m in ("geopandas", "pyogrio", "pandas") if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_facility_page_links_to_its_place_on_the_kecamatan_map(auth, city):
    auth.login("siti")
    link = html(auth.client.get(f"/facilities/{city['park']}")).select_one(f'a[href="/wilayah/36.73.01/map/{city["park"]}"]')
    assert link is not None
    assert auth.client.get(link["href"]).status_code == 200
