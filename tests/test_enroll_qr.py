"""The Devices page shows a new device's one-time code also as a QR code holding the field app's enrollment URL
(`<hub>/app/#enroll=CODE`): an inline SVG made by segno, the URL as text beside it and one line saying what
to do, in both languages. segno cannot decode, so the test reads the modules the SVG draws and compares them
with the matrix segno encodes for the URL, and compares the SVG with segno's own output for that text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import segno

from sync.views import QR_ERROR
from tests.support import html

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app_config(tmp_path):
    """A kota hub."""
    return {"INSTANCE_PATH": str(tmp_path / "hub"), "ROLE": "hub", "SECRET_KEY": "x" * 32, "TESTING": True}


@pytest.fixture
def budi(auth, supervisor):
    """Budi, a supervisor, on the hub's Devices page."""
    auth.login(supervisor)
    return auth


def register(budi, name: str = "Tablet Siti"):
    response = budi.post("/devices/register", {"name": name, "kecamatan": "36.73.01", "role": "field"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return html(response)


def drawn_modules(svg) -> set[tuple[int, int]]:
    """(row, column) of every dark module segno's SVG path draws (`M x y.5h n m dx dy ...`, one line per row)."""
    path = svg.select_one("path[stroke]")["d"]
    dark, x, y = set(), 0.0, 0.0
    for command, numbers in re.findall(r"([MmHh])([-0-9. ]+)", re.sub(r"(?<=\d)-", " -", path)):
        values = [float(v) for v in numbers.split()]
        if command in "Mm":
            x, y = (values[0], values[1]) if command == "M" else (x + values[0], y + values[1])
        else:
            length = values[0] if command == "h" else values[0] - x
            dark |= {(int(y - 0.5), int(x) + i) for i in range(int(length))}
            x += length
    return dark


def matrix_modules(url: str, border: int) -> set[tuple[int, int]]:
    """(row, column) of every dark module segno encodes for the URL, shifted by the quiet zone."""
    qr = segno.make(url, error=QR_ERROR, micro=False)
    return {(r + border, c + border) for r, row in enumerate(qr.matrix) for c, bit in enumerate(row) if bit}


def test_a_new_code_is_shown_as_a_qr_code_holding_the_enrollment_url(budi):
    page = register(budi)
    code = page.select_one(".enroll-code").get_text(strip=True)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    url = "http://localhost/" + "app/#enroll=" + code  # request.url_root of the test client, then the app's path
    figure = page.select_one(".code-card .enroll-qr-code")
    assert figure["data-enroll-url"] == url
    svg = figure.select_one("svg")
    assert svg is not None and not svg.select("image, [href], [xlink\\:href]")  # inline, nothing fetched
    ours = html_of(segno.make(url, error=QR_ERROR, micro=False).svg_inline(title="x", scale=1, border=4,
                                                                            omitsize=True))
    assert svg["viewbox"] == ours.select_one("svg")["viewbox"]
    assert svg.select_one("path[stroke]")["d"] == ours.select_one("path[stroke]")["d"]
    assert drawn_modules(svg) == matrix_modules(url, border=4)
    assert svg.select_one("title").get_text(strip=True)  # a name for screen readers
    link = page.select_one(".code-card .enroll-url a")
    assert link["href"] == url and link.get_text(strip=True) == url


def html_of(text: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(text, "html.parser")


def test_a_wrong_url_would_not_match(budi):
    """The comparison above can fail: another code draws other modules."""
    page = register(budi)
    svg = page.select_one(".enroll-qr-code svg")
    assert drawn_modules(svg) != matrix_modules("http://localhost/app/#enroll=AAAA-BBBB", border=4)


@pytest.mark.parametrize(("locale", "line"), [
    ("en", "Scan with the tablet's camera to install the field app and enroll it"),
    ("id", "Pindai dengan kamera tablet untuk memasang aplikasi lapangan dan mendaftarkannya"),
])
def test_one_line_says_what_to_do_in_both_languages(budi, locale, line):
    budi.post("/language", {"locale": locale, "next": "/devices/"})
    page = register(budi)
    assert line in page.select_one(".code-card .enroll-qr").get_text(" ", strip=True)


def test_the_qr_code_is_shown_only_with_a_new_code(budi, client):
    assert html(client.get("/devices/")).select_one(".enroll-qr") is None
    refused = budi.post("/devices/register", {"name": "x", "kecamatan": "36.73.01", "role": "field"})
    assert refused.status_code == 422 and html(refused).select_one(".enroll-qr") is None


def test_the_qr_code_is_large_enough_to_scan_and_fits_a_phone():
    """At least 200 px wide, and never wider than the screen of a 390 px phone (the CSS the page uses)."""
    css = (ROOT / "static/css/app.css").read_text()
    rule = re.search(r"\.enroll-qr-code svg \{([^}]*)\}", css).group(1)
    assert "min-width: 200px" in rule and "width: min(280px, 70vw)" in rule and "height: auto" in rule
    assert "overflow-wrap: anywhere" in re.search(r"\.enroll-url code \{([^}]*)\}", css).group(1)
