"""A planner on the demo: the KLA dashboard and an indicator map at tablet size in Indonesian and English,
the dashboard on a phone, and the evidence package downloaded, unpacked and its report rendered."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from zoneinfo import ZoneInfo
from pathlib import Path
from urllib.parse import urlparse

import subprocess
import sys

import pytest

from tests.browser.conftest import SCREENSHOTS, SIZES
from tests.support import ROOT, ServerProcess


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The demo as `make run` serves it, with `flask indicators demo` loaded (sample approved audits)."""
    server = ServerProcess(tmp_path_factory.mktemp("indicator-demo"))
    server.init()
    subprocess.run([sys.executable, "-m", "flask", "indicators", "demo"], cwd=ROOT, env=server.env, check=True,
                   capture_output=True)
    server.start()
    yield server
    server.stop()


def open_dashboard(tab) -> None:
    tab.login("planner")
    tab.goto("/")
    tab.page.click("a.link-card")  # the home page links the indicators
    tab.page.wait_for_load_state("networkidle")
    assert tab.page.locator(".projection .total strong").count() == 1


def test_dashboard_and_indicator_map_in_both_languages(demo_server, tab_factory):
    tab = tab_factory(demo_server.url, "tablet")
    open_dashboard(tab)
    page = tab.page
    for language, title in (("id", "Indikator KLA"), ("en", "KLA indicators")):
        if language == "en":
            tab.set_language("en")
        assert page.locator("h1").inner_text().startswith(title)
        assert page.locator("table.indicators tbody tr").count() == 24
        assert page.locator("svg.band-scale .marker-now").count() == 1
        assert page.locator("ol.gains li").count() == 5
        tab.shot(f"indicators-dashboard-{language}-tablet")
        page.locator("#ind-18 a").click()
        page.wait_for_load_state("networkidle")
        # The choropleth: six kecamatan filled from the indicator's values, and its legend.
        page.wait_for_function("document.querySelectorAll('#map path.leaflet-interactive').length >= 6")
        page.wait_for_selector("#indicator-legend .legend-list li")
        assert page.locator("#indicator-legend .legend-list li").count() == 6
        fills = page.eval_on_selector_all("#map path.leaflet-interactive", "els => els.map(e => e.getAttribute('fill'))")
        assert len(set(fills)) > 1  # kecamatan differ
        tab.shot(f"indicators-map-{language}-tablet")
        page.go_back()
        page.wait_for_load_state("networkidle")
    tab.assert_clean()


def test_dashboard_on_a_phone(demo_server, tab_factory):
    tab = tab_factory(demo_server.url, "phone")
    open_dashboard(tab)
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES["phone"]["width"]  # nothing forces sideways scrolling
    tab.shot("indicators-dashboard-id-phone")
    tab.page.locator("#ind-18 a").click()
    tab.page.wait_for_load_state("networkidle")
    tab.page.wait_for_function("document.querySelectorAll('#map path.leaflet-interactive').length >= 6")
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= SIZES["phone"]["width"]
    tab.shot("indicators-map-id-phone")
    tab.assert_clean()


def test_evidence_package_downloads_and_its_report_renders(demo_server, tab_factory, chromium, tmp_path):
    tab = tab_factory(demo_server.url, "tablet", accept_downloads=True)
    tab.login("planner")
    year = dt.datetime.now(ZoneInfo("Asia/Jakarta")).year  # the demo audits this year
    tab.goto(f"/indicators/36.73/{year}/18")
    with tab.page.expect_download() as waiting:
        tab.page.click("a[href$='/evidence.zip']")
    archive_path = tmp_path / "bukti.zip"
    waiting.value.save_as(archive_path)
    folder = tmp_path / "bukti"
    with zipfile.ZipFile(archive_path) as archive:
        assert archive.testzip() is None
        archive.extractall(folder)
    photos = sorted((folder / "photos").iterdir())
    assert photos, "the demo's approved SRA audits carry photos"
    for photo in photos:
        assert hashlib.sha256(photo.read_bytes()).hexdigest() == photo.stem
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest

    # The report is a file on the planner's disk: it must render with nothing from any host.
    context = chromium.new_context(viewport=SIZES["tablet"])
    foreign: list[str] = []
    context.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).scheme == "file"
                  else (foreign.append(route.request.url), route.abort()))
    report = context.new_page()
    errors: list[str] = []
    report.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    report.goto((folder / "report.html").as_uri())
    report.wait_for_load_state("load")
    images = report.eval_on_selector_all("figure img", "els => els.map(e => [e.complete, e.naturalWidth])")
    assert images and all(done and width > 0 for done, width in images)
    shas = report.eval_on_selector_all("code.sha", "els => els.map(e => e.textContent.trim().split(' ').pop())")
    assert {photo.stem for photo in photos} <= set(shas)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    report.screenshot(path=str(SCREENSHOTS / "evidence-report-screen.png"), full_page=False)
    report.emulate_media(media="print")
    report.screenshot(path=str(SCREENSHOTS / "evidence-report-print.png"), full_page=False)
    pdf = report.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    (Path(SCREENSHOTS) / "evidence-report.pdf").write_bytes(pdf)
    context.close()
    assert not foreign and not errors
    tab.assert_clean()
