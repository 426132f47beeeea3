"""A killed app loses nothing it committed: SIGKILL the real server and start it again."""

from __future__ import annotations

import re
import sqlite3
from http.cookiejar import CookieJar
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener

import pytest

from tests.support import ServerProcess

pytestmark = pytest.mark.slow


class Browser:
    """A cookie-keeping HTTP client that posts forms with their CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.read().decode()

    def post(self, path: str, data: dict) -> int:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get("/login")).group(1)
        body = urlencode({**data, "csrf_token": token}, doseq=True).encode()
        with self.opener.open(self.base + path, data=body, timeout=10) as response:
            return response.status


def test_sigkill_loses_nothing_committed(tmp_path):
    server = ServerProcess(tmp_path)
    server.init()
    server.start()
    try:
        browser = Browser(server.url)
        browser.post("/login", {"username": "supervisor", "password": "demo"})
        names = [f"Taman Uji Ketahanan {n}" for n in range(12)]
        for index, name in enumerate(names):
            browser.post("/facilities/new", {"kind": "ruang_bermain", "name": name, "kecamatan_code": "36.73.06",
                                             "lat": f"{-6.13 - index * 0.002:.4f}", "lon": "106.11"})
        server.kill()  # straight after the last response: no shutdown, no checkpoint
        server.start()
        page = Browser(server.url)
        page.post("/login", {"username": "supervisor", "password": "demo"})
        listed = page.get("/facilities/?q=Uji+Ketahanan")
        assert all(name in listed for name in names)
    finally:
        server.stop()
    with sqlite3.connect(tmp_path / "pantau.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = conn.execute("SELECT count(*) FROM facility WHERE name LIKE 'Taman Uji Ketahanan %'").fetchone()[0]
        logged = conn.execute("SELECT count(*) FROM audit_log WHERE entity = 'facility' AND action = 'create'").fetchone()[0]
    assert stored == len(names) and logged == len(names)  # nothing lost, nothing doubled
