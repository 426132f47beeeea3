"""The desktop launcher in a real Qt WebEngine window under Xvfb: login page, one launch per data folder,
the audit position by map tap and typed coordinates, and a clean shutdown that checkpoints SQLite."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from urllib.request import urlopen

import pytest

from app.desktop import ALREADY_OPEN
from app.desktop.single import SingleInstance
from tests import xdisplay
from tests.support import ROOT, free_port, require

pytestmark = pytest.mark.slow
SCREENSHOTS = ROOT / "tests" / "screenshots"


@pytest.fixture(scope="module")
def display():
    """A virtual X display for the windows of this module."""
    require(xdisplay.available(), "Xvfb and xdotool are not installed (apt-get install xvfb xdotool)")
    require(xdisplay.qt_webengine_installed(), "pywebview and Qt WebEngine are not installed "
            "(pip install -r requirements-gui.txt)")
    screen = xdisplay.Xvfb().start()
    yield screen
    screen.stop()


@pytest.fixture
def desktop_factory(tmp_path, display):
    started = []

    def make(devtools: int | None = None) -> Desktop:
        app = xdisplay.Desktop(tmp_path / f"data{len(started)}", display, devtools)
        started.append(app)
        return app.start()

    yield make
    for app in started:
        app.kill()


def test_the_window_shows_the_login_page_and_a_second_launch_raises_it(desktop_factory, display):
    app = desktop_factory()
    url = app.state["url"]
    assert url.startswith("http://127.0.0.1:") and app.state["pid"] == app.process.pid
    with urlopen(url + "/login", timeout=5) as response:
        assert "Pantau KLA" in response.read().decode()
    image = display.screenshot(SCREENSHOTS / "desktop-login-xvfb.png")
    assert xdisplay.header_blue_share(image) > 0.03, "the window does not show the app's page"

    # Cover the window with another one, then launch again on the same data folder.
    cover = subprocess.Popen(["xmessage", "-geometry", "1280x900+0+0", "another program"], env={**os.environ, **display.env()})
    try:
        display.wait_window("xmessage")
        cover_id = display.windows("xmessage")[0]
        assert display.stacking().index(cover_id) > display.stacking().index(app.window)
        second = app.launch()
        output, _ = second.communicate(timeout=60)
        assert second.returncode == 0, output
        assert ALREADY_OPEN in output and url in output
        deadline = time.monotonic() + 10
        while display.stacking().index(app.window) < display.stacking().index(cover_id):
            assert time.monotonic() < deadline, "the first window was not raised"
            time.sleep(0.1)
        assert int(display.xdotool("getwindowfocus")) in (app.window, *display.windows("Pantau KLA", visible=False))
    finally:
        cover.kill()
        cover.wait()
    assert app.log().count("desktop: serving") == 1  # the second launch started no server
    assert "bringing it forward" in app.log()
    assert app.state["pid"] == app.process.pid

    # SIGTERM (a logout) closes the window the ordinary way: the server stops and the WAL is checkpointed.
    app.process.send_signal(signal.SIGTERM)
    assert app.process.wait(30) == 0
    assert not (app.instance / "desktop.json").exists()
    assert "checkpoint busy=0" in app.log()


def test_the_audit_position_by_map_tap_and_typed_coordinates_then_a_clean_close(desktop_factory, display):
    """Qt WebEngine on Linux has no position here: the page falls back to the map and typed coordinates."""
    port = free_port()
    app = desktop_factory(devtools=port)
    page = xdisplay.DevTools(port)
    try:
        page.wait_for("document.querySelector('#username')")
        page.evaluate("document.querySelector('#username').value = 'auditor';"
                      "document.querySelector('#password').value = 'demo';"
                      "document.querySelector('button[type=submit].btn').click()")
        page.wait_for("!location.pathname.startsWith('/login') && document.readyState === 'complete'")
        page.evaluate("location.href = '/facilities/?kecamatan=36.73.01&q=Taman+Bermain+RW+01'")
        # Signing in lands on the facility list too: wait for the searched one, not the list before it.
        page.wait_for("location.search.includes('q=Taman') && document.readyState === 'complete' && "
                      "document.querySelector('#results .row-link')")
        page.evaluate("document.querySelector('#results .row-link').click()")
        page.wait_for("document.querySelector('a.start-audit')")
        page.evaluate("document.querySelector('a.start-audit').click()")
        page.wait_for("document.querySelector(\"input[value='rbra@1']\")")
        page.evaluate("document.querySelector(\"input[value='ktr@1']\").checked = false;"
                      "document.querySelector('button[type=submit].btn.block').click()")
        # The page asks for a position on opening; Qt denies it when no source has a fix, and the page
        # opens the hand-set panel by itself instead of waiting forever.
        page.wait_for("document.querySelector('[data-manual]') && document.querySelector('[data-manual]').open", timeout=30)
        assert "Atur posisi secara manual" in page.evaluate("document.querySelector('[data-gps-status]').textContent")
        assert "denied" not in page.evaluate("document.querySelector('[data-gps-status]').textContent")
        page.wait_for("document.querySelector('[data-map]')._map && document.querySelector('[data-map] path')")
        audit_path = page.evaluate("location.pathname")

        # Tap the map with the real (X) pointer, where the window shows it; again if the page was still
        # moving (a busy machine lays out late).
        origin = display.xdotool("getwindowgeometry", "--shell", str(app.window))
        geo = dict(line.split("=") for line in origin.splitlines())
        for attempt in range(4):
            page.evaluate("document.querySelector('[data-map]').scrollIntoView({block: 'center', behavior: 'instant'})")
            time.sleep(0.5 + attempt)
            rect = page.evaluate("(() => { const r = document.querySelector('[data-map]').getBoundingClientRect();"
                                 " return [r.left + r.width * 0.55, r.top + r.height * 0.45]; })()")
            display.xdotool("mousemove", str(int(geo["X"]) + int(rect[0])), str(int(geo["Y"]) + int(rect[1])))
            display.xdotool("click", "1")
            try:
                page.wait_for("document.querySelector('[data-manual-form] [name=source]').value === 'map'", timeout=5)
                break
            except TimeoutError:
                if attempt == 3:
                    raise
        tapped = page.evaluate("[...document.querySelectorAll('[data-manual-form] input[name=lat], "
                               "[data-manual-form] input[name=lon]')].map(i => +i.value)")
        assert -6.3 < tapped[0] < -5.9 and 106.0 < tapped[1] < 106.4  # inside Kota Serang
        display.screenshot(SCREENSHOTS / "desktop-audit-map-xvfb.png")
        page.evaluate("document.querySelector('[data-manual-form] button[type=submit]').click()")
        page.wait_for("document.querySelector('#position .pos-line')")
        with sqlite3.connect(app.instance / "pantau.db") as conn:
            rows = conn.execute("SELECT lat, lon, position_source FROM audit").fetchall()
        assert rows == [(pytest.approx(tapped[0]), pytest.approx(tapped[1]), "map")]

        # Typed coordinates (decimal comma, as Indonesian keyboards give it).
        # Mark the old document: until the reloaded one replaces it, the old one is "complete" too.
        page.evaluate("window.beforeReload = true; location.reload()")
        page.wait_for("!window.beforeReload && document.readyState === 'complete' && window.htmx "
                      "&& document.querySelector('[data-manual]')")
        page.evaluate("document.querySelector('[data-manual]').open = true;"
                      "document.querySelector('#manual-lat').value = '-6,1201';"
                      "document.querySelector('#manual-lon').value = '106,1503';"
                      "document.querySelector('[data-manual-form] button[type=submit]').click()")
        deadline = time.monotonic() + 20
        while len(_rows(app, "SELECT id FROM gps_reading")) < 2:
            assert time.monotonic() < deadline, "the typed position was not saved"
            time.sleep(0.2)
        page.wait_for("document.querySelector('#position .pos-line').textContent.includes('106')")
        assert page.evaluate("location.pathname") == audit_path
        display.screenshot(SCREENSHOTS / "desktop-audit-typed-xvfb.png")
    finally:
        page.close()
    readings = _rows(app, "SELECT lat, lon, source FROM gps_reading ORDER BY recorded_at")
    assert [r[2] for r in readings][-2:] == ["map", "manual"]
    assert readings[-1][:2] == (pytest.approx(-6.1201), pytest.approx(106.1503))

    # Close the window: the server stops, the WAL is folded into the database, the lock is free.
    url = app.state["url"]
    assert app.close() == 0
    with pytest.raises(OSError):
        urlopen(url + "/healthz", timeout=2)
    wal = app.instance / "pantau.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert "checkpoint busy=0" in app.log()
    with sqlite3.connect(app.instance / "pantau.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT lat, lon, position_source FROM audit").fetchall() == [
            (pytest.approx(-6.1201), pytest.approx(106.1503), "manual")]
    guard = SingleInstance(app.instance)
    assert guard.acquire()  # the next launch may start
    guard.release()


def _rows(app: xdisplay.Desktop, sql: str):
    with sqlite3.connect(app.instance / "pantau.db") as conn:
        return conn.execute(sql).fetchall()
