"""A device and a hub, two real processes' databases: enroll, pull, audit, push, review, pull back; and by bundle."""

from __future__ import annotations

import sqlite3

import pytest

from app import create_app
from app.cli import initialise
from app.cli_support import write_transaction
from tests.conftest import Session
from tests.support import ServerProcess, flask_here

pytestmark = pytest.mark.slow
HUB_ENV = {"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": "hub-secret-for-tests-" + "x" * 32, "PANTAU_SECURE_COOKIES": "0"}
KTR = ["tanda_dilarang_merokok", "tidak_ada_yang_merokok", "tidak_ada_ruang_merokok", "tidak_ada_iklan_rokok",
       "tidak_ada_asbak", "tidak_ada_bau_asap", "tidak_ada_puntung"]


def flask(server: ServerProcess, *args, stdin: str | None = None) -> str:
    """`flask ARGS` on this server's installation (run in this process: tests.support.flask_here)."""
    done = flask_here(server.env, *args, stdin=stdin)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def prepared_hub(folder, supervisor: bool = False, publish: bool = True) -> ServerProcess:
    """A kota hub with Kota Serang loaded and auditor siti (supervisor budi when asked), not yet serving."""
    server = ServerProcess(folder, env=HUB_ENV)
    server.instance.mkdir()
    server.init()
    flask(server, "users", "create", "siti", "--role", "auditor", "--kecamatan", "36.73.01", "--password-stdin",
          stdin="kata-sandi-siti\n")
    if supervisor:
        flask(server, "users", "create", "budi", "--role", "supervisor", "--password-stdin", stdin="kata-sandi-budi\n")
    if publish:
        flask(server, "sync", "publish")
    return server


@pytest.fixture
def hub(tmp_path):
    """A kota hub with Kota Serang loaded, an auditor, published state, serving HTTP."""
    server = prepared_hub(tmp_path / "hub")
    server.start()
    yield server
    server.stop()


def hub_app(hub: ServerProcess):
    """The hub's database opened in this process, for reviews and checks."""
    return create_app({"INSTANCE_PATH": str(hub.instance), "ROLE": "hub", "SECRET_KEY": "hub-secret-for-tests-" + "x" * 32,
                       "TESTING": True})


@pytest.fixture
def device(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "device"), "TESTING": True})
    with app.app_context():
        initialise(seed_demo=False)
    return app


def enrol(hub, device) -> None:
    code = flask(hub, "sync", "register", "tablet-1", "--kecamatan", "36.73.01").split()[1]
    from sync import run

    with device.app_context():
        run.enroll(hub.url, code)
        run.pull()


def audit_on_device(device) -> str:
    """Siti, signed in on the device with the account pulled from the hub, submits a KTR audit."""
    browser = Session(device.test_client())
    assert browser.login("siti", "kata-sandi-siti").status_code == 302
    page = browser.client.get("/facilities/?q=Puskesmas").get_data(as_text=True)
    facility = page.split('href="/facilities/', 2)[2].split('"', 1)[0]
    started = browser.post(f"/facilities/{facility}/audits/new", {"checklist": "ktr@1"})
    audit_id = started.headers["Location"].rsplit("/", 1)[1]
    for item in KTR:
        browser.post(f"/audits/{audit_id}/answers/{item}", {"value": "ya"})
    browser.post(f"/audits/{audit_id}/position", {"lat": "-6.112", "lon": "106.164", "accuracy": "7", "source": "gps"})
    assert browser.post(f"/audits/{audit_id}/submit").status_code == 302
    return audit_id


def hub_rows(hub, sql, *args):
    with sqlite3.connect(hub.instance / "pantau.db") as conn:
        return conn.execute(sql, args).fetchall()


def review(hub, audit_id: str, decision: str, comment: str = "") -> None:
    import uuid

    from survey.audits.models import Audit
    from sync.reviews import decide

    app = hub_app(hub)
    with app.app_context(), write_transaction() as session:
        decide(session, session.get(Audit, uuid.UUID(audit_id)), decision, comment, "budi")


def device_audit(device, audit_id):
    import uuid

    from app.extensions import db
    from survey.audits.models import Audit

    with device.app_context():
        row = db.session.get(Audit, uuid.UUID(audit_id))
        return row.status, row.review_status, row.review_comment


def test_device_pulls_its_kecamatan_pushes_an_audit_and_gets_the_approval(hub, device):
    enrol(hub, device)
    with device.app_context():
        from sqlalchemy import func, select

        from app.extensions import db
        from survey.facilities.models import Facility

        kecamatan = set(db.session.execute(select(Facility.kecamatan_code)).scalars())
        assert kecamatan == {"36.73.01"}  # only its own kecamatan
        assert db.session.execute(select(func.count()).select_from(Facility)).scalar_one() == 10
    audit_id = audit_on_device(device)
    from sync import run

    with device.app_context():
        first = run.push()
        again = run.push()
    assert first.pushed >= 1 and again.pushed == 0
    rows = hub_rows(hub, "SELECT status, score, result FROM audit")
    assert rows == [("submitted", 1.0, "memenuhi")]
    assert hub_rows(hub, "SELECT count(*) FROM answer")[0][0] == 7
    review(hub, audit_id, "approved")
    with device.app_context():
        run.pull()
    assert device_audit(device, audit_id) == ("submitted", "approved", "")


def test_returned_audit_is_revised_and_sent_again(hub, device):
    enrol(hub, device)
    audit_id = audit_on_device(device)
    from sync import run

    with device.app_context():
        run.push()
    review(hub, audit_id, "returned", "Foto tanda dilarang merokok belum ada.")
    with device.app_context():
        run.pull()
    assert device_audit(device, audit_id)[1:] == ("returned", "Foto tanda dilarang merokok belum ada.")
    browser = Session(device.test_client())
    browser.login("siti", "kata-sandi-siti")
    revision = browser.post(f"/audits/{audit_id}/revise").headers["Location"].rsplit("/", 1)[1]
    browser.post(f"/audits/{revision}/answers/tidak_ada_asbak", {"value": "sebagian"})
    assert browser.post(f"/audits/{revision}/submit").status_code == 302
    with device.app_context():
        run.push()
    rows = hub_rows(hub, "SELECT revision, revision_of IS NOT NULL, status FROM audit ORDER BY revision")
    assert rows == [(1, 0, "submitted"), (2, 1, "submitted")]


def test_the_same_by_bundle_file(hub, device, tmp_path):
    enrol(hub, device)
    audit_id = audit_on_device(device)
    from sync import service
    from sync.run import photo_store

    out = tmp_path / "tablet-1.zip"
    with device.app_context(), write_transaction() as session:
        service.export_bundle(session, out, photo_store())
    hub.stop()  # the office has no network: the file goes by USB
    back = tmp_path / "tablet-1.return.zip"
    for attempt in range(2):  # importing the same bundle twice changes nothing the second time
        output = flask(hub, "sync", "import", str(out), "--return-out", str(back))
        # The audit (the hub published its checklists, so the device had the version it was filled with); then nothing new.
        assert output.startswith("applied 1" if attempt == 0 else "applied 0, already here 1"), output
    assert hub_rows(hub, "SELECT count(*) FROM audit")[0][0] == 1
    review(hub, audit_id, "approved")
    flask(hub, "sync", "import", str(out), "--return-out", str(back))  # a fresh return bundle carries the review
    with device.app_context(), write_transaction() as session:
        service.import_return_bundle(session, back.read_bytes(), photo_store(), 25 * 1024 * 1024)
    assert device_audit(device, audit_id)[1] == "approved"
    with device.app_context(), write_transaction() as session:
        peer = service.peer(session)
        assert peer.pushed_seq > 0


def test_a_new_device_is_set_up_from_its_sign_in_page(hub, device):
    """Nobody can sign in on a new device: its setup page enrolls it, and the accounts arrive."""
    code = flask(hub, "sync", "register", "tablet-1", "--kecamatan", "36.73.01").split()[1]
    browser = Session(device.test_client())
    assert "/setup" in browser.client.get("/login").get_data(as_text=True)
    response = browser.post("/setup", {"hub": hub.url, "code": code.lower()})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert browser.login("siti", "kata-sandi-siti").status_code == 302
    assert browser.client.get("/setup").status_code == 302  # closed for good
    page = browser.client.get("/facilities/").get_data(as_text=True)
    assert "Puskesmas" in page
