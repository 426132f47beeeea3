"""A field device whose own sequence goes back below what the hub acknowledged (app data cleared, storage evicted)
is noticed, on SQLite and PostgreSQL: when it reports its last sequence on `status?seq=N` or pushes a batch
reaching below the acknowledgement. Nothing is refused for it; the first sighting stays on the device row
until a supervisor has seen it, and the Devices page says what it means in both languages."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import update

from app.cli_support import write_transaction
from app.extensions import db
from app.node import Device
from sync import service
from tests.support import html
from tests.test_field_package import enrolled
from tests.test_hostile_door import app_config  # noqa: F401 (a kota hub on SQLite and on PostgreSQL)
from tests.test_sync_api import API, error_code, push_body, tablet, valid  # noqa: F401




def acked(app, device_id: str, seq: int) -> None:
    """The hub has acknowledged the device's changes up to `seq`."""
    with app.app_context(), write_transaction() as session:
        session.execute(update(Device).where(Device.id == uuid.UUID(device_id)).values(acked_seq=seq))


def row(app, device_id: str) -> Device:
    with app.app_context():
        device = db.session.get(Device, uuid.UUID(device_id))
        db.session.expunge(device)
        return device


def restart_of(app, device_id: str) -> tuple:
    device = row(app, device_id)
    return (device.restart_seen_at is not None, device.restart_seq, device.restart_acked_seq)


@pytest.mark.parametrize(("case", "role", "acked_seq", "query", "restart"), [
    ("a new device, nothing acknowledged", "field", 0, "?seq=0", False),
    ("at what the hub acknowledged", "field", 5, "?seq=5", False),
    ("ahead: changes not sent yet", "field", 5, "?seq=9", False),
    ("one below", "field", 5, "?seq=4", True),
    ("back to nothing", "field", 5, "?seq=0", True),
    ("no seq reported", "field", 5, "", False),
    ("a lower hub is not asked this", "hub", 5, "?seq=0", False),
])
def test_status_notices_a_sequence_below_the_acknowledgement(app, client, kota_serang, case, role, acked_seq, query,
                                                             restart):
    device = enrolled(app, "tablet-1", role=role)
    acked(app, device.device_id, acked_seq)
    response = client.get(f"{API}/status{query}", headers=device.auth)
    assert response.status_code == 200
    assert response.get_json()["restart"] is restart and response.get_json()["acked_seq"] == acked_seq
    seq = int(query.partition("=")[2]) if restart else None
    assert restart_of(app, device.device_id) == (restart, seq, acked_seq if restart else None)


@pytest.mark.parametrize("query", ["?seq=-1", "?seq=abc", "?seq=1.5", f"?seq={10 ** 30}", "?seq="])
def test_a_bad_seq_is_refused_and_changes_nothing(app, client, tablet, query):
    acked(app, tablet.device_id, 5)
    response = client.get(f"{API}/status{query}", headers=tablet.auth)
    assert (response.status_code, error_code(response)) == (400, "sync.bad_request")
    assert "seq" in response.get_json()["error"]["message"]
    assert restart_of(app, tablet.device_id) == (False, None, None)


def test_the_first_sighting_stays_until_a_supervisor_sees_it(app, client, tablet):
    acked(app, tablet.device_id, 40)
    assert client.get(f"{API}/status?seq=3", headers=tablet.auth).get_json()["restart"] is True
    first = row(app, tablet.device_id)
    for seq in (1, 12, 40, 55):  # counting again, then past the old acknowledgement: still a restart to look at
        answer = client.get(f"{API}/status?seq={seq}", headers=tablet.auth).get_json()
        assert answer["restart"] is True
    assert client.get(f"{API}/status", headers=tablet.auth).get_json()["restart"] is True
    again = row(app, tablet.device_id)
    assert (again.restart_seen_at, again.restart_seq, again.restart_acked_seq) == (first.restart_seen_at, 3, 40)


def test_a_push_reaching_below_the_acknowledgement_is_applied_and_noticed(app, client, tablet, valid):
    acked(app, tablet.device_id, 30)
    assert client.put(f"{API}/photos/{valid.photo_sha}", data=valid.photo, headers=tablet.auth).status_code == 201
    response = client.post(f"{API}/push", json=push_body(valid.entries()), headers=tablet.auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["applied"] == 2 and response.get_json()["acked_seq"] == 30
    assert restart_of(app, tablet.device_id) == (True, 2, 30)
    assert client.get(f"{API}/status", headers=tablet.auth).get_json()["restart"] is True


def test_a_push_from_the_acknowledgement_on_is_not_a_restart(app, client, tablet, valid):
    assert client.put(f"{API}/photos/{valid.photo_sha}", data=valid.photo, headers=tablet.auth).status_code == 201
    body = push_body(valid.entries())
    assert client.post(f"{API}/push", json=body, headers=tablet.auth).status_code == 200
    assert client.post(f"{API}/push", json=body, headers=tablet.auth).status_code == 200  # the answer was lost: again
    empty = client.post(f"{API}/push", json={"after": 2, "up_to": 2, "entries": []}, headers=tablet.auth)
    assert empty.status_code == 200
    assert restart_of(app, tablet.device_id) == (False, None, None)


def test_an_empty_push_below_the_acknowledgement_is_a_restart(app, client, tablet):
    """A device whose log is gone says where it is with nothing to send."""
    acked(app, tablet.device_id, 30)
    response = client.post(f"{API}/push", json={"after": 0, "up_to": 0, "entries": []}, headers=tablet.auth)
    assert response.status_code == 200 and response.get_json()["acked_seq"] == 30
    assert restart_of(app, tablet.device_id) == (True, 0, 30)


def test_resending_what_a_bundle_brought_is_not_a_restart(app, client, tablet, valid, tmp_path):
    """A device whose bundle was imported before it heard back pushes those changes again over HTTP, in batches
    smaller than the bundle: the hub holds them unchanged, so the device is behind, not restarted."""
    second = dataclasses.replace(valid, audit_id=str(uuid.uuid4()), reading_id=str(uuid.uuid4()))
    with app.app_context(), write_transaction() as session:
        service.import_push_bundle(session, valid([*valid.entries(), (3, second.audit_change(3))]),
                                   service.PhotoStore(tmp_path / "photos"), app.config["MAX_CONTENT_LENGTH"],
                                   tmp_path / "return.zip")
    assert row(app, tablet.device_id).acked_seq == 3
    response = client.post(f"{API}/push", json=push_body(valid.entries()), headers=tablet.auth)
    assert response.status_code == 200 and response.get_json()["duplicates"] == 2
    assert restart_of(app, tablet.device_id) == (False, None, None)


def test_an_old_bundle_is_not_a_restart(app, client, tablet, valid, tmp_path):
    """A bundle exported before an HTTP sync overtook it reaches below the acknowledgement on purpose."""
    acked(app, tablet.device_id, 30)
    with app.app_context(), write_transaction() as session:
        service.import_push_bundle(session, valid(), service.PhotoStore(tmp_path / "photos"),
                                   app.config["MAX_CONTENT_LENGTH"], tmp_path / "return.zip")
    assert restart_of(app, tablet.device_id) == (False, None, None)


# --- the Devices page ----------------------------------------------------------------------------------------


@pytest.fixture
def budi(auth, supervisor):
    auth.login(supervisor)
    return auth


@pytest.mark.parametrize(("locale", "sentence", "badge"), [
    ("en", "This device's sequence went back from #40 to #3: its app data may have been cleared. Changes the hub "
           "has are safe; anything not yet sent from the device may be lost.", "sequence went back"),
    ("id", "Urutan perangkat ini mundur dari #40 ke #3: data aplikasinya mungkin telah terhapus. Perubahan yang "
           "sudah ada di hub aman; apa pun yang belum dikirim dari perangkat mungkin hilang.", "urutan mundur"),
])
def test_the_devices_page_warns_about_a_restarted_device(app, client, tablet, budi, locale, sentence, badge):
    other = enrolled(app, "tablet-2")
    acked(app, tablet.device_id, 40)
    acked(app, other.device_id, 40)
    assert client.get(f"{API}/status?seq=3", headers=tablet.auth).status_code == 200
    assert client.get(f"{API}/status?seq=40", headers=other.auth).status_code == 200
    budi.post("/language", {"locale": locale, "next": "/devices/"})
    page = html(client.get("/devices/"))
    rows = {r.find("th").get_text(" ", strip=True).split()[0]: r for r in page.select("tbody tr")}
    warned = rows["tablet-1"]
    assert warned.select_one("[data-restart]").get_text(strip=True) == badge
    assert warned.select_one("[data-restart]")["data-restart"] == "3" and "warn" in warned.select_one("[data-restart]")["class"]
    assert warned.select_one(".device-restart").get_text(" ", strip=True).startswith(sentence)
    assert rows["tablet-2"].select_one("[data-restart]") is None and rows["tablet-2"].select_one(".device-restart") is None


def test_a_supervisor_clears_the_warning_once_seen_and_the_audit_log_says_so(app, client, tablet, budi):
    from sqlalchemy import select

    from app.auditlog import AuditLogEntry

    acked(app, tablet.device_id, 40)
    assert client.get(f"{API}/status?seq=3", headers=tablet.auth).get_json()["restart"] is True
    response = budi.post(f"/devices/{tablet.device_id}/restart-seen")
    assert response.status_code == 302
    assert restart_of(app, tablet.device_id) == (False, None, None)
    assert html(client.get("/devices/")).select_one("[data-restart]") is None
    with app.app_context():
        entry = db.session.execute(select(AuditLogEntry).where(AuditLogEntry.action == "restart_seen")).scalar_one()
        assert entry.entity_id == tablet.device_id and entry.changes["restart_seq"] == [3, None]
    assert client.get(f"{API}/status", headers=tablet.auth).get_json()["restart"] is False
    assert client.get(f"{API}/status?seq=5", headers=tablet.auth).get_json()["restart"] is True  # seen again


def test_an_auditor_cannot_clear_the_warning(app, client, tablet, auth, auditor):
    acked(app, tablet.device_id, 40)
    client.get(f"{API}/status?seq=3", headers=tablet.auth)
    auth.login(auditor)
    assert auth.post(f"/devices/{tablet.device_id}/restart-seen").status_code == 403
    assert restart_of(app, tablet.device_id) == (True, 3, 40)
