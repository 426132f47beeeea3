"""Planner pages: dashboard, kecamatan, indicator, entering values with evidence, points, exports, evidence zip."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.auditlog import AuditLogEntry
from indicators.models import EntryEvidence, EvidenceFile, IndicatorEntry, IndicatorPoints, IndicatorValue
from survey.audits.models import Photo
from tests import indicator_scenario
from tests.conftest import make_user
from tests.support import html, make_jpeg


@pytest.fixture
def scenario(app, kota_serang):
    return indicator_scenario.build(app)


@pytest.fixture
def dewi(auth, planner, scenario):
    """Dewi the planner, signed in, in English."""
    auth.login("dewi")
    auth.post("/language", {"locale": "en"})
    return auth


def count(app, model) -> int:
    with app.app_context():
        from app.extensions import db

        return db.session.execute(select(func.count()).select_from(model)).scalar()


@pytest.mark.parametrize("path", ["/indicators/36.73/2026", "/indicators/kecamatan/36.73.01/2026",
                                  "/indicators/36.73/2026/18", "/indicators/36.73/2026/export.csv"])
def test_auditors_may_not_see_planner_pages(app, auth, auditor, path):
    auth.login("siti")
    assert auth.client.get(path).status_code == 403


def test_dashboard_shows_values_points_predicate_gains_and_coverage(dewi):
    page = html(dewi.client.get("/indicators/36.73/2026"))
    sra = page.find("tr", id="ind-18")
    cells = [td.get_text(" ", strip=True) for td in sra.find_all("td")]
    assert cells[1].startswith("44.4") and "4/9" in cells[1]  # 4 of 9 schools, the scenario's answer
    assert cells[3].replace(" ", "") == "22.2/50"  # 50 points × 4/9
    assert page.find("tr", id="ind-13").find_all("td")[1].get_text(strip=True).startswith("50.0")
    total = page.select_one(".projection .total strong").get_text(strip=True)
    assert total == "93"  # 50 × 4/9 + 50 × 0.5 + 40 + 40/12 + 40/14 = 93.41, shown in whole points as it is banded
    assert page.select_one(".projection .badge.band-none")  # far below 500: no predicate
    gains = [li.a.get_text(" ", strip=True) for li in page.select("ol.gains li")]
    assert len(gains) == 5 and gains[0].startswith("1.")  # 60 points, nothing entered
    coverage = {li.a.get_text(strip=True): li.span.get_text(strip=True) for li in page.select("#cov-h ~ ul.link-list li")}
    # A, B, F, G, play 1, Puskesmas Serang (C returned, D rejected, E none, play 2 in 2025); H and the PKA.
    assert coverage["Serang"] == "6/10" and coverage["Kasemen"] == "2/4"
    assert page.find("svg", class_="band-scale") and page.find_all("svg", class_="chart")
    matrix = page.find("table", class_="per-kecamatan")
    header = [th.get_text(strip=True) for th in matrix.thead.find_all("th")]
    assert header == ["Kecamatan", "13. PRAP", "15. KTR", "18. SRA", "19. PKA", "20. RBRA"]
    serang = [td.get_text(" ", strip=True) for td in matrix.tbody.find("tr").find_all("td")]
    assert serang[2].startswith("42.9") and "3/7" in serang[2]


def test_dashboard_of_a_year_never_computed_offers_to_compute(app, dewi):
    page = html(dewi.client.get("/indicators/36.73/2031"))
    assert page.find("form", action="/indicators/compute")
    response = dewi.post("/indicators/compute", {"year": "2031", "code": "36.73"})
    assert response.status_code == 302
    with app.app_context():
        from app.extensions import db

        assert db.session.execute(select(func.count()).where(IndicatorValue.year == 2031)).scalar() > 0


def test_kecamatan_page_lists_facilities_with_the_audits_that_count(dewi, scenario):
    page = html(dewi.client.get("/indicators/kecamatan/36.73.01/2026"))
    rows = {li.select_one(".row-title").get_text(strip=True): li.select_one(".row-side").get_text(" ", strip=True)
            for li in page.select("li.list-item")}
    assert rows["SD Negeri A Serang"] == "KTR SRA"
    assert rows["SD Negeri C Serang"] == "no approved audit"  # returned
    assert "SD Belum Dicek" not in rows  # not confirmed


def test_indicator_page_per_kecamatan(dewi):
    page = html(dewi.client.get("/indicators/36.73/2026/20"))
    body = {tr.th.get_text(strip=True): tr.find_all("td")[0].get_text(" ", strip=True) for tr in page.select("tbody tr")
            if tr.th and tr.th.a and "kecamatan" in tr.th.a["href"]}
    assert body["Serang"].startswith("1") and "1/2" in body["Serang"]
    assert page.find("a", href="/indicators/36.73/2026/20/evidence.zip")
    kabkota_only = html(dewi.client.get("/indicators/36.73/2026/1"))  # entered for the city as a whole
    assert kabkota_only.find(attrs={"data-region-map": True}) is None
    assert kabkota_only.find("a", href="/indicators/entry/36.73/2026/1")


def entry_form(**overrides) -> dict:
    return {"value": "", "numerator": "412", "denominator": "480", "note": "Data Disdukcapil, Desember 2026", **overrides}


def test_entering_a_value_with_evidence_rolls_up_and_is_logged(app, dewi):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = dewi.post("/indicators/entry/36.73.01/2026/4", {**entry_form(), "files": [(io.BytesIO(pdf), "akta.pdf"),
                                                                                     (io.BytesIO(b"kec;n\nSerang;412\n"), "rekap.csv")]},
                         content_type="multipart/form-data")
    assert response.status_code == 302
    dewi.post("/indicators/entry/36.73.02/2026/4", entry_form(numerator="300", denominator="320"))
    with app.app_context():
        from app.extensions import db

        entry = db.session.execute(select(IndicatorEntry).where(IndicatorEntry.wilayah_code == "36.73.01")).scalar_one()
        assert entry.value == pytest.approx(100 * 412 / 480)
        assert sorted(e.filename for e in entry.evidence) == ["akta.pdf", "rekap.csv"]
        stored = Path(app.config["DATA_DIR"]) / "evidence" / hashlib.sha256(pdf).hexdigest()[:2] / f"{hashlib.sha256(pdf).hexdigest()}.pdf"
        assert stored.read_bytes() == pdf
        assert db.session.get(IndicatorValue, ("kla-2022", 2026, 4, "36.73")) is None  # 2 of 6 kecamatan are not the city
        log = db.session.execute(select(AuditLogEntry).where(AuditLogEntry.entity == "indicator_entry")).scalars().all()
        assert len(log) == 2 and log[0].changes["note"][1] == "Data Disdukcapil, Desember 2026"
    row = html(dewi.client.get("/indicators/36.73/2026")).find("tr", id="ind-4")
    assert "2 of 6 kecamatan entered" in row.get_text(" ", strip=True)
    assert "2 of 6 kecamatan entered" in html(dewi.client.get("/indicators/36.73/2026/4")).select_one(".stats-row").get_text(" ")
    for code in ("36.73.03", "36.73.04", "36.73.05", "36.73.06"):
        dewi.post(f"/indicators/entry/{code}/2026/4", entry_form(numerator="100", denominator="100"))
    with app.app_context():
        from app.extensions import db

        kota = db.session.get(IndicatorValue, ("kla-2022", 2026, 4, "36.73"))
        assert (kota.numerator, kota.denominator, kota.basis) == (1112, 1200, "rollup")  # every kecamatan entered
    assert "6 of 6 kecamatan entered" in html(dewi.client.get("/indicators/36.73/2026")).find("tr", id="ind-4").get_text(" ")
    sha = hashlib.sha256(pdf).hexdigest()
    download = dewi.client.get(f"/indicators/evidence/{entry.id}/{sha}")
    assert download.data == pdf and "akta.pdf" in download.headers["Content-Disposition"]


# (numerator typed, denominator typed, stored numerator, stored denominator)
WHOLE = [("412", "480", 412, 480), ("1.234", "2.000", 1234, 2000), (" 1 234 ", "12.345.678", 1234, 12345678), ("0", "7", 0, 7)]


@pytest.mark.parametrize("numerator, denominator, n, d", WHOLE, ids=[f"{w[0]}/{w[1]}" for w in WHOLE])
def test_counts_are_whole_numbers_with_dots_as_thousands(app, dewi, numerator, denominator, n, d):
    response = dewi.post("/indicators/entry/36.73.01/2026/4", entry_form(numerator=numerator, denominator=denominator))
    assert response.status_code == 302
    with app.app_context():
        from app.extensions import db

        entry = db.session.execute(select(IndicatorEntry).where(IndicatorEntry.wilayah_code == "36.73.01")).scalar_one()
        assert (entry.numerator, entry.denominator) == (n, d)
        assert entry.value == pytest.approx(100 * n / d, abs=1e-4)


BAD_ENTRIES = [
    ("no note", "/indicators/entry/36.73.01/2026/4", entry_form(note=" "), [], "note", "a note is required"),
    ("not a number", "/indicators/entry/36.73.01/2026/4", entry_form(numerator="", denominator="", value="banyak"), [],
     "value", "is not a number"),
    ("above 100 %", "/indicators/entry/36.73.01/2026/4", entry_form(numerator="", denominator="", value="120"), [],
     "value", "between 0 and 100"),
    ("counted above total", "/indicators/entry/36.73.01/2026/4", entry_form(numerator="500"), [], "numerator",
     "between 0 and the total"),
    ("only a numerator", "/indicators/entry/36.73.01/2026/4", entry_form(denominator=""), [], "numerator", "or neither"),
    ("a decimal count", "/indicators/entry/36.73.01/2026/4", entry_form(numerator="1.5", denominator="480"), [], "numerator",
     "not a whole number"),
    ("a decimal-comma count", "/indicators/entry/36.73.01/2026/4", entry_form(numerator="412", denominator="480,5"), [],
     "denominator", "not a whole number"),
    ("dots not in thousands", "/indicators/entry/36.73.01/2026/4", entry_form(numerator="1.23", denominator="2000"), [],
     "numerator", "not a whole number"),
    ("yes/no is 0 or 1", "/indicators/entry/36.73/2026/1", entry_form(numerator="", denominator="", value="2"), [],
     "value", "1 for yes"),
    ("count not whole", "/indicators/entry/36.73.01/2026/3", entry_form(numerator="", denominator="", value="2,5"), [],
     "value", "whole number"),
    ("kabkota only", "/indicators/entry/36.73.01/2026/1", entry_form(numerator="", denominator="", value="1"), [],
     "value", "kabupaten/kota as a whole"),
    ("an executable", "/indicators/entry/36.73.01/2026/4", entry_form(), [(b"MZ\x90\x00\x03\x00" + bytes(200), "setup.exe")],
     "files", "is not a PDF"),
    ("a fake PDF", "/indicators/entry/36.73.01/2026/4", entry_form(), [(b"%PDF-1.4 truncated", "akta.pdf")], "files",
     "is not a PDF"),
    ("a broken photo", "/indicators/entry/36.73.01/2026/4", entry_form(), [(make_jpeg()[:400], "foto.jpg")], "files",
     "is not a PDF"),
    ("an empty file", "/indicators/entry/36.73.01/2026/4", entry_form(), [(b"", "kosong.pdf")], "files", "is empty"),
]


@pytest.mark.parametrize("path, form, files, field, message", [c[1:] for c in BAD_ENTRIES], ids=[c[0] for c in BAD_ENTRIES])
def test_bad_entries_are_refused_clearly_and_change_nothing(app, dewi, path, form, files, field, message):
    before = (count(app, IndicatorEntry), count(app, EvidenceFile), count(app, AuditLogEntry))
    data = {**form, "files": [(io.BytesIO(content), name) for content, name in files]}
    response = dewi.post(path, data, content_type="multipart/form-data")
    assert response.status_code == 422
    page = html(response)
    assert message in page.find("p", id=f"{field}-error").get_text()
    assert (count(app, IndicatorEntry), count(app, EvidenceFile), count(app, AuditLogEntry)) == before
    assert not (Path(app.config["DATA_DIR"]) / "evidence").exists()


def test_the_refusal_is_in_indonesian_too(app, auth, planner, scenario):
    auth.login("dewi")
    response = auth.post("/indicators/entry/36.73.01/2026/4", entry_form(note=""))
    assert "catatan wajib diisi" in html(response).find("p", id="note-error").get_text()


def test_facility_derived_indicators_cannot_be_entered(dewi):
    response = dewi.post("/indicators/entry/36.73.01/2026/18", entry_form())
    assert response.status_code == 422


def test_admin_edits_points_in_the_audit_log_planner_may_not(app, auth, admin, planner, scenario):
    auth.login("dewi")
    assert auth.client.get("/indicators/points/kla-2022").status_code == 403
    auth.post("/logout")
    auth.login("adi")
    form = {f"points_{n}": str(p) for n, p in indicator_scenario_points(app).items()}
    logged_before = count(app, AuditLogEntry)
    refused = auth.post("/indicators/points/kla-2022", {**form, "points_1": "90"})
    assert refused.status_code == 422 and "1030" in refused.get_data(as_text=True)
    assert count(app, AuditLogEntry) == logged_before and indicator_scenario_points(app)[1] == 60
    saved = auth.post("/indicators/points/kla-2022", {**form, "points_1": "90", "points_3": "10"})
    assert saved.status_code == 302
    with app.app_context():
        from app.extensions import db

        assert db.session.get(IndicatorPoints, ("kla-2022", 1)).points == 90
        entries = db.session.execute(select(AuditLogEntry).where(AuditLogEntry.action == "points")).scalars().all()
        assert sorted((e.entity_id, tuple(e.changes["points"])) for e in entries) == [("kla-2022#1", (60, 90)),
                                                                                   ("kla-2022#3", (40, 10))]
        assert entries[0].user_id is not None


def indicator_scenario_points(app) -> dict[int, int]:
    with app.app_context():
        from app.extensions import db
        from indicators.queries import points_of

        return points_of(db.session, "kla-2022")


def test_csv_and_xlsx_exports(dewi):
    response = dewi.client.get("/indicators/36.73/2026/export.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], {row[0]: row for row in rows[1:]}
    assert len(body) == 24
    sra = dict(zip(header, body["18"]))
    assert (sra["Numerator"], sra["Denominator"]) == ("4.0", "9.0")
    assert float(sra["Value"]) == pytest.approx(44.4444, abs=1e-3)
    assert float(sra["Serang (36.73.01)"]) == pytest.approx(42.8571, abs=1e-3)
    workbook = load_workbook(io.BytesIO(dewi.client.get("/indicators/36.73/2026/export.xlsx").data))
    sheet = workbook["Indicators"]
    header = [c.value for c in sheet[2]]
    sra_row = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[0] == 18)
    assert sra_row[header.index("Numerator")] == 4 and sra_row[header.index("Denominator")] == 9
    assert [r for r in workbook["Audit coverage"].iter_rows(min_row=2, max_row=3, values_only=True)] == [
        ("Serang", "36.73.01", 6, 10), ("Kasemen", "36.73.02", 2, 4)]


def check_package(app, data: bytes, scenario) -> str:
    """The zip opens, every member matches SHA256SUMS, and every photo is the original, byte for byte."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    sums = dict(line.split("  ")[::-1] for line in archive.read("SHA256SUMS").decode().splitlines())
    assert set(sums) == set(archive.namelist()) - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
    photos = [n for n in archive.namelist() if n.startswith("photos/")]
    assert sorted(Path(n).stem for n in photos) == sorted(scenario["photos"].values())
    with app.app_context():
        from app.extensions import db

        for name in photos:
            sha = Path(name).stem
            assert hashlib.sha256(archive.read(name)).hexdigest() == sha
            assert db.session.get(Photo, sha) is not None
    report = archive.read("report.html").decode()
    for sha in scenario["photos"].values():
        assert sha in report and f'thumbs/{sha}.jpg' in report
    return report


def test_evidence_export_command(app, scenario, runner, tmp_path):
    out = tmp_path / "bukti-sra.zip"
    done = runner.invoke(args=["evidence", "export", "--indicator", "18", "--year", "2026", "--out", str(out)])
    assert done.exit_code == 0, done.output
    report = check_package(app, out.read_bytes(), scenario)
    assert "SD Negeri A Serang" in report and "SD Negeri E Serang" in report  # E: no audit, listed as such
    assert "SD Belum Dicek" not in report
    assert "± 8 m" in report and "Memenuhi standar" in report  # Indonesian by default


@pytest.mark.parametrize("args, code", [
    (["--indicator", "99", "--year", "2026"], "indicators.unknown_indicator"),
    (["--indicator", "18", "--year", "2030"], "indicators.not_computed"),
    (["--indicator", "18", "--year", "2026", "--kabkota", "99.99"], "wilayah.not_found"),
])
def test_evidence_export_refusals(scenario, runner, tmp_path, args, code):
    out = tmp_path / "x.zip"
    done = runner.invoke(args=["evidence", "export", *args, "--out", str(out)])
    assert done.exit_code == 1 and f"[{code}]" in done.output
    assert not out.exists()


def test_evidence_download_button(app, dewi, scenario):
    response = dewi.client.get("/indicators/36.73/2026/18/evidence.zip")
    assert response.mimetype == "application/zip"
    report = check_package(app, response.data, scenario)
    assert "Meets the standard" in report  # the user's language


def test_evidence_package_of_an_entered_indicator(app, dewi, runner, tmp_path):
    """Indicator 4 is entered: the package holds each value, its note, who entered it and when, and the original files."""
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    csv_bytes = b"kec;n\nSerang;412\n"
    dewi.post("/indicators/entry/36.73.01/2026/4", {**entry_form(), "files": [(io.BytesIO(pdf), "akta.pdf"),
                                                                          (io.BytesIO(csv_bytes), "rekap.csv")]},
              content_type="multipart/form-data")
    dewi.post("/indicators/entry/36.73.02/2026/4", entry_form(numerator="300", denominator="320", note="Rekap Kasemen"))
    response = dewi.client.get("/indicators/36.73/2026/4/evidence.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    sums = dict(line.split("  ")[::-1] for line in archive.read("SHA256SUMS").decode().splitlines())
    assert set(sums) == set(archive.namelist()) - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
    files = sorted(n for n in archive.namelist() if n.startswith("files/"))
    expected = {hashlib.sha256(pdf).hexdigest(): pdf, hashlib.sha256(csv_bytes).hexdigest(): csv_bytes}
    assert sorted(Path(n).stem for n in files) == sorted(expected)
    for name in files:
        assert archive.read(name) == expected[Path(name).stem]  # the originals, byte for byte
    report = html_text = archive.read("report.html").decode()
    page = BeautifulSoup(html_text, "html.parser").get_text(" ", strip=True)
    assert "Data Disdukcapil, Desember 2026" in page and "Rekap Kasemen" in page and "Dewi" in page
    assert "akta.pdf" in page and "85.8 %" in page and "412/480" in page
    assert "2 of 6 kecamatan entered" in page  # the city has no value yet
    assert all(sha in report for sha in expected)
    out = tmp_path / "bukti-4.zip"
    done = runner.invoke(args=["evidence", "export", "--indicator", "4", "--year", "2026", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert sorted(n for n in zipfile.ZipFile(out).namelist() if n.startswith("files/")) == files


def test_indicator_choropleth_reuses_the_geo_layer(dewi):
    """The map per kecamatan is geo.layers.choropleth_layer with the indicator's values merged in."""
    response = dewi.client.get("/indicators/36.73/2026/18/map.geojson")
    assert response.mimetype == "application/geo+json"
    features = {f["properties"]["code"]: f["properties"] for f in response.get_json()["features"]}
    assert len(features) == 6
    serang, kasemen, curug = features["36.73.01"], features["36.73.02"], features["36.73.04"]
    assert serang["value"] == pytest.approx(3 / 7) and serang["class"] == "a1" and serang["label"] == "Serang: 42.9 % (3/7)"
    assert kasemen["value"] == pytest.approx(0.5) and kasemen["class"] == "a2"
    assert curug["value"] is None and curug["class"] == "none"  # no school in Curug in the scenario
    page = html(dewi.client.get("/indicators/36.73/2026/18"))
    canvas = page.find(attrs={"data-region-map": True})
    assert canvas["data-choropleth-url"] == "/indicators/36.73/2026/18/map.geojson"
    assert canvas["data-layer-url"] == "/wilayah/36.73/layers/kecamatan.geojson"


def test_a_damaged_photo_stops_the_package_and_leaves_no_file(app, scenario, runner, tmp_path):
    from survey.photos import PhotoStore

    sha = scenario["photos"]["A"]
    original = PhotoStore(Path(app.config["DATA_DIR"]) / "photos").path(sha)
    original.write_bytes(original.read_bytes()[:-10] + b"0123456789")  # disk damage or tampering
    out = tmp_path / "bukti.zip"
    done = runner.invoke(args=["evidence", "export", "--indicator", "18", "--year", "2026", "--out", str(out)])
    assert done.exit_code == 1 and "[evidence.photo_damaged]" in done.output
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


SHA = "0" * 64
# (who, method, path, status): auditors see no indicator endpoint, supervisors do not enter values, only admins edit points.
PERMISSIONS = [
    ("siti", "post", "/indicators/compute", 403),
    ("siti", "post", "/indicators/entry/36.73.01/2026/4", 403),
    ("siti", "get", "/indicators/36.73/2026/18/evidence.zip", 403),
    ("siti", "get", "/indicators/36.73/2026/20/map.geojson", 403),
    ("siti", "get", f"/indicators/evidence/00000000-0000-0000-0000-000000000001/{SHA}", 403),
    ("budi", "get", "/indicators/entry/36.73.01/2026/4", 403),
    ("budi", "post", "/indicators/entry/36.73.01/2026/4", 403),
    ("budi", "post", "/indicators/points/kla-2022", 403),
    ("dewi", "post", "/indicators/points/kla-2022", 403),
    ("dewi", "get", "/indicators/entry/36.73.01/2026/4", 200),
    ("budi", "get", "/indicators/36.73/2026/20/map.geojson", 200),
]


@pytest.mark.parametrize("who, method, path, status", PERMISSIONS, ids=[f"{p[0]}-{p[1]}-{p[2]}" for p in PERMISSIONS])
def test_indicator_permissions(app, auth, scenario, supervisor, planner, who, method, path, status):
    from indicators.models import IndicatorPoints, IndicatorYear

    def state():
        with app.app_context():
            from app.extensions import db

            return (count(app, IndicatorEntry), db.session.get(IndicatorYear, 2026).computed_at,
                    sorted(db.session.execute(select(IndicatorPoints.number, IndicatorPoints.points)).all()))

    before = state()
    auth.login(who)
    form = {**entry_form(), "year": "2026", **{f"points_{n}": "0" for n in range(1, 25)}, "points_1": "1000"}
    response = auth.post(path, form) if method == "post" else auth.client.get(path)
    assert response.status_code == status
    assert state() == before  # a refused request changes nothing
