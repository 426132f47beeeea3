"""Return and correct, by visible labels (issue #12): the supervisor returns an audit on the hub, the auditor
finds it on the start page with the comment, corrects it, submits, and the returned badge is gone."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Session
from tests.support import ServerProcess
from tests.test_audits import fill_ktr, position, start

SECRET = "review-return-" + "k" * 32
COMMENT = "Foto tanda dilarang merokok kurang jelas, ambil ulang dari dekat."


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A demo hub where the demo auditor has submitted one KTR audit of Taman Bermain RW 01."""
    server = ServerProcess(tmp_path_factory.mktemp("review-hub"),
                           env={"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": SECRET, "PANTAU_SECURE_COOKIES": "0"})
    server.init()
    _submit_one_audit(server)
    server.start()
    yield server
    server.stop()


def _submit_one_audit(server: ServerProcess) -> None:
    """Made through the pages with a test client on the hub's database, before the server starts."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from survey.facilities.models import Facility

    app = create_app({"INSTANCE_PATH": str(server.instance), "ROLE": "hub", "DEMO": True, "TESTING": True,
                      "SECRET_KEY": SECRET, "SECURE_COOKIES": False})
    with app.app_context():
        facility_id = str(db.session.execute(select(Facility.id).where(Facility.name == "Taman Bermain RW 01",
                                                                        Facility.kecamatan_code == "36.73.01")).scalar_one())
    auditor = Session(app.test_client())
    auditor.login("auditor", "demo")
    audit_id = start(auditor, facility_id, "ktr@1")
    fill_ktr(auditor, audit_id, {"tidak_ada_asbak": "sebagian"})
    position(auditor, audit_id)
    assert auditor.post(f"/audits/{audit_id}/submit").status_code == 302
    with app.app_context():
        db.engine.dispose()


def test_return_reaches_the_auditor_who_corrects_and_the_badge_goes(hub, tab_factory):
    office = tab_factory(hub.url, "tablet")
    office.login("supervisor")
    office.page.get_by_role("link", name="Tinjauan").click()
    waiting = office.page.get_by_role("link", name=re.compile("Perlu ditinjau"))
    assert waiting.get_attribute("aria-current") == "true" and waiting.inner_text().endswith("1")
    office.page.get_by_role("link", name=re.compile("Taman Bermain RW 01.*Kawasan Tanpa Rokok", re.S)).click()
    # Nothing is chosen for the supervisor; returning without a comment is refused beside the comment field.
    assert not office.page.get_by_label("Kembalikan untuk dikoreksi").is_checked()
    office.page.get_by_label("Kembalikan untuk dikoreksi").check()
    office.page.get_by_role("button", name="Simpan keputusan").click()
    office.page.wait_for_load_state("networkidle")
    comment = office.page.get_by_label("Komentar (wajib jika dikembalikan atau ditolak)")
    assert comment.get_attribute("aria-invalid") == "true"
    assert "wajib diberi komentar" in office.page.get_by_role("alert").inner_text()
    assert office.page.get_by_label("Kembalikan untuk dikoreksi").is_checked()  # the choice is kept
    # The refusal is a 422 page, which Chromium logs as a failed load: expected here, and only this one.
    assert [e for e in office.errors if "422" not in e] == []
    office.errors.clear()
    comment.fill(COMMENT)
    office.page.get_by_role("button", name="Simpan keputusan").click()
    office.page.wait_for_load_state("networkidle")
    assert office.page.get_by_text("Keputusan disimpan").is_visible()

    field = tab_factory(hub.url, "phone")
    field.login("auditor")
    returned = field.page.get_by_role("region", name=re.compile("Dikembalikan untuk dikoreksi"))
    assert COMMENT in returned.inner_text()
    field.shot("review-return-auditor-home-phone-id")
    returned.get_by_role("button", name="Buat koreksi").click()
    field.page.wait_for_load_state("networkidle")
    assert COMMENT in field.page.get_by_role("region", name=re.compile("Mengoreksi revisi 1")).inner_text()
    field.page.get_by_role("link", name="Periksa & kirim").click()
    field.page.get_by_role("button", name="Kirim audit").click()
    field.page.wait_for_load_state("networkidle")
    field.page.get_by_role("link", name="Fasilitas").click()
    field.page.wait_for_load_state("networkidle")
    assert field.page.get_by_role("region", name=re.compile("Dikembalikan untuk dikoreksi")).count() == 0
    assert field.page.get_by_text("Dikembalikan", exact=True).count() == 0

    office.page.get_by_role("link", name="Tinjauan").click()
    assert office.page.get_by_role("link", name=re.compile("Dikembalikan")).inner_text().endswith("0")
    assert office.page.get_by_role("link", name=re.compile("Perlu ditinjau")).inner_text().endswith("1")  # the correction
    office.assert_clean()
    field.assert_clean()
