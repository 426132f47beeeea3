"""A new device is never stranded (issue #12): a fresh field device enrolled with a demo hub that nobody ever
ran `flask sync publish` on gets the accounts, regions, facilities and checklists of its kecamatan, and none of
another; a device whose kecamatan has no auditor says so and keeps /setup open until one arrives.

The hub is a real server (`flask init` with PANTAU_DEMO=1, then `flask serve`), on SQLite and on PostgreSQL;
the admin registers the device on the hub's Devices page as in a browser; the device is this process's app,
set up through its own /setup page.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
import requests
from bs4 import BeautifulSoup

from app import create_app
from app.cli import initialise
from tests.conftest import Session
from tests.support import ROOT, ServerProcess, html

pytestmark = pytest.mark.slow
SECRET = "stranded-hub-secret-" + "s" * 32
HUB_ENV = {"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": SECRET, "PANTAU_SECURE_COOKIES": "0"}
SERANG, KASEMEN = "36.73.01", "36.73.02"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo_hub(request, tmp_path_factory):
    """A demo hub as `make run` makes one (flask init with the demo, then serve); never `flask sync publish`."""
    env = dict(HUB_ENV)
    urls = None
    if request.param == "postgresql":
        from tests.support import fresh_postgres_database

        urls = fresh_postgres_database()
        env["DATABASE_URL"] = next(urls)  # the setting reads DATABASE_URL (app/settings.py)
    server = ServerProcess(tmp_path_factory.mktemp(f"hub-{request.param}") / "hub", env=env, demo=True)
    server.instance.mkdir()
    server.init()
    assert (server.instance / "pantau.db").exists() == (request.param == "sqlite")  # the database asked for
    server.start()
    yield server
    server.stop()
    if urls is not None:
        urls.close()


class HubAdmin:
    """The hub's pages, signed in as one person, over HTTP."""

    def __init__(self, hub: ServerProcess, username: str = "admin", password: str = "demo"):
        self.hub, self.web = hub, requests.Session()
        page = self.web.get(f"{hub.url}/login")
        answer = self.web.post(f"{hub.url}/login", data={"csrf_token": _csrf(page.text), "username": username,
                                                         "password": password}, allow_redirects=False)
        assert answer.status_code == 302, answer.text[-500:]

    def register(self, name: str, kecamatan: list[str]) -> tuple[str, BeautifulSoup]:
        """Register a field device on the Devices page; the one-time code it shows, and the page."""
        page = self.web.get(f"{self.hub.url}/devices/")
        answer = self.web.post(f"{self.hub.url}/devices/register",
                               data={"csrf_token": _csrf(page.text), "name": name, "kecamatan": kecamatan, "role": "field"})
        assert answer.status_code == 200, answer.text[-500:]
        found = re.search(r"\b([A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4})\b", answer.text)
        assert found, "the Devices page shows the one-time code"
        return found.group(1), BeautifulSoup(answer.text, "html.parser")

    def create_auditor(self, username: str, password: str, kecamatan: str) -> None:
        """The admin's Users page: a new auditor for one kecamatan."""
        page = self.web.get(f"{self.hub.url}/admin/users/new")
        answer = self.web.post(f"{self.hub.url}/admin/users/new", data={
            "csrf_token": _csrf(page.text), "username": username, "full_name": "Rina Auditor", "role": "auditor",
            "password": password, "confirm": password, "kecamatan": [kecamatan], "active": "y"}, allow_redirects=False)
        assert answer.status_code == 302, answer.text[-800:]


def _csrf(text: str) -> str:
    return BeautifulSoup(text, "html.parser").find("input", {"name": "csrf_token"})["value"]


@pytest.fixture
def fresh_device(tmp_path):
    """A field device straight out of the box: no demo, no accounts, no hub."""
    app = create_app({"INSTANCE_PATH": str(tmp_path / "device"), "TESTING": True, "ROLE": "field", "DEMO": False})
    with app.app_context():
        initialise(seed_demo=False)
    return app


def setup_device(device, hub: ServerProcess, code: str):
    """Enroll through the device's own /setup page, which syncs once; the answer."""
    client = device.test_client()
    page = client.get("/setup")
    assert page.status_code == 200
    return client, client.post("/setup", data={"csrf_token": _csrf(page.get_data(as_text=True)), "hub": hub.url,
                                               "code": code})


def device_holds(device) -> dict:
    """What the device's database holds, by kind."""
    from sqlalchemy import select

    from app.auth.models import User
    from app.extensions import db
    from geo.models import Wilayah
    from survey.audits.models import ChecklistVersion
    from survey.facilities.models import Facility

    with device.app_context():
        return {"users": {u.username: sorted(u.kecamatan_codes) for u in db.session.execute(select(User)).scalars()},
                "regions": set(db.session.execute(select(Wilayah.code)).scalars()),
                "facility_kecamatan": set(db.session.execute(select(Facility.kecamatan_code)).scalars()),
                "facilities": db.session.execute(select(Facility.id)).scalars().all(),
                "checklists": set(db.session.execute(select(ChecklistVersion.key)).scalars())}


def test_a_fresh_device_gets_its_kecamatan_from_a_demo_hub_and_its_auditor_signs_in(demo_hub, fresh_device):
    admin = HubAdmin(demo_hub)
    code, page = admin.register("Tablet Serang", [SERANG])
    assert not page.select("[role=status].warning, p.notice.warning"), "Serang has an auditor: no warning"
    client, answer = setup_device(fresh_device, demo_hub, code)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")

    held = device_holds(fresh_device)
    assert held["users"] == {"auditor": [SERANG]}, "the kecamatan's auditor, with the kecamatan held here"
    assert held["regions"] == {"36", "36.73", SERANG}
    assert held["facility_kecamatan"] == {SERANG} and len(held["facilities"]) == 10
    assert {"ktr@1"} <= held["checklists"]

    login = client.get("/login")
    assert "/setup" not in login.get_data(as_text=True), "the device has an account: no pointer to setup"
    assert client.get("/setup").status_code == 302, "setup closes once someone can sign in"
    browser = Session(fresh_device.test_client())
    assert browser.login("auditor", "demo").status_code == 302
    facilities = browser.client.get("/facilities/").get_data(as_text=True)
    assert "Puskesmas Serang" in facilities and "Puskesmas Kasemen" not in facilities


def test_no_auditor_for_the_kecamatan_is_said_and_setup_stays_open_until_one_arrives(demo_hub, fresh_device):
    admin = HubAdmin(demo_hub)
    code, page = admin.register("Tablet Kasemen", [KASEMEN])
    warning = " ".join(p.get_text(" ", strip=True) for p in page.select("p.notice.warning"))
    assert "Kasemen" in warning and "auditor" in warning, "the hub warns at registration time"

    client, answer = setup_device(fresh_device, demo_hub, code)
    assert answer.headers["Location"].endswith("/setup"), "nobody can sign in: back to setup, not to a locked door"
    setup = html(client.get("/setup"))
    assert setup.select_one(f"[data-missing-kecamatan='{KASEMEN}']") is not None
    assert "Kasemen" in setup.get_text(" ", strip=True)
    login = html(client.get("/login"))
    assert login.find("a", href="/setup") is not None, "the sign-in page points to setup"
    assert "sudah terdaftar" in login.get_text(" ", strip=True), "it says the device is enrolled, not new"
    held = device_holds(fresh_device)
    assert held["users"] == {} and held["facility_kecamatan"] == {KASEMEN}

    admin.create_auditor("rina", "kata-sandi-rina", KASEMEN)
    again = client.post("/setup", data={"csrf_token": _csrf(client.get("/setup").get_data(as_text=True))})
    assert again.status_code == 302 and again.headers["Location"].endswith("/login")
    assert client.get("/setup").status_code == 302
    browser = Session(fresh_device.test_client())
    assert browser.login("rina", "kata-sandi-rina").status_code == 302
    assert "Puskesmas Kasemen" in browser.client.get("/facilities/").get_data(as_text=True)


def test_catching_up_is_cheap_when_nothing_is_new_on_a_10k_facility_hub(tmp_path):
    """The hub publishes what is unpublished before every pull page: on 10 000 facilities, the first time
    publishes them all, after that a look costs a few indexed queries."""
    from app.cli_support import write_transaction
    from survey import registry
    from survey.facilities.models import Facility
    from sync import publish

    app = create_app({"INSTANCE_PATH": str(tmp_path / "big"), "TESTING": True, "ROLE": "hub", "DEMO": True,
                      "SECRET_KEY": SECRET})
    with app.app_context():
        initialise(seed_demo=True)
        with write_transaction() as session:
            session.add_all([Facility(kind="sekolah", name=f"SD Uji {n}", kecamatan_code=SERANG, lat=-6.11, lon=106.16)
                             for n in range(10_000)])
        with write_transaction() as session:
            first = publish.catch_up(session, demo=True, checklists=registry.installed().values())
        assert first["facility"] == 10_060 and first["user"] == 4 and first["wilayah"] == 8
        started = time.perf_counter()
        with write_transaction() as session:
            again = publish.catch_up(session, demo=True, checklists=registry.installed().values())
        elapsed = time.perf_counter() - started
    assert again == {"wilayah": 0, "user": 0, "checklist": 0, "facility": 0}
    print(f"catch-up with nothing new on 10 060 facilities: {elapsed * 1000:.1f} ms")
    assert elapsed < 0.5


def test_flask_sync_publish_is_not_needed_but_still_harmless(tmp_path):
    """The old manual command publishes nothing twice."""
    server = ServerProcess(tmp_path / "hub", env=HUB_ENV, demo=True)
    server.instance.mkdir()
    server.init()
    for expected in ("published", "published 0 wilayah, 0 user, 0 checklist, 0 facility"):
        done = subprocess.run([sys.executable, "-m", "flask", "sync", "publish"], cwd=ROOT, env=server.env,
                              capture_output=True, text=True)
        assert done.returncode == 0 and expected in done.stdout, done.stderr
