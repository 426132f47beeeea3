"""Exports (CLI and download buttons) read back with geopandas, csv and openpyxl; MBTiles basemap served by the app."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_facility
from tests.geo_support import make_audit, this_year_utc
from tests.support import html


@pytest.fixture
def export_cli(app):
    from maps import cli

    if "export" not in app.cli.commands:
        cli.register(app)
    return app


@pytest.fixture
def audited(app, kota_serang, auditor, planner):
    """Three facilities in two kinds; the park audited twice (the newer audit counts), the school once."""
    park = make_facility(app, name="Taman Bermain RW 01")
    school = make_facility(app, kind="sekolah", name="SD Negeri 1 Serang", official_id="20601001", lat=-6.112, lon=106.158)
    clinic = make_facility(app, kind="puskesmas", name="Puskesmas Serang", lat=None, lon=None)
    older = make_audit(app, park, "siti", "belum_memenuhi", 0.5, this_year_utc(2), answers={"jauh_dari_sumber_bahaya": "tidak"})
    newer = make_audit(app, park, "siti", "memenuhi", 0.875, this_year_utc(5), "approved", lat=-6.1151, lon=106.1601,
                       answers={"jauh_dari_sumber_bahaya": "ya", "jenis_ruang_bermain": ["taman", "lapangan"]})
    make_audit(app, school, "siti", "belum_memenuhi", 0.25, this_year_utc(6).replace(year=2019))
    return {"park": park, "school": school, "clinic": clinic, "older": older, "newer": newer}


def export(runner, *args, ok=True):
    result = runner.invoke(args=["export", *map(str, args)])
    assert (result.exit_code == 0) == ok, result.output
    return result


def test_facilities_geopackage_reads_back_with_the_same_rows_and_geometry_one_layer_per_kind(app, export_cli, audited, tmp_path):
    import geopandas
    import pyogrio

    out = tmp_path / "facilities.gpkg"
    assert "3 facilities" in export(app.test_cli_runner(), "facilities", "--format", "gpkg", "--out", out).output
    assert sorted(name for name, _ in pyogrio.list_layers(out)) == [
        "facilities_puskesmas", "facilities_ruang_bermain", "facilities_sekolah"]
    park = geopandas.read_file(out, layer="facilities_ruang_bermain", engine="pyogrio")
    assert park.crs.to_epsg() == 4326 and len(park) == 1
    row = park.iloc[0]
    assert (row["name"], row["kecamatan_code"], row["kecamatan_name"]) == ("Taman Bermain RW 01", "36.73.01", "Serang")
    assert (row.geometry.x, row.geometry.y) == (106.16, -6.115) and (row["lon"], row["lat"]) == (106.16, -6.115)
    assert (row["latest_result"], row["latest_score"], row["latest_auditor"]) == ("memenuhi", 0.875, "Siti")
    assert row["latest_audit_id"] == audited["newer"] and row["latest_review_status"] == "approved"
    clinic = geopandas.read_file(out, layer="facilities_puskesmas", engine="pyogrio")
    assert clinic.geometry.iloc[0] is None and clinic["latest_result"].isna().all()


def test_audits_geopackage_has_answers_and_the_audit_position(app, export_cli, audited, tmp_path):
    import geopandas

    out = tmp_path / "audits.gpkg"
    export(app.test_cli_runner(), "audits", "--format", "gpkg", "--out", out, "--year", this_year_utc().year)
    frame = geopandas.read_file(out, layer="audits_ruang_bermain", engine="pyogrio")
    assert list(frame["audit_id"]) == [audited["older"], audited["newer"]]  # the 2019 school audit is another year
    newer = frame.iloc[1]
    assert newer["rbra.jauh_dari_sumber_bahaya"] == "ya" and newer["rbra.jenis_ruang_bermain"] == "taman; lapangan"
    assert (newer.geometry.x, newer.geometry.y) == (106.1601, -6.1151) and newer["position_source"] == "gps"
    older = frame.iloc[0]
    assert (older.geometry.x, older.geometry.y) == (106.16, -6.115) and older["position_source"] == "facility"


def test_geojson_csv_and_xlsx_hold_the_same_facilities(app, export_cli, audited, tmp_path):
    from openpyxl import load_workbook

    runner = app.test_cli_runner()
    for fmt in ("geojson", "csv", "xlsx"):
        export(runner, "facilities", "--format", fmt, "--out", tmp_path / f"f.{fmt}", "--kecamatan", "36.73.01")
    collection = json.loads((tmp_path / "f.geojson").read_text(encoding="utf-8"))
    by_name = {f["properties"]["name"]: f for f in collection["features"]}
    assert set(by_name) == {"Taman Bermain RW 01", "SD Negeri 1 Serang", "Puskesmas Serang"}
    assert by_name["Taman Bermain RW 01"]["geometry"] == {"type": "Point", "coordinates": [106.16, -6.115]}
    assert by_name["Puskesmas Serang"]["geometry"] is None
    assert by_name["SD Negeri 1 Serang"]["properties"]["latest_result"] == "belum_memenuhi"
    text = (tmp_path / "f.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads it right
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == [r["name"] for r in (json.loads(json.dumps(f["properties"])) for f in collection["features"])]
    park = next(r for r in rows if r["name"] == "Taman Bermain RW 01")
    assert (park["latest_result"], park["latest_score"], park["kecamatan_name"]) == ("memenuhi", "0.875", "Serang")
    sheet = load_workbook(tmp_path / "f.xlsx").active
    header = [c.value for c in sheet[1]]
    values = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
    assert [v["name"] for v in values] == [r["name"] for r in rows]
    assert next(v for v in values if v["name"] == "Taman Bermain RW 01")["latest_score"] == 0.875
    assert header[:3] == ["facility_id", "name", "kind"] and sheet.freeze_panes == "B2"


def test_year_and_result_filters(app, export_cli, audited, tmp_path):
    runner = app.test_cli_runner()
    export(runner, "facilities", "--format", "geojson", "--out", tmp_path / "y.geojson", "--year", "2019")
    props = {f["properties"]["name"]: f["properties"] for f in json.loads((tmp_path / "y.geojson").read_text())["features"]}
    assert props["SD Negeri 1 Serang"]["latest_result"] == "belum_memenuhi"
    assert props["Taman Bermain RW 01"]["latest_result"] is None  # audited this year, not in 2019
    export(runner, "facilities", "--format", "geojson", "--out", tmp_path / "r.geojson", "--result", "none")
    names = {f["properties"]["name"] for f in json.loads((tmp_path / "r.geojson").read_text())["features"]}
    assert names == {"Puskesmas Serang"}


@pytest.mark.parametrize("args, code", [
    (["facilities", "--format", "shp"], "export.bad_format"),
    (["audits", "--format", "pdf"], "export.bad_format"),
    (["facilities", "--format", "csv", "--kecamatan", "99.99.99"], "export.unknown_region"),
    (["facilities", "--format", "csv", "--kecamatan", "36"], "export.unknown_region"),
    (["facilities", "--format", "csv", "--year", "dua ribu"], "export.bad_year"),
    (["audits", "--format", "csv", "--year", "1999"], "export.bad_year"),
    (["facilities", "--format", "csv", "--kind", "mall"], "export.bad_kind"),
    (["facilities", "--format", "csv", "--result", "lulus"], "export.bad_result"),
])
def test_bad_arguments_are_refused_in_both_languages_and_write_nothing(app, export_cli, audited, tmp_path, args, code):
    folder = tmp_path / "exports"
    folder.mkdir()
    result = export(app.test_cli_runner(), *args, "--out", folder / "out.file", ok=False)
    assert f"[{code}]" in result.output
    indonesian, english = result.output.split(f"[{code}]", 1)[1].split(" / ", 1)
    assert indonesian.strip() != english.strip()  # translated, not the English twice
    assert list(folder.iterdir()) == []


def test_missing_output_folder_is_refused(app, export_cli, audited, tmp_path):
    result = export(app.test_cli_runner(), "facilities", "--format", "csv", "--out", tmp_path / "no" / "f.csv", ok=False)
    assert "[export.bad_out]" in result.output and not (tmp_path / "no").exists()


def test_download_buttons_give_the_filtered_export_to_planners_not_auditors(app, auth, audited, tmp_path):
    import geopandas

    auth.login("dewi")
    response = auth.client.get("/wilayah/36.73/export/facilities.gpkg?kind=ruang_bermain")
    assert response.status_code == 200 and response.mimetype == "application/geopackage+sqlite3"
    assert "attachment" in response.headers["Content-Disposition"] and "pantau-kla_facilities_36.73_" in \
        response.headers["Content-Disposition"]
    (tmp_path / "d.gpkg").write_bytes(response.get_data())
    frame = geopandas.read_file(tmp_path / "d.gpkg", engine="pyogrio")
    assert list(frame["name"]) == ["Taman Bermain RW 01"]
    sheet = auth.client.get("/wilayah/36.73.01/export/audits.csv")
    assert sheet.status_code == 200 and sheet.get_data(as_text=True).count("\n") == 4  # header + 3 audits
    assert auth.client.get("/wilayah/36.73/export/facilities.pdf").status_code == 422
    assert auth.client.get("/wilayah/36.73/export/things.csv").status_code == 422
    assert not list(Path(app.config["DATA_DIR"]).glob("export-*"))  # nothing left behind
    auth.post("/logout")
    auth.login("siti")
    assert auth.client.get("/wilayah/36.73.01/export/facilities.csv").status_code == 403


# -- MBTiles basemap ----------------------------------------------------------------------------------------

def png(colour) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buffer, "PNG")
    return buffer.getvalue()


def write_mbtiles(path, tiles: dict[tuple[int, int, int], bytes], fmt="png", bounds="106.0,-6.3,106.3,-6.0"):
    """A real MBTiles file: metadata, and tiles keyed by XYZ written as TMS rows."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        connection.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        connection.executemany("INSERT INTO metadata VALUES (?, ?)", [
            ("name", "Serang test"), ("format", fmt), ("bounds", bounds), ("minzoom", "10"), ("maxzoom", "12"),
            ("attribution", "© test")])
        connection.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                               [(z, x, 2 ** z - 1 - y, data) for (z, x, y), data in tiles.items()])
    return path


@pytest.fixture
def basemap(app, tmp_path):
    tiles = {(10, 814, 528): png((200, 220, 240)), (10, 815, 528): png((210, 230, 200)), (11, 1629, 1056): png((255, 0, 0))}
    app.config["MBTILES"] = str(write_mbtiles(tmp_path / "serang.mbtiles", tiles))
    return tiles


def test_tiles_are_served_from_the_mbtiles_file_with_y_flipped_and_cache_headers(auth, planner, basemap):
    auth.login("dewi")
    response = auth.client.get("/tiles/10/814/528.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.get_data() == basemap[(10, 814, 528)]
    assert auth.client.get("/tiles/11/1629/1056.png").get_data() == basemap[(11, 1629, 1056)]
    assert "max-age=86400" in response.headers["Cache-Control"] and response.headers["ETag"]
    assert auth.client.get("/tiles/10/814/528.png", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    for missing in ("/tiles/10/814/495.png", "/tiles/10/1/1.png", "/tiles/10/814/528.jpg", "/tiles/3/99/0.png"):
        assert auth.client.get(missing).status_code == 404, missing


def test_map_page_uses_the_basemap_when_configured(auth, planner, basemap):
    auth.login("dewi")
    canvas = html(auth.client.get("/wilayah/36.73/map")).select_one("[data-region-map]")
    assert canvas["data-tiles-url"] == "/tiles/{z}/{x}/{y}.png"
    assert (canvas["data-tiles-min"], canvas["data-tiles-max"], canvas["data-tiles-bounds"]) == ("10", "12", "106.0,-6.3,106.3,-6.0")


def test_without_a_basemap_tiles_are_404(auth, planner):
    auth.login("dewi")
    assert auth.client.get("/tiles/10/814/528.png").status_code == 404


@pytest.mark.parametrize("make, code", [
    (lambda path: path.write_text("not a database"), "tiles.bad_file"),
    (lambda path: sqlite3.connect(path).execute("CREATE TABLE other (x)").connection.commit(), "tiles.bad_file"),
    (lambda path: write_mbtiles(path, {(1, 0, 0): b"\x1a"}, fmt="pbf"), "tiles.unsupported_format"),
    (lambda path: write_mbtiles(path, {}), "tiles.empty"),
    (lambda path: None, "tiles.missing_file"),
])
def test_a_bad_mbtiles_file_gives_a_clear_error_and_the_map_falls_back(app, auth, planner, tmp_path, make, code):
    path = tmp_path / "bad.mbtiles"
    make(path)
    app.config["MBTILES"] = str(path)
    auth.login("dewi")
    response = auth.client.get("/tiles/10/814/528.png", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.get_json()["error"]["code"] == code
    page = html(auth.client.get("/wilayah/36.73/map"))
    assert code in page.select_one(".notice.error").get_text()
    assert "data-tiles-url" not in page.select_one("[data-region-map]").attrs


def test_text_from_the_field_never_becomes_a_spreadsheet_formula(app, export_cli, kota_serang, tmp_path):
    """A facility named like a formula (CSV injection): Excel must show it as text, never run it."""
    from openpyxl import load_workbook

    evil = '=HYPERLINK("http://evil.example","klik")'
    make_facility(app, name=evil, address="+62 254 123")
    runner = app.test_cli_runner()
    for fmt in ("csv", "xlsx"):
        export(runner, "facilities", "--format", fmt, "--out", tmp_path / f"f.{fmt}")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "f.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0]["name"] == "'" + evil and rows[0]["address"] == "'+62 254 123"
    sheet = load_workbook(tmp_path / "f.xlsx").active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(2, header.index("name") + 1)
    assert cell.data_type == "s" and cell.value == "'" + evil


def test_without_the_gis_stack_geopackage_is_not_offered_and_refused_clearly(app, auth, audited, monkeypatch):
    """The desktop build leaves geopandas out: no GeoPackage button, and a clear refusal instead of a 500."""
    from maps import exports

    monkeypatch.setattr(exports, "available_formats", lambda: ("geojson", "csv", "xlsx"))
    auth.login("dewi")
    page = html(auth.client.get("/wilayah/36.73.01/map"))
    offered = {a["href"].split("?")[0].rsplit(".", 1)[1] for a in page.select(".downloads a")}
    assert offered == {"geojson", "csv", "xlsx"}
    response = auth.client.get("/wilayah/36.73.01/export/facilities.gpkg")
    assert response.status_code == 422 and "export.gpkg_unavailable" in response.get_data(as_text=True)
