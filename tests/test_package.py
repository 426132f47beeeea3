"""The packaged desktop app (PyInstaller one-folder build, pantau-kla.spec): built once, run headless and windowed."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import uuid
from urllib.request import urlopen

import pytest

from tests import xdisplay
from tests.support import ROOT, require
from tests.test_durability import Browser

# The first test also builds the app (about a minute on a quiet machine, PySide6 and WebEngine included):
# pytest-timeout counts fixture setup, so these get more than the suite's 300 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
SCREENSHOTS = ROOT / "tests" / "screenshots"


@pytest.fixture(scope="session")
def packaged(tmp_path_factory):
    """Build the one-folder app once per session, as `make package` does, into a temporary folder."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        PyInstaller = None
    require(PyInstaller is not None, "PyInstaller is not installed (pip install -r requirements-package.txt)")
    require(xdisplay.qt_webengine_installed(), "pywebview and Qt WebEngine are not installed")
    require((ROOT / "static/vendor/htmx/htmx.min.js").exists(), "static/vendor is missing: run make setup")
    out = tmp_path_factory.mktemp("package")
    built = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                            "--distpath", str(out / "dist"), "--workpath", str(out / "build"),
                            str(ROOT / "pantau-kla.spec")], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert built.returncode == 0, f"PyInstaller failed:\n{built.stderr[-3000:]}"
    program = out / "dist" / "pantau-kla" / "pantau-kla"
    assert program.is_file()
    return program


def test_the_bundle_holds_assets_translations_checklists_and_migrations(packaged):
    inside = packaged.parent / "_internal"
    for needed in ("static/vendor/htmx/htmx.min.js", "static/vendor/leaflet/leaflet.js", "static/js/audit.js",
                   "templates/base.html", "translations/id/LC_MESSAGES/messages.mo", "survey/checklists/rbra-v1.yaml", "indicators/kla-2022.yaml",
                   "migrations/env.py", "migrations/alembic.ini"):
        assert (inside / needed).is_file(), needed
    assert sorted(p.name for p in (inside / "migrations/versions").glob("*.py")) == sorted(
        p.name for p in (ROOT / "migrations/versions").glob("*.py"))
    assert not (inside / "geopandas").exists() and not (inside / "pytest").exists()  # hub and test tools stay out


def test_the_built_app_serves_headless_migrates_and_stops_cleanly(packaged, tmp_path):
    env = {"PANTAU_INSTANCE_PATH": str(tmp_path), "PANTAU_DEMO": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    process = subprocess.Popen([str(packaged), "--serve-only"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        with urlopen(url + "/login", timeout=10) as response:
            page = response.read().decode()
        assert "<title>Masuk · Pantau KLA</title>" in page  # Indonesian: the compiled catalogue is inside
        with urlopen(url + "/static/vendor/leaflet/leaflet.js", timeout=10) as response:
            assert response.status == 200
        # A signed-in auditor gets the shipped checklists for a facility.
        with sqlite3.connect(tmp_path / "pantau.db") as conn:
            facility = conn.execute("SELECT id FROM facility WHERE name = 'Taman Bermain RW 01'").fetchone()[0]
        browser = Browser(url)
        assert browser.post("/login", {"username": "auditor", "password": "demo"}) == 200
        start = browser.get(f"/facilities/{uuid.UUID(hex=facility)}/audits/new")
        assert 'value="rbra@1"' in start
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    with sqlite3.connect(tmp_path / "pantau.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        heads = {p.stem for p in (ROOT / "migrations/versions").glob("*.py")}
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == max(heads)
    wal = tmp_path / "pantau.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_the_built_app_opens_its_window(packaged, tmp_path):
    require(xdisplay.available(), "Xvfb and xdotool are not installed (apt-get install xvfb xdotool)")
    screen = xdisplay.Xvfb().start()
    try:
        app = xdisplay.Desktop(tmp_path, screen, command=[str(packaged)]).start()
        image = screen.screenshot(SCREENSHOTS / "desktop-package-login-xvfb.png")
        assert xdisplay.header_blue_share(image) > 0.03
        assert app.close() == 0
    finally:
        screen.stop()
    assert "checkpoint busy=0" in app.log()
