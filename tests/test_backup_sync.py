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


def test_a_tablet_backed_up_to_a_usb_stick_and_restored_on_a_new_laptop_syncs_on(hub, tmp_path):
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
    backup = next(stick.glob("pantau-kla-field-*.zip"))
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
