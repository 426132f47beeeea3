"""A real XLSForm with a repeat of play equipment (each with a photo), a cascading select, a calculated total and
an `or_other` answer: filled on a device in Chromium, submitted, synced to a hub, approved there, and found with
its repeat rows in the hub's CSV, XLSX and GeoPackage exports."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest

from tests.browser.test_audit_flow import GEO, submit
from tests.browser.test_sync_flow import approve_on_hub, hub_and_device, sync_device
from tests.support import make_jpeg

SURVEY = [
    ["type", "name", "label::Indonesian (id)", "label::English (en)", "choice_filter", "calculation", "scored"],
    ["select_one provinsi", "provinsi", "Provinsi", "Province"],
    ["select_one kota", "kota", "Kota", "City", "prov=${provinsi}"],
    ["select_one pengelola or_other", "pengelola", "Pengelola", "Manager"],
    ["begin repeat", "alat", "Alat bermain", "Play equipment"],
    ["select_one jenis", "jenis", "Jenis alat", "Kind of equipment"],
    ["select_one ya_tidak", "kondisi", "Kondisi baik dan aman", "Good and safe", None, None, "yes"],
    ["image", "foto_alat", "Foto alat", "Photo of the equipment"],
    ["calculate", "rusak", None, None, None, "if(${kondisi} = 'tidak', 1, 0)"],
    ["end repeat"],
    ["calculate", "total_rusak", "Alat rusak", "Broken equipment", None, "sum(${rusak})"],
    ["note", "ringkasan", "Tercatat ${total_rusak} alat rusak.", "${total_rusak} broken pieces recorded."],
]
CHOICES = [
    ["list_name", "name", "label::Indonesian (id)", "label::English (en)", "prov"],
    ["provinsi", "banten", "Banten", "Banten"], ["provinsi", "jabar", "Jawa Barat", "West Java"],
    ["kota", "serang", "Kota Serang", "Serang", "banten"], ["kota", "cilegon", "Kota Cilegon", "Cilegon", "banten"],
    ["kota", "bogor", "Kota Bogor", "Bogor", "jabar"],
    ["pengelola", "pemda", "Pemerintah daerah", "Local government"], ["pengelola", "swasta", "Swasta", "Private"],
    ["jenis", "ayunan", "Ayunan", "Swing"], ["jenis", "perosotan", "Perosotan", "Slide"],
    ["jenis", "jungkat", "Jungkat-jungkit", "Seesaw"],
    ["ya_tidak", "ya", "Ya", "Yes"], ["ya_tidak", "tidak", "Tidak", "No"],
]
SETTINGS = [["form_id", "version", "form_title::Indonesian (id)", "form_title::English (en)"],
            ["audit-alat-bermain", "2026.1", "Audit Alat Bermain", "Play Equipment Audit"]]
EQUIPMENT = [("Ayunan", "ya"), ("Perosotan", "tidak"), ("Jungkat-jungkit", "ya")]


def workbook(path):
    book = openpyxl.Workbook()
    book.active.title = "survey"
    for title, rows in (("survey", SURVEY), ("choices", CHOICES), ("settings", SETTINGS)):
        sheet = book[title] if title == "survey" else book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def pair(tmp_path):
    """A hub (auditor siti, supervisor budi) and a device enrolled with it that holds the imported XLSForm."""
    form = workbook(tmp_path / "audit-alat-bermain.xlsx")
    yield from hub_and_device(tmp_path, ("checklists", "import", str(form), "--kind", "ruang_bermain"))


def fill(tab, photos) -> str:
    page = tab.page
    tab.login("siti", "kata-sandi-siti")
    tab.goto("/facilities/?kind=ruang_bermain")
    page.locator("#results .row-link").first.click()
    page.click("a.start-audit")
    for box in page.locator("input[name=checklist]").all():
        if box.get_attribute("value") != "audit_alat_bermain@1":
            box.uncheck()
    page.click("button[type=submit].btn.block")
    page.wait_for_selector("#position .pos-line")
    assert page.locator("#item-kota input[name=value]").count() == 0  # no province yet: no city on offer
    page.locator("#item-provinsi label:has-text('Banten')").click()
    page.wait_for_selector("#item-kota label:has-text('Kota Cilegon')")
    assert page.locator("#item-kota label:has-text('Kota Bogor')").count() == 0
    page.locator("#item-kota label:has-text('Kota Cilegon')").click()
    page.locator("#item-pengelola label:has-text('Lainnya')").click()
    page.wait_for_selector("#item-pengelola_other textarea[name=value]")
    page.fill("#item-pengelola_other textarea[name=value]", "Karang Taruna RW 03")
    page.locator("#item-pengelola_other textarea[name=value]").blur()
    page.wait_for_selector("#fb-pengelola_other .saved")
    for number, (kind, condition) in enumerate(EQUIPMENT, start=1):
        page.click("button.repeat-add")
        card = f"[id='item-alat[{number}]/jenis']"
        page.wait_for_selector(card)
        page.locator(f"{card} label:has-text('{kind}')").click()
        page.locator(f"[id='item-alat[{number}]/kondisi'] label:has-text('{'Ya' if condition == 'ya' else 'Tidak'}')").click()
        page.wait_for_selector(f"[id='fb-alat[{number}]/kondisi'] .saved")
        page.locator(f"[id='item-alat[{number}]/foto_alat'] input[type=file]").set_input_files(str(photos[number - 1]))
        page.wait_for_selector(f"[id='item-alat[{number}]/foto_alat'] img")
    page.wait_for_selector("#item-ringkasan:has-text('Tercatat 1 alat rusak.')")
    assert page.locator("#item-total_rusak [data-computed]").inner_text().strip() == "1"
    tab.shot("repeat-form-filled-tablet-id")
    submit(tab)
    return page.url.rsplit("/", 1)[1]


def download(tab, fmt: str) -> bytes:
    response = tab.page.request.get(f"{tab.base}/wilayah/36.73/export/audits.{fmt}")
    assert response.status == 200, response.text()[:500]
    return response.body()


def test_repeat_form_is_filled_synced_approved_and_exported_with_its_entries(pair, tab_factory, tmp_path):
    hub, device = pair
    photos = []
    for number in range(1, 4):
        path = tmp_path / f"alat-{number}.jpg"
        path.write_bytes(make_jpeg(color=(60 * number, 120, 40)))
        photos.append(path)
    field = tab_factory(device.url, "tablet", geolocation=GEO, permissions=["geolocation"])
    audit_id = fill(field, photos)
    sync_device(field)
    office = tab_factory(hub.url, "tablet")
    approve_on_hub(office, audit_id)
    office.goto(f"/audits/{audit_id}")
    assert office.page.locator("section.repeat fieldset.instance").count() == 3
    office.shot("repeat-form-approved-hub-tablet-id")

    book = openpyxl.load_workbook(io.BytesIO(download(office, "xlsx")))
    child = next(name for name in book.sheetnames if "alat" in name and name != book.sheetnames[0])
    rows = list(book[child].iter_rows(values_only=True))
    header = rows[0]
    entries = [dict(zip(header, row)) for row in rows[1:]]
    assert [e["PARENT_KEY"] for e in entries] == [audit_id] * 3
    kinds = [v for e in entries for k, v in e.items() if k and k.endswith(".jenis")]
    assert kinds == ["ayunan", "perosotan", "jungkat"]

    with zipfile.ZipFile(io.BytesIO(download(office, "csv"))) as archive:
        names = archive.namelist()
        main = next(n for n in names if n == "audits.csv")
        audits = list(csv.DictReader(io.StringIO(archive.read(main).decode("utf-8-sig"))))
        assert [a["KEY"] for a in audits] == [audit_id]
        other = next(k for k in audits[0] if k.endswith(".pengelola_other"))
        assert audits[0][other] == "Karang Taruna RW 03"
        child_csv = next(n for n in names if n != main)
        children = list(csv.DictReader(io.StringIO(archive.read(child_csv).decode("utf-8-sig"))))
        assert sorted(c["KEY"] for c in children) == [f"{audit_id}/alat[{n}]" for n in (1, 2, 3)]

    import pyogrio

    gpkg = tmp_path / "audits.gpkg"
    gpkg.write_bytes(download(office, "gpkg"))
    layers = [name for name, _ in pyogrio.list_layers(gpkg)]
    child_layer = next(name for name in layers if "alat" in name)
    frame = pyogrio.read_dataframe(gpkg, layer=child_layer, read_geometry=False)
    assert sorted(frame["PARENT_KEY"]) == [audit_id] * 3
