"""`flask geo import|locate|relocate` on the real boundary files, other formats, and files that must be refused."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
import shapely
from sqlalchemy import select

from app.auditlog import AuditLogEntry
from geo.models import Wilayah
from survey.facilities.models import Facility
from tests.conftest import make_facility
from tests.support import ROOT, SHARED, require

BOUNDARIES = SHARED / "data" / "boundaries"
# Region, kecamatan count, desa/kelurahan count, total area in km² (SOURCE.md beside the files).
REGIONS = {"kota-serang": (6, 67, 265.7), "kota-blitar": (3, 21, 33.2), "kabupaten-pali": (5, 71, 1841.7)}
SERANG_POINT = ("106.1653", "-6.1111")  # Kecamatan Serang, near the alun-alun
SEA_POINT = ("106.2000", "-5.9000")  # Teluk Banten, in the Java Sea


@pytest.fixture
def geo_cli(app):
    """The app with `flask geo` registered (geo.init_app wires it in production)."""
    from geo import cli

    if "geo" not in app.cli.commands:
        cli.register(app)
    return app


@pytest.fixture
def shared_boundaries():
    """The real boundary files, or a loud skip (a failure in CI)."""
    require(BOUNDARIES.is_dir(), f"shared boundary data not found at {BOUNDARIES}")
    return BOUNDARIES


def run(runner, *args: str, ok: bool = True):
    """Invoke `flask geo ...`; check the exit status."""
    result = runner.invoke(args=["geo", *map(str, args)])
    assert (result.exit_code == 0) == ok, result.output
    return result


def geo_import(runner, path: Path, level: str, *options: str, ok: bool = True):
    return run(runner, "import", path, "--level", level, *options, ok=ok)


def snapshot(app) -> list[tuple]:
    """Every column of every wilayah row, by code."""
    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(select(Wilayah).order_by(Wilayah.code)).scalars()
        return [(w.code, w.level, w.name, w.kind, w.parent_code, w.bps_code, w.boundary, w.boundary_note,
                 w.updated_at) for w in rows]


def regions(app, level: str) -> dict[str, Wilayah]:
    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(select(Wilayah).where(Wilayah.level == level)).scalars()
        return {w.code: w for w in rows}


def features(path: Path) -> list[dict]:
    return json.loads(path.read_text())["features"]


def area_km2(shapes) -> float:
    import geopandas

    return float(geopandas.GeoSeries(list(shapes), crs=4326).to_crs(6933).area.sum() / 1e6)


def counts(output: str) -> tuple[int, int, int]:
    found = re.search(r"(\d+) created, (\d+) updated, (\d+) unchanged", output)
    return tuple(int(n) for n in found.groups())


# -- the real files -----------------------------------------------------------------------------------

@pytest.mark.shared_data
@pytest.mark.parametrize("layer", ["", "_coarse"], ids=["recommended", "coarse"])
@pytest.mark.parametrize("region", REGIONS)
def test_real_kecamatan_layers_import_and_their_points_locate_home(app, runner, geo_cli, shared_boundaries,
                                                                   region, layer):
    from app.extensions import db
    from geo.locate import RegionIndex
    from geo.service import locate_position

    path = shared_boundaries / f"kecamatan_{region}{layer}.geojson"
    kecamatan, _, area = REGIONS[region]
    result = geo_import(runner, path, "kecamatan")
    assert counts(result.output) == (kecamatan, 0, 0)
    loaded = regions(app, "kecamatan")
    assert len(loaded) == kecamatan
    assert len(regions(app, "kabkota")) == 1 and len(regions(app, "provinsi")) == 1
    assert abs(area_km2(shapely.from_wkb(w.boundary) for w in loaded.values()) - area) / area < 0.01
    shapes = {code: shapely.from_wkb(w.boundary) for code, w in loaded.items()}
    backwards = RegionIndex([(code, w.name, w.boundary) for code, w in sorted(loaded.items(), reverse=True)])
    with app.app_context():
        for feature in features(path):
            props = feature["properties"]
            point = shapely.Point(props["rep_lng"], props["rep_lat"])
            found = locate_position(db.session, point.x, point.y)["kecamatan"]
            if layer:  # coarse polygons overlap: the point may lie in a neighbour too, decided the same each time
                assert found.code in {code for code, s in shapes.items() if s.covers(point)}
                assert backwards.locate(point.x, point.y) == found
            else:
                assert found.code == props["kode_kec"]
                assert found.name == props["nama_kec"]


@pytest.mark.shared_data
@pytest.mark.parametrize("region", REGIONS)
def test_real_desa_layers_import_under_their_kecamatan(app, runner, geo_cli, shared_boundaries, region):
    from app.extensions import db
    from geo.service import locate_position

    kecamatan, desa, area = REGIONS[region]
    geo_import(runner, shared_boundaries / f"kecamatan_{region}.geojson", "kecamatan")
    path = shared_boundaries / f"desa_kelurahan_{region}.geojson"
    assert counts(geo_import(runner, path, "desa").output) == (desa, 0, 0)
    loaded = regions(app, "desa")
    assert len(loaded) == desa and len(regions(app, "kecamatan")) == kecamatan
    assert abs(area_km2(shapely.from_wkb(w.boundary) for w in loaded.values()) - area) / area < 0.01
    by_code = {f["properties"]["kode_desa"]: f["properties"] for f in features(path)}
    for code, region_row in loaded.items():
        assert region_row.parent_code == by_code[code]["kode_kec"]
        assert region_row.kind == by_code[code]["jenis"]  # kelurahan 1xxx, desa 2xxx
    with app.app_context():
        for code, props in by_code.items():
            found = locate_position(db.session, props["rep_lng"], props["rep_lat"])
            assert found["desa"].code == code
            assert found["kecamatan"].code == props["kode_kec"]


@pytest.mark.shared_data
def test_multipolygon_desa_keeps_both_parts(app, runner, geo_cli, shared_boundaries):
    geo_import(runner, shared_boundaries / "kecamatan_kabupaten-pali.geojson", "kecamatan")
    geo_import(runner, shared_boundaries / "desa_kelurahan_kabupaten-pali.geojson", "desa")
    sungai_baung = shapely.from_wkb(regions(app, "desa")["16.12.01.2008"].boundary)
    assert sungai_baung.geom_type == "MultiPolygon" and len(sungai_baung.geoms) == 2


@pytest.mark.shared_data
def test_import_again_changes_nothing(app, runner, geo_cli, shared_boundaries):
    path = shared_boundaries / "kecamatan_kota-serang.geojson"
    geo_import(runner, path, "kecamatan")
    geo_import(runner, shared_boundaries / "desa_kelurahan_kota-serang.geojson", "desa")
    before = snapshot(app)
    assert counts(geo_import(runner, path, "kecamatan").output) == (0, 0, 6)
    assert counts(geo_import(runner, shared_boundaries / "desa_kelurahan_kota-serang.geojson", "desa").output) == \
        (0, 0, 67)
    assert snapshot(app) == before


@pytest.mark.shared_data
def test_import_replaces_approximate_demo_boundaries_and_is_logged(app, runner, geo_cli, shared_boundaries,
                                                                  kota_serang):
    from app.extensions import db

    path = shared_boundaries / "kecamatan_kota-serang.geojson"
    result = geo_import(runner, path, "kecamatan", "--note", "cahyadsn/wilayah_boundaries 3c5a796")
    assert counts(result.output) == (0, 6, 0)
    assert "created above them" not in result.output  # Banten and Kota Serang were loaded already
    assert {w.boundary_note for w in regions(app, "kecamatan").values()} == {"cahyadsn/wilayah_boundaries 3c5a796"}
    with app.app_context():
        entry = db.session.execute(select(AuditLogEntry).where(AuditLogEntry.action == "import")).scalar_one()
    assert (entry.entity, entry.entity_id) == ("wilayah", "kecamatan_kota-serang.geojson")
    assert entry.changes["created"] == 0 and entry.changes["updated"] == 6 and entry.changes["level"] == "kecamatan"


# -- other formats: Shapefile, zipped Shapefile, GeoPackage in UTM zone 48S ---------------------------

def write_utm(source: Path, folder: Path, kind: str) -> tuple[Path, list[str]]:
    """Write the layer in EPSG:32748 (UTM 48S, where Kota Serang lies) as a Shapefile, zip or GeoPackage."""
    import geopandas

    frame = geopandas.read_file(source, engine="pyogrio").to_crs(32748)
    options: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Shapefile field names are cut to 10 characters: expected
        if kind == "gpkg":
            path = folder / "batas.gpkg"
            frame.head(2).to_file(path, layer="contoh", engine="pyogrio")
            frame.to_file(path, layer="kecamatan", engine="pyogrio")
            options = ["--layer", "kecamatan"]
        else:
            path = folder / "kecamatan.shp"
            frame.to_file(path, engine="pyogrio")
    if kind == "zip":
        zipped = folder / "kecamatan.zip"
        with zipfile.ZipFile(zipped, "w") as archive:
            for part in sorted(folder.glob("kecamatan.*")):
                if part != zipped:
                    archive.write(part, f"batas/{part.name}")
        path = zipped
    return path, options


@pytest.mark.shared_data
@pytest.mark.parametrize("kind", ["shp", "zip", "gpkg"])
def test_shapefile_zip_and_geopackage_in_utm_import_to_the_same_polygons(app, runner, geo_cli, shared_boundaries,
                                                                         tmp_path, kind):
    source = shared_boundaries / "kecamatan_kota-serang.geojson"
    path, options = write_utm(source, tmp_path, kind)
    result = geo_import(runner, path, "kecamatan", *options)
    assert counts(result.output) == (6, 0, 0)
    assert "EPSG:32748" in result.output  # the note says it was reprojected
    assert "created above them: 36 Banten, 36.73 Kota Serang" in result.output  # names from kode_kabko/nama_kabko
    loaded = regions(app, "kecamatan")
    for feature in features(source):
        original = shapely.geometry.shape(feature["geometry"])
        imported = shapely.from_wkb(loaded[feature["properties"]["kode_kec"]].boundary)
        assert imported.symmetric_difference(original).area < original.area * 1e-4


# -- files that must be refused, changing nothing -----------------------------------------------------

def collection(*items: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(items)}


def feature(code: str, geometry: dict, name: str = "Serang", **extra) -> dict:
    return {"type": "Feature", "properties": {"kode_kec": code, "nama_kec": name, **extra}, "geometry": geometry}


SQUARE = {"type": "Polygon", "coordinates": [[[106.15, -6.12], [106.17, -6.12], [106.17, -6.10], [106.15, -6.10],
                                              [106.15, -6.12]]]}


def write_json(folder: Path, name: str, content) -> Path:
    path = folder / name
    path.write_text(json.dumps(content) if not isinstance(content, str) else content)
    return path


def points_file(folder, shared):
    return write_json(folder, "titik.geojson", collection(
        feature("36.73.01", {"type": "Point", "coordinates": [106.16, -6.11]}),
        feature("36.73.02", {"type": "LineString", "coordinates": [[106.1, -6.1], [106.2, -6.0]]})))


def empty_file(folder, shared):
    return write_json(folder, "kosong.geojson", collection())


def no_code_field(folder, shared):
    return write_json(folder, "tanpa_kode.geojson", collection(
        {"type": "Feature", "properties": {"nama_kec": "Serang"}, "geometry": SQUARE}))


def desa_layer(folder, shared):
    return shared / "desa_kelurahan_kota-serang.geojson"


def duplicate_codes(folder, shared):
    return write_json(folder, "ganda.geojson", collection(feature("36.73.01", SQUARE), feature("36.73.01", SQUARE)))


def bps_codes(folder, shared):
    return write_json(folder, "bps.geojson", collection(feature("3673040", SQUARE)))


def unknown_parent(folder, shared):
    return write_json(folder, "induk.geojson", collection(feature("99.71.01", SQUARE, name="Entah")))


def parent_mismatch(folder, shared):
    return write_json(folder, "salah_induk.geojson", collection(feature("36.73.01", SQUARE, kode_kabkota="36.04")))


def unnamed(folder, shared):
    return write_json(folder, "tanpa_nama.geojson", collection(feature("36.73.01", SQUARE, name="  ")))


def projected_without_prj(folder, shared):
    import geopandas

    frame = geopandas.read_file(shared / "kecamatan_kota-serang.geojson", engine="pyogrio").to_crs(32748)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame[["kode_kec", "nama_kec", "geometry"]].to_file(folder / "utm.shp", engine="pyogrio")
    (folder / "utm.prj").unlink()
    return folder / "utm.shp"


def text_as_geojson(folder, shared):
    return write_json(folder, "bukan.geojson", "Ini bukan GeoJSON, hanya teks biasa.\n")


def zip_slip(folder, shared):
    path = folder / "jahat.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../evil.shp", b"\0" * 100)
        archive.writestr("../evil.dbf", b"\0" * 100)
    return path


def crs_says_utm_but_is_lon_lat(folder, shared):
    return write_json(folder, "crs_salah.geojson", {
        "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32748"}},
        "features": [feature("36.73.01", SQUARE)]})


def geopackage(folder, shared):
    return write_utm(shared / "kecamatan_kota-serang.geojson", folder, "gpkg")[0]


def unknown_suffix(folder, shared):
    return write_json(folder, "batas.kml", "<kml/>")


REFUSED = [
    (points_file, "kecamatan", [], "geo.not_polygons"),
    (empty_file, "kecamatan", [], "geo.empty"),
    (no_code_field, "kecamatan", [], "geo.missing_field"),
    (no_code_field, "kecamatan", ["--code-field", "KODE"], "geo.missing_field"),
    (desa_layer, "kecamatan", [], "geo.wrong_level"),
    (desa_layer, "kecamatan", ["--code-field", "kode_desa"], "geo.wrong_level"),
    (bps_codes, "kecamatan", [], "geo.wrong_level"),
    (duplicate_codes, "kecamatan", [], "geo.duplicate_code"),
    (unknown_parent, "kecamatan", [], "geo.unknown_parent"),
    (parent_mismatch, "kecamatan", [], "geo.parent_mismatch"),
    (unnamed, "kecamatan", [], "geo.missing_name"),
    (projected_without_prj, "kecamatan", [], "geo.no_crs"),
    (text_as_geojson, "kecamatan", [], "geo.unreadable"),
    (zip_slip, "kecamatan", [], "geo.unsafe_zip"),
    (crs_says_utm_but_is_lon_lat, "kecamatan", [], "geo.bad_crs"),
    (geopackage, "kecamatan", ["--layer", "tidak_ada"], "geo.unknown_layer"),
    (unknown_suffix, "kecamatan", [], "geo.unreadable"),
]


@pytest.mark.shared_data
@pytest.mark.parametrize(("make", "level", "options", "code"), REFUSED,
                         ids=[f"{make.__name__}{'-' + '-'.join(o) if o else ''}" for make, _, o, _ in REFUSED])
def test_bad_files_are_refused_with_their_code_and_change_nothing(app, runner, geo_cli, shared_boundaries, tmp_path,
                                                                  kota_serang, make, level, options, code):
    path = make(tmp_path, shared_boundaries)
    before = snapshot(app)
    result = geo_import(runner, path, level, *options, ok=False)
    assert f"[{code}]" in result.output
    assert snapshot(app) == before


@pytest.mark.shared_data
def test_desa_layer_needs_its_provinsi_loaded_or_named(app, runner, geo_cli, shared_boundaries):
    path = shared_boundaries / "desa_kelurahan_kota-blitar.geojson"
    result = geo_import(runner, path, "desa", ok=False)
    assert "[geo.unknown_parent]" in result.output and ": 35." in result.output  # the desa file names no provinsi
    assert snapshot(app) == []
    geo_import(runner, shared_boundaries / "kecamatan_kota-blitar_coarse.geojson", "kecamatan")
    assert counts(geo_import(runner, path, "desa").output) == (21, 0, 0)


def test_reading_repairs_invalid_polygons_and_says_so(tmp_path):
    from geo.boundaries import read_boundaries

    bowtie = {"type": "Polygon", "coordinates": [[[106.15, -6.12], [106.17, -6.10], [106.17, -6.12], [106.15, -6.10],
                                                  [106.15, -6.12]]]}
    path = write_json(tmp_path, "dasi.geojson", collection(feature("36.73.01", bowtie), feature("36.73.02", SQUARE)))
    boundary_file = read_boundaries(path, "kecamatan")
    assert boundary_file.repairs == ["36.73.01: self-intersection repaired"]
    repaired = shapely.from_wkb(boundary_file.features[0].geometry)
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon" and len(repaired.geoms) == 2
    assert [f.code for f in boundary_file.features] == ["36.73.01", "36.73.02"]


def test_lon_lat_file_without_crs_is_taken_as_wgs84_with_a_note(tmp_path):
    import geopandas

    from geo.boundaries import read_boundaries

    frame = geopandas.GeoDataFrame({"KDCPUM": ["367301"], "WADMKC": ["SERANG"]},
                                   geometry=[shapely.geometry.shape(SQUARE)], crs=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # writing without a CRS is the point
        frame.to_file(tmp_path / "big.shp", engine="pyogrio")
    boundary_file = read_boundaries(tmp_path / "big.shp", "kecamatan")
    assert [(f.code, f.name) for f in boundary_file.features] == [("36.73.01", "SERANG")]  # dots added
    assert any("EPSG:4326 was assumed" in note for note in boundary_file.notes)
    assert 4.8 < boundary_file.features[0].area_km2 < 5.0  # 0.02° x 0.02° at 6° S: 2.23 km x 2.21 km


# -- locating -----------------------------------------------------------------------------------------

@pytest.mark.shared_data
def test_locate_prints_kecamatan_then_desa_or_outside(app, runner, geo_cli, shared_boundaries):
    assert "[geo.no_boundaries]" in run(runner, "locate", *SERANG_POINT, ok=False).output
    geo_import(runner, shared_boundaries / "kecamatan_kota-serang.geojson", "kecamatan")
    assert run(runner, "locate", *SERANG_POINT).output.splitlines() == ["36.73.01 Serang"]
    geo_import(runner, shared_boundaries / "desa_kelurahan_kota-serang.geojson", "desa")
    lines = run(runner, "locate", *SERANG_POINT).output.splitlines()
    assert lines[0] == "36.73.01 Serang" and len(lines) == 2 and lines[1].startswith("36.73.01.")
    assert run(runner, "locate", *SEA_POINT).output.splitlines() == ["outside"]


@pytest.mark.parametrize(("lon", "lat", "code"), [("abc", "-6.1", "geo.bad_coordinates"),
                                                  ("nan", "-6.1", "geo.bad_coordinates"),
                                                  ("-6.1111", "106.1653", "geo.bad_coordinates"),  # swapped
                                                  ("10.5", "51.2", "geo.outside_indonesia")])
def test_locate_refuses_bad_numbers_in_both_languages(runner, geo_cli, lon, lat, code):
    result = run(runner, "locate", lon, lat, ok=False)
    assert result.exit_code == 1 and f"[{code}]" in result.output and " / " in result.output


@pytest.mark.shared_data
def test_facilities_are_located_and_a_wrong_kecamatan_is_flagged(app, runner, geo_cli, shared_boundaries,
                                                                 kota_serang):
    from app.extensions import db

    lon, lat = float(SERANG_POINT[0]), float(SERANG_POINT[1])
    right = make_facility(app, name="Taman Alun-Alun", kecamatan_code="36.73.01", lat=lat, lon=lon)
    wrong = make_facility(app, name="Taman Salah Catat", kecamatan_code="36.73.02", lat=lat + 0.0005, lon=lon)
    unplaced = make_facility(app, name="Taman Tanpa Titik", lat=None, lon=None)
    with app.app_context():
        stamps = dict(db.session.execute(select(Facility.id, Facility.updated_at)).all())
    geo_import(runner, shared_boundaries / "kecamatan_kota-serang.geojson", "kecamatan")
    result = geo_import(runner, shared_boundaries / "desa_kelurahan_kota-serang.geojson", "desa")
    assert "2 with a position, 2 in a kecamatan, 0 outside every kecamatan, 1 in another kecamatan" in result.output
    with app.app_context():
        rows = {str(f.id): f for f in db.session.execute(select(Facility)).scalars()}
        assert rows[right].located_kecamatan_code == "36.73.01" and not rows[right].kecamatan_mismatch
        assert rows[right].located_desa_code.startswith("36.73.01.")
        assert rows[wrong].located_kecamatan_code == "36.73.01" and rows[wrong].kecamatan_mismatch
        assert rows[unplaced].located_kecamatan_code is None and not rows[unplaced].kecamatan_mismatch
        # Locating is derived data, not an edit: no new version for sync.
        assert {f.id: f.updated_at for f in rows.values()} == stamps
    relocated = run(runner, "relocate").output
    assert "1 in another kecamatan than registered, 0 changed" in relocated


@pytest.mark.shared_data
def test_region_index_is_cached_until_boundaries_change(app, runner, geo_cli, shared_boundaries):
    from app.extensions import db
    from geo.service import region_index

    geo_import(runner, shared_boundaries / "kecamatan_kota-blitar.geojson", "kecamatan")
    with app.app_context():
        first = region_index(db.session, "kecamatan")
        assert region_index(db.session, "kecamatan") is first and len(first) == 3
    geo_import(runner, shared_boundaries / "kecamatan_kota-serang.geojson", "kecamatan")
    with app.app_context():
        assert len(region_index(db.session, "kecamatan")) == 9


def test_serving_the_app_never_loads_the_gis_stack(tmp_path):
    script = f"""
import sys
from app import create_app
from geo import cli, locate, service
app = create_app({{"INSTANCE_PATH": {str(tmp_path)!r}, "TESTING": True}})
cli.register(app)
app.test_client().get("/healthz")
loaded = sorted(m for m in ("geopandas", "pyogrio", "pyproj", "geo.boundaries") if m in sys.modules)
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True)
