"""Repeats in the audit exports (ODK-style child tables linked by KEY/PARENT_KEY) and in the evidence package."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from app.cli_support import write_transaction
from tests.support import make_jpeg

# A play space audit as an XLSForm with repeats becomes: a scored item and a photo of the whole place, a repeat per
# piece of play equipment (its condition, a photo, a calculation, a group with a note field), and inside it a
# repeat per damaged part (with its own photo); a calculation outside counts the broken equipment.
CHECKLIST = """
id: rbra
version: 7
title: {id: "Ruang Bermain (alat)", en: "Play space (equipment)"}
facility_kinds: [ruang_bermain]
source: "test"
source_status: observable_practice
scoring: {memenuhi_min: 0.8}
sections:
  - id: umum
    title: {id: Umum, en: General}
    source: "test"
    items:
      - id: pagar_pembatas
        type: ynp
        label: {id: "Pagar pembatas", en: "Boundary fence"}
        required: true
      - id: foto_umum
        type: photo
        label: {id: "Foto umum", en: "Overview photo"}
      - id: alat
        type: repeat
        label: {id: "Alat bermain", en: "Play equipment"}
        items:
          - id: kondisi_alat
            type: select_one
            label: {id: "Kondisi alat", en: "Equipment condition"}
            required: true
            choices:
              - {value: baik, label: {id: Baik, en: Good}}
              - {value: rusak_ringan, label: {id: "Rusak ringan", en: "Slightly damaged"}}
              - {value: rusak_berat, label: {id: "Rusak berat", en: "Badly damaged"}}
          - id: foto_alat
            type: photo
            label: {id: "Foto alat", en: "Equipment photo"}
          - id: alat_rusak
            type: calculate
            calculation: "if(${kondisi_alat} = 'rusak_berat', 1, 0)"
          - id: detail
            type: group
            label: {id: Detail, en: Details}
            items:
              - id: catatan_alat
                type: text
                label: {id: "Catatan alat", en: "Equipment note"}
          - id: bagian
            type: repeat
            label: {id: "Bagian rusak", en: "Damaged part"}
            items:
              - id: nama_bagian
                type: text
                label: {id: "Nama bagian", en: "Part name"}
              - id: foto_bagian
                type: photo
                label: {id: "Foto bagian", en: "Part photo"}
      - id: jumlah_rusak
        type: calculate
        calculation: "sum(${alat_rusak})"
"""


@pytest.fixture
def app_config(tmp_path):
    """A hub: audits arrive here, are approved, and are exported and packaged."""
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "hub", "DEMO": False,
            "SECRET_KEY": "k" * 32}


@pytest.fixture
def export_cli(app):
    from maps import cli

    if "export" not in app.cli.commands:
        cli.register(app)
    return app


@pytest.fixture
def equipment_audit(app, auditor, supervisor, planner, facility):
    """Siti audits a play space with three pieces of equipment through the audit service: the first has two
    damaged parts (the second with a photo), the second a photo, the third is badly damaged with one part;
    she submits with a GPS position and Budi approves it. Returns the audit id and the photos' SHA-256 by address."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from app.auth.models import User
    from app.node import self_device_id
    from geo.geofence import Limits
    from survey.audits import service
    from survey.checklist import load_checklist_text
    from survey.facilities.models import Facility
    from survey.photos import PhotoStore
    from sync.reviews import decide

    checklist = load_checklist_text(CHECKLIST, "rbra-v7.yaml")
    store = PhotoStore(Path(app.config["DATA_DIR"]) / "photos")
    with app.app_context(), write_transaction() as session:
        siti = session.execute(select(User.id).where(User.username == "siti")).scalar_one()
        actor = service.Actor(siti, self_device_id(session))
        (audit,) = service.start_audits(session, session.get(Facility, uuid.UUID(facility)), [checklist], actor)
        for _ in range(3):
            service.add_instance(session, audit, checklist, "alat", actor)
        for repeat in ("alat[1]/bagian", "alat[1]/bagian", "alat[3]/bagian"):
            service.add_instance(session, audit, checklist, repeat, actor)
        answers = {"pagar_pembatas": "ya", "alat[1]/kondisi_alat": "baik", "alat[2]/kondisi_alat": "rusak_ringan",
                   "alat[3]/kondisi_alat": "rusak_berat", "alat[2]/catatan_alat": "cat mengelupas",
                   "alat[1]/bagian[1]/nama_bagian": "rantai", "alat[1]/bagian[2]/nama_bagian": "dudukan",
                   "alat[3]/bagian[1]/nama_bagian": "tiang"}
        for address, value in answers.items():
            service.save_answer(session, audit, checklist, address, value, actor)
        photos = {}
        for colour, address in enumerate(("foto_umum", "alat[2]/foto_alat", "alat[1]/bagian[2]/foto_bagian")):
            info = store.save(make_jpeg(color=(40 * colour, 120, 200)), 10 << 20)
            service.attach_photo(session, audit, checklist, address, info, actor, ZoneInfo("Asia/Jakarta"))
            photos[address] = info.sha256
        service.record_position(session, audit, lat=-6.1151, lon=106.1601, accuracy_m=6.0, source="gps",
                                taken_at=None, limits=Limits(), actor=actor)
        service.submit(session, audit, checklist, actor)
        decide(session, audit, "approved", "", "budi")
        return {"id": str(audit.id), "photos": photos, "year": audit.submitted_at.year}


def export(app, *args) -> str:
    result = app.test_cli_runner().invoke(args=["export", "audits", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def expected_children(audit_id: str, photos: dict[str, str]) -> dict[str, list[dict]]:
    """The child rows every format must hold: KEY, PARENT_KEY, instance and the answers of each instance."""
    def key(path):
        return f"{audit_id}/{path}"

    return {
        "audits-rbra-alat": [
            {"KEY": key("alat[1]"), "PARENT_KEY": audit_id, "instance": 1, "rbra.kondisi_alat": "baik",
             "rbra.foto_alat": None, "rbra.alat_rusak": "0", "rbra.catatan_alat": None},
            {"KEY": key("alat[2]"), "PARENT_KEY": audit_id, "instance": 2, "rbra.kondisi_alat": "rusak_ringan",
             "rbra.foto_alat": photos["alat[2]/foto_alat"], "rbra.alat_rusak": "0",
             "rbra.catatan_alat": "cat mengelupas"},
            {"KEY": key("alat[3]"), "PARENT_KEY": audit_id, "instance": 3, "rbra.kondisi_alat": "rusak_berat",
             "rbra.foto_alat": None, "rbra.alat_rusak": "1", "rbra.catatan_alat": None},
        ],
        "audits-rbra-bagian": [
            {"KEY": key("alat[1]/bagian[1]"), "PARENT_KEY": key("alat[1]"), "instance": 1,
             "rbra.nama_bagian": "rantai", "rbra.foto_bagian": None},
            {"KEY": key("alat[1]/bagian[2]"), "PARENT_KEY": key("alat[1]"), "instance": 2,
             "rbra.nama_bagian": "dudukan", "rbra.foto_bagian": photos["alat[1]/bagian[2]/foto_bagian"]},
            {"KEY": key("alat[3]/bagian[1]"), "PARENT_KEY": key("alat[3]"), "instance": 1,
             "rbra.nama_bagian": "tiang", "rbra.foto_bagian": None},
        ],
    }


CHILD_HEADERS = {
    "audits-rbra-alat": ["KEY", "PARENT_KEY", "audit_id", "checklist", "instance", "rbra.kondisi_alat",
                         "rbra.foto_alat", "rbra.alat_rusak", "rbra.catatan_alat"],
    "audits-rbra-bagian": ["KEY", "PARENT_KEY", "audit_id", "checklist", "instance", "rbra.nama_bagian",
                           "rbra.foto_bagian"],
}


def check_tables(main: list[dict], children: dict[str, list[dict]], audit: dict, text: bool = False) -> None:
    """The main table has the audit once with the items outside repeats; each child row links to its parent."""
    audit_id = audit["id"]
    (row,) = main
    assert row["KEY"] == row["audit_id"] == audit_id
    assert row["rbra.pagar_pembatas"] == "ya" and row["rbra.jumlah_rusak"] == "1"
    assert row["rbra.foto_umum"] == audit["photos"]["foto_umum"]
    assert not {"rbra.kondisi_alat", "rbra.alat", "rbra.bagian", "rbra.nama_bagian"} & set(row)
    expected = expected_children(audit_id, audit["photos"])
    assert set(children) == set(expected)
    for name, rows in expected.items():
        for wanted in rows:
            wanted.update(audit_id=audit_id, checklist="rbra")
            if text:  # CSV: every cell is text, an empty one is ''
                wanted.update({c: "" if v is None else str(v) for c, v in wanted.items()})
        assert [{c: r[c] for c in CHILD_HEADERS[name]} for r in children[name]] == rows, name
    keys = {audit_id} | {r["KEY"] for rows in children.values() for r in rows}
    assert all(r["PARENT_KEY"] in keys for rows in children.values() for r in rows)


def test_xlsx_has_a_sheet_per_repeat_linked_by_parent_key(app, export_cli, equipment_audit, tmp_path):
    from openpyxl import load_workbook

    export(app, "--format", "xlsx", "--out", tmp_path / "a.xlsx")
    workbook = load_workbook(tmp_path / "a.xlsx")
    assert workbook.sheetnames == ["audits", "audits-rbra-alat", "audits-rbra-bagian"]

    def rows(sheet):
        header = [c.value for c in sheet[1]]
        return header, [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]

    header, main = rows(workbook["audits"])
    assert header[-1] == "KEY"
    children = {name: rows(workbook[name])[1] for name in workbook.sheetnames[1:]}
    assert {name: rows(workbook[name])[0] for name in children} == CHILD_HEADERS
    check_tables(main, children, equipment_audit)


def test_csv_is_a_zip_of_tables_when_there_are_repeats(app, export_cli, equipment_audit, tmp_path):
    output = export(app, "--format", "csv", "--out", tmp_path / "a.csv")
    out = tmp_path / "a.csv.zip"  # a ZIP is named as one
    assert not (tmp_path / "a.csv").exists() and str(out) in output and "3 rows in audits-rbra-bagian" in output
    archive = zipfile.ZipFile(out)
    assert archive.namelist() == ["audits.csv", "audits-rbra-alat.csv", "audits-rbra-bagian.csv"]

    def rows(name):
        data = archive.read(name)
        assert data.startswith(b"\xef\xbb\xbf")  # each one readable by Excel
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))

    children = {Path(name).stem: rows(name) for name in archive.namelist()[1:]}
    check_tables(rows("audits.csv"), children, equipment_audit, text=True)


def test_geopackage_has_child_attribute_tables(app, export_cli, equipment_audit, tmp_path):
    import geopandas
    import pyogrio

    out = tmp_path / "a.gpkg"
    export(app, "--format", "gpkg", "--out", out)
    layers = dict(pyogrio.list_layers(out))
    assert layers == {"audits_ruang_bermain": "Point", "audits-rbra-alat": None, "audits-rbra-bagian": None}
    main = geopandas.read_file(out, layer="audits_ruang_bermain", engine="pyogrio")
    assert (main.geometry.iloc[0].x, main.geometry.iloc[0].y) == (106.1601, -6.1151)

    def records(frame):
        return [{c: (None if isinstance(v, float) and v != v else v) for c, v in row.items()}
                for row in frame.to_dict("records")]

    children = {name: records(pyogrio.read_dataframe(out, layer=name)) for name in layers if name.startswith("audits-")}
    check_tables(records(main.drop(columns="geometry")), children, equipment_audit)


def test_geojson_keeps_one_feature_per_audit_with_instances_as_arrays(app, export_cli, equipment_audit, tmp_path):
    export(app, "--format", "geojson", "--out", tmp_path / "a.geojson")
    (feature,) = json.loads((tmp_path / "a.geojson").read_text(encoding="utf-8"))["features"]
    properties = feature["properties"]
    children = {name: properties.pop(name) for name in ("audits-rbra-alat", "audits-rbra-bagian")}
    check_tables([properties], children, equipment_audit)


def test_download_names_the_csv_zip_as_what_it_is(app, auth, equipment_audit):
    auth.login("dewi")
    response = auth.client.get("/wilayah/36.73.01/export/audits.csv")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert "pantau-kla_audits_36.73.01_" in disposition and disposition.endswith(".csv.zip")
    assert zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()[0] == "audits.csv"
    sheet = auth.client.get("/wilayah/36.73.01/export/audits.xlsx")
    assert sheet.status_code == 200 and sheet.headers["Content-Disposition"].endswith(".xlsx")
    facilities = auth.client.get("/wilayah/36.73.01/export/facilities.csv")  # no repeats: a plain CSV as before
    assert facilities.mimetype == "text/csv" and facilities.headers["Content-Disposition"].endswith(".csv")


def test_evidence_package_labels_repeat_photos_with_their_instance(app, equipment_audit, tmp_path):
    out = tmp_path / "bukti.zip"
    done = app.test_cli_runner().invoke(args=["evidence", "export", "--indicator", "20", "--year",
                                              str(equipment_audit["year"]), "--out", str(out), "--lang", "en"])
    assert done.exit_code == 0, done.output
    archive = zipfile.ZipFile(out)
    page = BeautifulSoup(archive.read("report.html").decode(), "html.parser")
    captions = [figure.figcaption.strong.get_text() for figure in page.select("figure")]
    # In the form's order: the overview, then equipment 2, then part 2 of equipment 1 (nested: 1.2).
    assert captions == ["Overview photo", "Equipment photo · 2", "Part photo · 1.2"]
    alts = [img["alt"].split(",")[0] for img in page.select("figure img")]
    assert alts == captions
    photos = equipment_audit["photos"]
    assert sorted(n for n in archive.namelist() if n.startswith("photos/")) == sorted(
        f"photos/{sha}.jpg" for sha in photos.values())


@pytest.mark.parametrize("names, titles", [
    (["audits", "audits-rbra-alat"], ["audits", "audits-rbra-alat"]),
    (["audits", "audits-taman_bermain-peralatan_bermain_anak", "audits-taman_bermain-peralatan_bermain_remaja"],
     ["audits", "audits-taman_bermain-peralatan_", "audits-taman_bermain-peralata~2"]),
    (["Audits", "audits"], ["Audits", "audits~2"]),  # Excel compares sheet names ignoring case
])
def test_sheet_titles_are_short_and_unique(names, titles):
    from maps.exports import SHEET_TITLE_MAX, sheet_titles

    assert sheet_titles(names) == titles and all(len(t) <= SHEET_TITLE_MAX for t in titles)
