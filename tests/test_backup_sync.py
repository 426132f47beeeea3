"""After a restore, sync goes on: a hub restored from last week's backup, a tablet restored onto a new laptop.

Between the backup and the restore the devices kept working and syncing, so each side holds numbers
the other has forgotten: acknowledged pushes, pull cursors, the hub's own reviews. Nothing may be lost
on the hub, nothing duplicated, and no later change may be refused as a reused number.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import create_app
from app.cli import initialise
from app.extensions import db
from tests.test_sync_e2e import audit_on_device, device_audit, enrol, flask, hub_app, prepared_hub, review

pytestmark = pytest.mark.slow


@pytest.fixture
def hub(tmp_path):
    server = prepared_hub(tmp_path / "hub", supervisor=True)
    server.start()
    yield server
    server.stop()


def field_app(folder):
    return create_app({"INSTANCE_PATH": str(folder), "TESTING": True})


def hub_audits(hub) -> dict[str, int]:
    """How many times the hub holds each audit id."""
    from survey.audits.models import Audit

    app = hub_app(hub)
    with app.app_context():
        rows = db.session.execute(select(Audit.id, func.count()).group_by(Audit.id)).all()
        db.session.remove()
    return {str(audit_id): count for audit_id, count in rows}


def sync_now(device):
    from sync import run

    with device.app_context():
        return run.now()


def test_a_hub_restored_from_an_older_backup_syncs_on_without_loss_or_duplicates(hub, tmp_path):
    device = field_app(tmp_path / "tablet")
    with device.app_context():
        initialise(seed_demo=False)
    enrol(hub, device)
    before = audit_on_device(device)
    sync_now(device)
    flask(hub, "backup", str(tmp_path / "hub.zip"))

    # After the backup: a pushed audit and a review the tablet pulled; then the hub's disk dies.
    lost = audit_on_device(device)
    sync_now(device)
    review(hub, before, "approved")
    sync_now(device)
    assert device_audit(device, before)[1] == "approved"
    hub.stop()
    flask(hub, "restore", "--replace", str(tmp_path / "hub.zip"))
    hub.start()
    assert set(hub_audits(hub)) == {before}  # the hub forgot the later audit and its review

    after = audit_on_device(device)
    sync_now(device)  # the hub asks again from what it still acknowledges: the forgotten audit comes back
    assert hub_audits(hub) == {before: 1, lost: 1, after: 1}
    # The restored hub's new decisions are numbered past those the tablet already holds: none is refused.
    review(hub, after, "returned", "Foto papan larangan merokok kurang jelas")
    review(hub, before, "approved")
    summary = sync_now(device)
    assert summary.applied >= 2
    assert device_audit(device, after)[1:] == ("returned", "Foto papan larangan merokok kurang jelas")
    sync_now(device)
    assert hub_audits(hub) == {before: 1, lost: 1, after: 1}


def laptop_backed_up(hub, tmp_path):
    """An enrolled laptop that sent one audit, then saved its backup to a USB stick: (laptop, audit, backup file)."""
    old = field_app(tmp_path / "old-laptop")
    with old.app_context():
        initialise(seed_demo=False)
    enrol(hub, old)
    first = audit_on_device(old)
    sync_now(old)
    stick = tmp_path / "usb"
    stick.mkdir()
    made = old.test_cli_runner().invoke(args=["backup", str(stick)])
    assert made.exit_code == 0, made.output
    return old, first, next(stick.glob("pantau-kla-field-*.zip"))


def test_a_tablet_backed_up_to_a_usb_stick_and_restored_on_a_new_laptop_syncs_on(hub, tmp_path):
    old, first, backup = laptop_backed_up(hub, tmp_path)
    second = audit_on_device(old)  # made and sent after the backup, then the laptop is stolen
    sync_now(old)

    new = field_app(tmp_path / "new-laptop")
    restored = new.test_cli_runner().invoke(args=["restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    with new.app_context():
        from app.node import self_device_id

        with old.app_context():
            identity = self_device_id(db.session)
        assert self_device_id(db.session) == identity  # the same device, with its token and key
    third = audit_on_device(new)
    sync_now(new)
    sync_now(new)
    assert hub_audits(hub) == {first: 1, second: 1, third: 1}
    # Numbered past the stolen laptop's changes: the hub took it as new, not as a reused number.
    from sync.models import SyncChange
    from sync.outbox import RESTORE_GAP

    with hub_app(hub).app_context():
        numbers = dict(db.session.execute(select(SyncChange.entity_id, SyncChange.origin_seq).where(
            SyncChange.kind == "audit", SyncChange.entity_id.in_([first, second, third]))).all())
        db.session.remove()
    assert numbers[third] > RESTORE_GAP > numbers[second] > numbers[first]


def audit_with_photo(device) -> tuple[str, str]:
    """Siti's KTR audit with a photo of the no-smoking sign; its id and the photo's SHA-256."""
    import hashlib
    import io

    from tests.conftest import Session
    from tests.support import make_jpeg
    from tests.test_sync_e2e import KTR

    browser = Session(device.test_client())
    assert browser.login("siti", "kata-sandi-siti").status_code == 302
    page = browser.client.get("/facilities/?q=Puskesmas").get_data(as_text=True)
    facility = page.split('href="/facilities/', 2)[2].split('"', 1)[0]
    audit_id = browser.post(f"/facilities/{facility}/audits/new", {"checklist": "ktr@1"}).headers["Location"].rsplit("/", 1)[1]
    for item in KTR:
        browser.post(f"/audits/{audit_id}/answers/{item}", {"value": "ya"})
    jpeg = make_jpeg(color=(200, 30, 30))
    added = browser.post(f"/audits/{audit_id}/photos/{KTR[0]}", {"photo": (io.BytesIO(jpeg), "tanda.jpg", "image/jpeg")},
                         headers={"HX-Request": "true"}, content_type="multipart/form-data")
    assert added.status_code == 200, added.get_data(as_text=True)[:300]
    browser.post(f"/audits/{audit_id}/position", {"lat": "-6.112", "lon": "106.164", "accuracy": "7", "source": "gps"})
    assert browser.post(f"/audits/{audit_id}/submit").status_code == 302
    return audit_id, hashlib.sha256(jpeg).hexdigest()


def test_a_restored_laptop_takes_back_its_later_audits_with_photos_and_their_review(hub, tmp_path):
    from sync import run
    from sync.models import SyncState
    from sync.outbox import LOST_KEY
    from tests.test_sync_e2e import KTR

    old, first, backup = laptop_backed_up(hub, tmp_path)
    second, photo = audit_with_photo(old)  # after the backup: on the hub only, once the laptop is gone
    sync_now(old)
    review(hub, second, "returned", "Foto kurang jelas.")

    new = field_app(tmp_path / "new-laptop")
    assert new.test_cli_runner().invoke(args=["restore", str(backup)]).exit_code == 0
    with new.app_context():
        assert db.session.get(SyncState, LOST_KEY) is not None
        db.session.remove()
    summary = sync_now(new)
    assert summary.recovered >= 1 and summary.photos == 1
    # Back with its photo and the supervisor's decision, which the laptop could not have shown without it.
    assert device_audit(new, second)[1:] == ("returned", "Foto kurang jelas.")
    with new.app_context():
        assert run.photo_store().exists(photo)
        assert db.session.get(SyncState, LOST_KEY) is None  # asked once; the next syncs do not ask again
        db.session.remove()
    assert sync_now(new).recovered == 0

    # The auditor corrects it on the new laptop and sends it: one revision on the hub, nothing twice.
    from tests.conftest import Session

    browser = Session(new.test_client())
    browser.login("siti", "kata-sandi-siti")
    revision = browser.post(f"/audits/{second}/revise").headers["Location"].rsplit("/", 1)[1]
    browser.post(f"/audits/{revision}/answers/{KTR[1]}", {"value": "sebagian"})
    assert browser.post(f"/audits/{revision}/submit").status_code == 302
    sync_now(new)
    assert hub_audits(hub) == {first: 1, second: 1, revision: 1}


def test_a_hub_gives_a_device_back_only_its_own_changes_and_photos(hub, tmp_path):
    """The door of the restore path: another device's changes and photos are never given out."""
    from sync.client import Hub
    from sync.problems import SyncError

    devices = []
    for name in ("laptop-a", "laptop-b"):
        device = field_app(tmp_path / name)
        with device.app_context():
            initialise(seed_demo=False)
        enrol(hub, device)
        devices.append(device)
    mine, photo = audit_with_photo(devices[0])
    sync_now(devices[0])

    def hub_for(device):
        from sync import service

        with device.app_context():
            peer = service.peer(db.session)
            found = Hub(peer.url, peer.token)
            db.session.remove()
        return found

    own = hub_for(devices[0]).call("GET", "/api/v1/sync/own?after=0")
    assert mine in {entry["change"]["entity_id"] for entry in own["entries"]}
    assert hub_for(devices[0]).fetch(f"/api/v1/sync/photos/{photo}")[:2] == b"\xff\xd8"
    other = hub_for(devices[1])
    assert other.call("GET", "/api/v1/sync/own?after=0")["entries"] == []
    with pytest.raises(SyncError) as refused:
        other.fetch(f"/api/v1/sync/photos/{photo}")
    assert refused.value.code == "sync.photo_unknown"


def test_a_hub_that_cannot_give_back_leaves_sync_going_and_says_so(hub, tmp_path, monkeypatch):
    """A hub of an older version has no `own` request: the restored device syncs on and tells its user once."""
    from sync import service
    from sync.client import Hub
    from sync.problems import SyncError

    device = field_app(tmp_path / "laptop")
    with device.app_context():
        initialise(seed_demo=False)
    enrol(hub, device)
    with device.app_context():
        from app.cli_support import write_transaction
        from sync.outbox import skip_ahead

        with write_transaction() as session:
            skip_ahead(session)  # as a restore leaves it
    real = Hub.call

    def older_hub(self, method, path, *args, **kwargs):
        if path.startswith("/api/v1/sync/own"):
            raise SyncError("request.not_found", "This page does not exist.", status=404)
        return real(self, method, path, *args, **kwargs)

    monkeypatch.setattr(Hub, "call", older_hub)
    summary = sync_now(device)
    assert summary.recovered == 0 and any("older version" in note for note in summary.notes)
    with device.app_context():
        assert service.lost_window(db.session) is None
        db.session.remove()
    assert sync_now(device).notes == []  # said once
