"""A photo taken at 10:00 WIB (EXIF without offset) reads 10:00 on the tablet, on the hub and in the evidence report."""

from __future__ import annotations

import io
import zipfile

from tests.browser.test_sync_flow import approve_on_hub, audit_ktr, pair, sync_device  # noqa: F401 (pair: fixture)
from tests.browser.test_audit_flow import GEO
from tests.support import make_jpeg
from tests.test_sync_e2e import flask

TAKEN = "20/11/2026 10.00"  # EXIF 2026:11:20 10:00:00, no OffsetTimeOriginal: read in WIB


def photo_captions(tab) -> list[str]:
    return tab.page.locator("ul.photos .photo-time").all_inner_texts()


def test_exif_time_on_the_tablet_the_hub_and_the_evidence_report(pair, tab_factory, tmp_path):
    hub, device = pair
    flask(hub, "users", "create", "dewi", "--role", "planner", "--password-stdin", stdin="kata-sandi-dewi\n")
    photo = tmp_path / "IMG_20261120_100000.jpg"
    photo.write_bytes(make_jpeg(exif_time="2026:11:20 10:00:00"))
    field = tab_factory(device.url, "phone", geolocation=GEO, permissions=["geolocation"])
    audit_id = audit_ktr(field, photo)
    field.goto(f"/audits/{audit_id}")
    assert photo_captions(field) == [TAKEN]
    sync_device(field)

    office = tab_factory(hub.url, "tablet")
    office.login("budi", "kata-sandi-budi")
    office.goto(f"/audits/{audit_id}")
    assert photo_captions(office) == [TAKEN]  # was 17.00: the hub read the camera's local time as UTC
    alt = office.page.locator("ul.photos img").first.get_attribute("alt")
    assert alt.startswith("Foto 1 dari Foto bukti") and alt.endswith(f"diambil {TAKEN}")
    approve_on_hub(office, audit_id)
    office.assert_clean()

    planner = tab_factory(hub.url, "tablet")
    planner.login("dewi", "kata-sandi-dewi")
    planner.goto("/indicators/36.73/2026/15")
    with planner.page.expect_download() as download:
        planner.page.get_by_role("link", name="Paket bukti (zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    planner.page.set_content(archive.read("report.html").decode())
    caption = planner.page.locator("figure figcaption").first
    assert f"diambil {TAKEN}" in caption.inner_text()
    assert caption.locator("strong").inner_text().startswith("Foto bukti")
    assert planner.page.get_by_text("kla-reference").count() == 0
