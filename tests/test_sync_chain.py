"""Three levels: a device syncs with a kota hub, which syncs up to a provincial hub with the same protocol."""

from __future__ import annotations

import pytest

from tests.support import ServerProcess
from tests.test_sync_e2e import HUB_ENV, audit_on_device, device, enrol, flask, hub, hub_rows, review  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture
def province(tmp_path):
    """An empty provincial hub: it learns regions, users and audits from the kota hub below it."""
    server = ServerProcess(tmp_path / "province", env={**HUB_ENV, "PANTAU_SECRET_KEY": "province-secret-" + "x" * 32}, demo=False)
    server.instance.mkdir()
    server.init()
    server.start()
    yield server
    server.stop()


def test_audit_and_review_travel_device_to_kota_to_province(hub, device, province):
    enrol(hub, device)
    audit_id = audit_on_device(device)
    from sync import run

    with device.app_context():
        run.push()
    review(hub, audit_id, "approved")
    # The province registers the kota hub as a lower hub for the kecamatan of Kota Serang; the kota hub
    # enrolls and pushes what it holds (its own changes and what it received from its devices).
    kecamatan = [arg for code in ("01", "02", "03", "04", "05", "06") for arg in ("--kecamatan", f"36.73.{code}")]
    # Registering needs the kecamatan codes on the province: load Kota Serang's (the demo regions) first.
    flask(province, "init", "--demo")
    code = flask(province, "sync", "register", "Hub Kota Serang", *kecamatan, "--role", "hub").split()[1]
    flask(hub, "sync", "enroll", "--hub", province.url, "--code", code)
    first = flask(hub, "sync", "push")
    again = flask(hub, "sync", "push")
    assert "pushed 0 changes" in again and "pushed 0 changes" not in first
    audits = hub_rows(province, "SELECT revision, status, result, review_status FROM audit")
    assert audits == [(1, "submitted", "memenuhi", "approved")]
    assert hub_rows(province, "SELECT count(*) FROM answer")[0][0] == 7
    origin = hub_rows(province, "SELECT origin_id FROM sync_change WHERE kind = 'audit'")
    device_id = hub_rows(hub, "SELECT origin_id FROM sync_change WHERE kind = 'audit'")
    assert origin == device_id  # the audit keeps the identity of the device that made it, two levels up
