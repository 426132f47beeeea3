"""A whole season in Chromium by visible labels only (issue #12): a fresh tablet is enrolled with a demo hub, an
auditor audits a playground with a photo and GPS, syncs; the supervisor returns it with a comment; the auditor
corrects and resends; the supervisor approves; the planner's RBRA figure for the kecamatan goes up by one."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import demo_hub_and_fresh_device
from tests.support import make_jpeg

PLAYGROUND = "Taman Bermain RW 01"
GEO = {"latitude": -6.1125, "longitude": 106.1612, "accuracy": 8}
COMMENT = "Foto papan nama kurang jelas, mohon ambil ulang."


@pytest.fixture(scope="module")
def hub_and_device(tmp_path_factory):
    """A demo hub as `make run` makes one, and a field device straight out of the box."""
    with demo_hub_and_fresh_device(tmp_path_factory.mktemp("season"), "browser-season-hub-" + "s" * 32) as pair:
        yield pair


def rbra_figure(planner) -> tuple[int, str]:
    """The RBRA value on Kota Serang's indicator dashboard, as the planner reads it (computed first if never)."""
    page = planner.page
    planner.goto("/")
    page.get_by_role("link", name="Indikator", exact=True).click()
    if page.get_by_role("button", name="Hitung sekarang").count():
        page.get_by_role("button", name="Hitung sekarang").click()
    row = page.get_by_role("row", name=re.compile("Ruang Bermain Ramah Anak"))
    # "value\naudited/facilities" in the value cell, e.g. "0\n0/18"
    value, audited = re.search(r"\t(\d+)\n(\d+/\d+)\t", row.inner_text()).groups()
    return int(value), audited


def enroll(office, field, hub_url: str) -> None:
    """The admin registers the tablet for Kecamatan Serang; the tablet enrolls from its first page."""
    office.login("admin")
    office.page.get_by_role("link", name="Perangkat", exact=True).click()
    office.page.get_by_label("Nama", exact=True).fill("Tablet Serang 1")
    office.page.get_by_label("Serang (36.73.01)").check()
    office.page.get_by_role("button", name="Buat kode pendaftaran").click()
    code = office.page.locator(".enroll-code").inner_text().strip()
    field.goto("/")
    field.page.get_by_role("link", name="Siapkan perangkat ini").click()
    field.page.get_by_label("Alamat hub").fill(hub_url)
    field.page.get_by_label("Kode pendaftaran").fill(code)
    field.page.get_by_role("button", name="Daftarkan").click()
    field.page.wait_for_load_state("networkidle")
    field.page.get_by_label("Nama pengguna").fill("auditor")
    field.page.get_by_label("Kata sandi").fill("demo")
    field.page.get_by_role("button", name="Masuk", exact=True).click()
    field.page.wait_for_load_state("networkidle")


def answer_all(page, photo) -> None:
    """Answer every question shown until none is left: Ya, the first choice, 2, a date, a sentence, a photo."""
    for _ in range(10):
        # Titles, not positions: answers show and hide questions, which shifts every card after them.
        titles = [a.get_by_role("heading").first.inner_text().rstrip("*").strip() for a in page.get_by_role("article").all()
                  if a.is_visible() and not a.get_by_text(re.compile("^Tersimpan")).count()
                  and not a.get_by_role("img", name=re.compile("^Foto")).count()]
        if not titles:
            return
        for title in titles:
            name = re.compile("^" + re.escape(title).replace("/", r"\/"))  # "wajib" follows on required ones
            item = page.get_by_role("article").filter(has=page.get_by_role("heading", name=name))
            if item.get_by_role("radio", name="Ya").count():
                item.get_by_role("radio", name="Ya").check()
            elif item.get_by_role("radio").count():
                item.get_by_role("radio").first.check()
            elif item.get_by_role("checkbox").count():
                item.get_by_role("checkbox").first.check()
            elif item.get_by_label(name).count():
                box = item.get_by_label(name)
                box.fill("2026-11-01" if box.get_attribute("type") == "date" else
                         "2" if box.get_attribute("inputmode") in ("numeric", "decimal") else "Kondisi baik.")
                box.dispatch_event("change")
            else:  # a photo question: its only control is the camera
                item.get_by_label(re.compile("Ambil foto")).set_input_files(str(photo))
                item.get_by_role("img", name=re.compile("^Foto")).first.wait_for()
                continue
            item.get_by_text(re.compile("^Tersimpan")).wait_for()
    raise AssertionError("questions kept appearing")


def submit(page) -> None:
    page.get_by_role("link", name="Periksa & kirim").click()
    assert page.get_by_role("button", name="Kirim audit").is_enabled(), page.inner_text("main")
    page.get_by_role("button", name="Kirim audit").click()
    page.wait_for_load_state("networkidle")


def sync(field) -> None:
    field.page.get_by_role("link", name="Sinkron", exact=True).click()
    field.page.get_by_role("button", name="Sinkronkan sekarang").click()
    field.page.wait_for_load_state("networkidle")
    assert field.page.get_by_role("status").filter(has_text="Sinkronisasi selesai").count() or \
        field.page.get_by_text(re.compile("Sinkronisasi (selesai|berhasil)")).count(), field.page.inner_text("main")


def decide(office, decision: str, comment: str = "") -> None:
    office.page.get_by_role("link", name="Tinjauan", exact=True).click()
    office.page.get_by_role("link", name=re.compile(f"{PLAYGROUND}.*Ruang Bermain", re.S)).first.click()
    office.page.get_by_label(decision).check()
    if comment:
        office.page.get_by_label(re.compile("^Komentar")).fill(comment)
    office.page.get_by_role("button", name="Simpan keputusan").click()
    office.page.wait_for_load_state("networkidle")
    assert office.page.get_by_text("Keputusan disimpan").is_visible()


def test_one_season_from_enrollment_to_the_planners_figure(hub_and_device, tab_factory, tmp_path):
    hub, device = hub_and_device
    photo = tmp_path / "papan-nama.jpg"
    photo.write_bytes(make_jpeg())
    planner = tab_factory(hub.url, "tablet")
    planner.login("planner")
    before = rbra_figure(planner)

    office = tab_factory(hub.url, "tablet")
    field = tab_factory(device.url, "tablet", geolocation=GEO, permissions=["geolocation"])
    enroll(office, field, hub.url)

    page = field.page
    page.get_by_role("link", name="Fasilitas", exact=True).click()
    page.get_by_role("searchbox").fill(PLAYGROUND)
    page.get_by_role("link", name=re.compile(PLAYGROUND)).first.click()
    page.get_by_role("link", name="Mulai audit").click()
    for box in page.get_by_role("checkbox").all():
        box.set_checked("Ruang Bermain" in box.evaluate("el => el.closest('label').innerText"))
    page.get_by_role("button", name="Mulai").click()
    page.get_by_text(re.compile("^± ?\\d+ m")).first.wait_for()
    answer_all(page, photo)
    submit(page)
    sync(field)

    decide(office, "Kembalikan untuk dikoreksi", COMMENT)
    sync(field)
    page.get_by_role("link", name="Fasilitas", exact=True).click()
    returned = page.get_by_role("region", name=re.compile("Dikembalikan untuk dikoreksi"))
    assert COMMENT in returned.inner_text()
    returned.get_by_role("button", name="Buat koreksi").click()
    page.wait_for_load_state("networkidle")
    assert COMMENT in page.get_by_role("main").inner_text(), "the comment stays visible in the correction"
    submit(page)
    sync(field)

    decide(office, "Setujui")
    sync(field)
    value, audited = rbra_figure(planner)
    assert value == before[0] + 1, "the approved audit counts in the planner's figure"
    assert audited != before[1]
    for tab in (planner, office, field):
        tab.assert_clean()
