"""The stranded device (issue #12), in Chromium, by visible labels: a demo hub that nobody ran `flask sync publish`
on, and a fresh field device for Kecamatan Kasemen, which has no auditor on the hub. The admin registers the device
on the hub's Devices page (warned that no auditor exists there) and reads the code; the device's sign-in page points
to /setup, which enrolls and syncs, says in words that Kasemen has no auditor, and stays open; the admin creates an
auditor on the Users page; the device syncs again from /setup; the auditor signs in and sees Kasemen's facilities.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.browser.conftest import SCREENSHOTS, demo_hub_and_fresh_device
from tests.support import ServerProcess

SHOTS = Path("/work/shots-enroll")


@pytest.fixture(scope="module")
def hub_and_device(tmp_path_factory):
    """A demo hub (flask init with PANTAU_DEMO=1, then serve) and a field device straight out of the box."""
    with demo_hub_and_fresh_device(tmp_path_factory.mktemp("stranded"), "browser-stranded-hub-" + "k" * 32) as pair:
        yield pair


def shot(tab, name: str) -> None:
    """A screenshot in tests/screenshots, copied to the helper's folder when it exists."""
    tab.shot(name)
    if SHOTS.is_dir():
        shutil.copy(SCREENSHOTS / f"{name}.png", SHOTS / f"{name}.png")


def shots_of_setup(tab_factory, device: ServerProcess, state: str) -> None:
    """The device's /setup page at phone and tablet size, in Indonesian and English."""
    for size in ("phone", "tablet"):
        tab = tab_factory(device.url, size)
        tab.goto("/setup")
        shot(tab, f"enroll-setup-{state}-{size}-id")
        tab.set_language("en")
        shot(tab, f"enroll-setup-{state}-{size}-en")
        tab.assert_clean()


def test_a_stranded_device_says_why_and_recovers_once_the_hub_has_an_auditor(hub_and_device, tab_factory):
    hub, device = hub_and_device
    office = tab_factory(hub.url, "tablet")
    office.login("admin")
    office.goto("/devices/")
    page = office.page
    page.get_by_label("Nama", exact=True).fill("Tablet Kasemen 1")
    page.get_by_label("Kasemen (36.73.02)").check()
    page.get_by_role("button", name="Buat kode pendaftaran").click()
    code = page.locator(".enroll-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    warning = page.locator(".notice.warning")
    assert "Kasemen" in warning.inner_text() and "auditor" in warning.inner_text(), "the hub warns at registration"
    shot(office, "enroll-hub-register-warning-tablet-id")

    field = tab_factory(device.url, "tablet")
    field.goto("/login")
    field.page.get_by_role("link", name="Siapkan perangkat ini").click()
    field.page.get_by_label("Alamat hub").fill(hub.url)
    field.page.get_by_label("Kode pendaftaran").fill(code)
    field.page.get_by_role("button", name="Daftarkan").click()
    field.page.wait_for_load_state("networkidle")
    assert field.page.url.endswith("/setup"), "nobody can sign in yet: the device stays on its setup page"
    alert = field.page.get_by_role("alert").filter(has_text="Kasemen")
    assert alert.inner_text() == "Hub belum punya akun auditor untuk Kecamatan Kasemen."
    field.goto("/login")
    assert field.page.get_by_role("link", name="Siapkan perangkat ini").is_visible(), "sign-in points to setup"
    shots_of_setup(tab_factory, device, "no-auditor")

    office.goto("/admin/users/new")
    page.get_by_label("Nama pengguna").fill("rina")
    page.get_by_label("Nama lengkap").fill("Rina Wulandari")
    page.get_by_label("Peran").select_option("auditor")
    page.get_by_label("Kasemen (36.73.02)").check()
    page.get_by_label("Kata sandi", exact=True).fill("kata-sandi-rina")
    page.get_by_label("Ulangi kata sandi").fill("kata-sandi-rina")
    page.get_by_role("button", name="Simpan").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/admin/users")

    field.goto("/setup")
    field.page.get_by_role("button", name="Sinkronkan lagi").click()
    field.page.wait_for_load_state("networkidle")
    assert field.page.url.endswith("/login")
    assert "Masuk dengan akun Anda" in field.page.locator(".notice.success").inner_text()
    shot(field, "enroll-signin-after-sync-tablet-id")
    assert field.page.get_by_role("link", name="Siapkan perangkat ini").count() == 0, "setup has closed"
    shots_of_setup(tab_factory, device, "auditor-arrived")

    field.page.get_by_label("Nama pengguna").fill("rina")
    field.page.get_by_label("Kata sandi").fill("kata-sandi-rina")
    field.page.locator("form.card button[type=submit]").click()
    field.page.wait_for_load_state("networkidle")
    field.goto("/facilities/")
    assert field.page.get_by_text("Puskesmas Kasemen").is_visible()
    assert field.page.get_by_text("Puskesmas Serang").count() == 0, "only the device's kecamatan"
    shot(field, "enroll-auditor-facilities-tablet-id")
    office.assert_clean()
    field.assert_clean()
