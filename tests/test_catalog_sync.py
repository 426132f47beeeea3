"""A checklist goes from a hub's catalog to a device with no command line: upload, publish, sync, audit; retire,
sync, and the device starts no new audit with it while its draft keeps working."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import select

from app.cli_support import write_transaction
from survey import registry
from survey.catalog.models import ChecklistRelease
from survey.facilities.models import Facility
from tests.conftest import Session
from tests.support import html
from tests.test_checklists_cli import SURVEY, write_form
from tests.test_sync_e2e import device, enrol, flask, hub_app, prepared_hub  # noqa: F401  (device is a fixture)

pytestmark = pytest.mark.slow
KEY = "audit_taman@1"


@pytest.fixture
def hub(tmp_path):
    """A kota hub with an auditor and an admin, serving HTTP."""
    server = prepared_hub(tmp_path / "hub")
    flask(server, "users", "create", "adi", "--role", "admin", "--password-stdin", stdin="kata-sandi-adi\n")
    server.start()
    yield server
    server.stop()


def admin_on_hub(hub) -> Session:
    """Adi in a browser on the hub (the hub's database, opened in this process)."""
    browser = Session(hub_app(hub).test_client())
    assert browser.login("adi", "kata-sandi-adi").status_code == 302
    return browser


def play_spaces(device) -> list[str]:
    """Two play spaces of the device's kecamatan."""
    with device.app_context(), write_transaction() as session:
        found = session.execute(select(Facility.id).where(Facility.kind == "ruang_bermain",
                                                          Facility.kecamatan_code == "36.73.01")
                                .order_by(Facility.name).limit(2)).scalars().all()
    assert len(found) == 2
    return [str(f) for f in found]


def offered(device) -> set[str]:
    with device.app_context(), write_transaction() as session:
        return {c.key for c in registry.newest_for_kind("ruang_bermain", session)}


def test_published_checklist_reaches_a_device_and_retiring_it_stops_new_audits(hub, device, tmp_path):
    admin = admin_on_hub(hub)
    workbook = write_form(tmp_path, "audit_taman.xlsx", SURVEY)
    uploaded = admin.post("/checklists/upload", {"form": (io.BytesIO(workbook.read_bytes()), workbook.name),
                                                 "kinds": ["ruang_bermain"]}, content_type="multipart/form-data")
    assert uploaded.status_code == 303
    enrol(hub, device)
    assert KEY not in offered(device)  # a draft stays on the hub
    assert admin.post(f"/checklists/{KEY}/publish").status_code == 303

    from sync import run

    with device.app_context():
        run.pull()
    assert KEY in offered(device)
    first, second = play_spaces(device)
    auditor = Session(device.test_client())
    assert auditor.login("siti", "kata-sandi-siti").status_code == 302
    started = auditor.post(f"/facilities/{first}/audits/new", {"checklist": KEY})
    assert started.status_code == 302, started.get_data(as_text=True)
    audit_id = started.headers["Location"].rsplit("/", 1)[1]
    assert auditor.post(f"/audits/{audit_id}/answers/pagar", {"value": "ya"}).status_code == 200

    held = html(admin.client.get(f"/checklists/{KEY}/")).select_one("[data-holders]").get_text(" ", strip=True)
    assert "tablet-1" not in held  # the pull that brought it is acknowledged by the next one
    with device.app_context():
        run.pull()
    held = html(admin.client.get(f"/checklists/{KEY}/")).select_one("[data-holders]").get_text(" ", strip=True)
    assert "tablet-1" in held  # a pull after the one that brought the version: the hub knows the device holds it

    assert admin.post(f"/checklists/{KEY}/retire").status_code == 303
    with device.app_context():
        run.pull()
    with device.app_context(), write_transaction() as session:
        assert session.get(ChecklistRelease, KEY).state == "retired"
    assert KEY not in offered(device)
    refused = auditor.post(f"/facilities/{second}/audits/new", {"checklist": KEY})
    assert refused.status_code == 422  # the retired version is not offered: nothing to start
    # The draft started before keeps its version.
    assert auditor.client.get(f"/audits/{audit_id}").status_code == 200
    assert auditor.post(f"/audits/{audit_id}/answers/tinggi", {"value": "120"}).status_code == 200
    with device.app_context():
        from survey.audits.models import Audit

        with write_transaction() as session:
            assert session.get(Audit, uuid.UUID(audit_id)).checklist_key == KEY
