"""Two app processes on 127.0.0.1: a device and a hub. Sync over HTTP, by bundle file, and a returned audit."""

from __future__ import annotations

import pytest

from tests.browser.test_audit_flow import GEO, answer_everything, submit
from tests.support import ServerProcess, make_jpeg
from tests.test_sync_e2e import flask, prepared_hub

@pytest.fixture
def pair(tmp_path):
    """A hub with Kota Serang, auditor siti and supervisor budi; a device enrolled with it and pulled."""
    yield from hub_and_device(tmp_path)


def hub_and_device(tmp_path, *device_commands):
    """Start a hub and an enrolled, pulled device (after `flask` commands run on the device); stop both after."""
    hub = prepared_hub(tmp_path / "hub", supervisor=True)
    hub.start()
    device = ServerProcess(tmp_path / "device", demo=False)
    device.instance.mkdir()
    device.init()
    code = flask(hub, "sync", "register", "tablet-1", "--kecamatan", "36.73.01").split()[1]
    flask(device, "sync", "enroll", "--hub", hub.url, "--code", code)
    flask(device, "sync", "pull")
    for command in device_commands:
        flask(device, *command)
    device.start()
    yield hub, device
    device.stop()
    hub.stop()


def audit_ktr(tab, photo) -> str:
    tab.login("siti", "kata-sandi-siti")
    tab.goto("/facilities/?q=Puskesmas")
    tab.page.locator("#results .row-link").first.click()
    tab.page.click("a.start-audit")
    tab.page.uncheck("input[value='sra@1'], input[value='prap@1']") if tab.page.locator("input[value='prap@1']").count() else None
    tab.page.click("button[type=submit].btn.block")
    tab.page.wait_for_selector("#position .pos-line")
    answer_everything(tab, photo)
    submit(tab)
    return tab.page.url.rsplit("/", 1)[1]


def approve_on_hub(tab, audit_id: str, decision: str = "approved", comment: str = "") -> None:
    tab.login("budi", "kata-sandi-budi")
    tab.goto("/reviews/")
    assert tab.page.locator(f"a[href='/audits/{audit_id}']").count() == 1
    tab.goto(f"/audits/{audit_id}")
    tab.page.check(f".review-form input[value={decision}]")
    if comment:
        tab.page.fill("#review-comment", comment)
    tab.page.click(".review-form button[type=submit]")
    tab.page.wait_for_load_state("networkidle")


def sync_device(tab) -> None:
    tab.goto("/sync/")
    tab.page.click("[data-sync-now]")
    tab.page.wait_for_load_state("networkidle")
    assert tab.page.locator(".notice.success").count() == 1, tab.page.content()[:2000]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "foto.jpg"
    path.write_bytes(make_jpeg())
    return path


def test_audit_syncs_over_http_and_the_approval_comes_back(pair, tab_factory, photo):
    hub, device = pair
    field = tab_factory(device.url, "tablet", geolocation=GEO, permissions=["geolocation"])
    audit_id = audit_ktr(field, photo)
    assert field.page.locator("[data-sync-state=waiting]").count() == 1
    sync_device(field)
    field.shot("sync-device-after-push-tablet-id")
    office = tab_factory(hub.url, "tablet")
    approve_on_hub(office, audit_id)
    office.shot("sync-hub-review-tablet-id")
    sync_device(field)
    field.goto(f"/audits/{audit_id}")
    assert field.page.locator("[data-sync-state=approved]").count() == 1
    field.shot("sync-device-approved-tablet-id")
    field.assert_clean()
    office.assert_clean()


def test_audit_travels_by_bundle_file(pair, tab_factory, photo, tmp_path):
    hub, device = pair
    field = tab_factory(device.url, "tablet", geolocation=GEO, permissions=["geolocation"], accept_downloads=True)
    audit_id = audit_ktr(field, photo)
    field.goto("/sync/")
    with field.page.expect_download() as download:
        field.page.click("a[href='/sync/export']")
    bundle = tmp_path / "bundle.zip"
    download.value.save_as(bundle)
    office = tab_factory(hub.url, "tablet", accept_downloads=True)
    office.login("budi", "kata-sandi-budi")
    office.goto("/sync/upload")
    office.page.set_input_files("#bundle", str(bundle))
    office.page.click("#upload-form button[type=submit]")
    office.page.wait_for_load_state("networkidle")
    assert office.page.locator(".notice.success").count() == 1, office.page.inner_text("main")
    office.shot("sync-hub-bundle-imported-tablet-id")
    approve_on_hub(office, audit_id)
    office.goto("/sync/upload")  # the same bundle again: nothing new, and a return bundle with the decision
    office.page.set_input_files("#bundle", str(bundle))
    office.page.click("#upload-form button[type=submit]")
    with office.page.expect_download() as download:
        office.page.click("a[href^='/sync/returns/']")
    back = tmp_path / "return.zip"
    download.value.save_as(back)
    field.goto("/sync/upload")
    field.page.set_input_files("#bundle", str(back))
    field.page.click("#upload-form button[type=submit]")
    field.page.wait_for_load_state("networkidle")
    field.goto(f"/audits/{audit_id}")
    assert field.page.locator("[data-sync-state=approved]").count() == 1
    field.assert_clean()
    office.assert_clean()


def test_returned_audit_is_corrected_and_sent_again(pair, tab_factory, photo):
    hub, device = pair
    field = tab_factory(device.url, "tablet", geolocation=GEO, permissions=["geolocation"])
    audit_id = audit_ktr(field, photo)
    sync_device(field)
    office = tab_factory(hub.url, "tablet")
    approve_on_hub(office, audit_id, "returned", "Foto tanda dilarang merokok kurang jelas.")
    sync_device(field)
    field.goto(f"/audits/{audit_id}")
    assert field.page.locator("[data-sync-state=returned]").count() == 1
    assert "kurang jelas" in field.page.locator(".review-comment").inner_text()
    field.shot("sync-device-returned-tablet-id")
    field.page.click("text=Buat koreksi")
    field.page.wait_for_load_state("networkidle")
    revision_url = field.page.url
    field.page.locator("#item-tidak_ada_asbak .opt-sebagian").click()
    field.page.wait_for_selector("#fb-tidak_ada_asbak .saved")
    submit(field)
    sync_device(field)
    revision_id = revision_url.rsplit("/", 1)[1]
    office.goto("/reviews/")
    assert office.page.locator(f"a[href='/audits/{revision_id}']").count() == 1
    field.assert_clean()
    office.assert_clean()
