"""A new facility's kecamatan against its position: the registration form offers the kecamatan the point lies
in (or says it lies in none), either choice saves; the supervisor's page on the hub shows the mismatch beside
the confirmation. The module runs on a hub, where supervisors confirm field registrations."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey.facilities.models import Facility
from tests.conftest import make_facility, make_user
from tests.support import html

# Demo kecamatan centres (survey.demo.KECAMATAN): each lies inside its own kecamatan.
IN_CIPOCOK = {"lat": "-6.14", "lon": "106.17"}  # 36.73.05 Cipocok Jaya
IN_KASEMEN = {"lat": "-6.06", "lon": "106.19"}  # 36.73.02 Kasemen
NOWHERE = {"lat": "-6.30", "lon": "106.50"}  # in Banten, outside Kota Serang
NEW = {"kind": "ruang_bermain", "name": "Taman Bermain Baru", "kecamatan_code": "36.73.01"}


@pytest.fixture
def app_config(tmp_path):
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "hub", "DEMO": False,
            "SECRET_KEY": "facility-location-" + "k" * 32, "SECURE_COOKIES": False}


@pytest.fixture
def rina(app, kota_serang):
    """Rina audits Serang (36.73.01) and Cipocok Jaya (36.73.05)."""
    return make_user(app, "rina", "auditor", ["36.73.01", "36.73.05"])


def stored(app) -> list[tuple]:
    from app.extensions import db

    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(Facility.name, Facility.kecamatan_code, Facility.located_kecamatan_code, Facility.verified))]


def test_a_point_in_another_kecamatan_offers_it_and_using_it_saves_it(app, auth, rina):
    auth.login("rina")
    asked = auth.post("/facilities/new", {**NEW, **IN_CIPOCOK})
    assert asked.status_code == 200 and stored(app) == []
    page = html(asked)
    warning = page.select_one("[data-kecamatan-check=other]")
    assert "Cipocok Jaya" in warning.get_text() and "Serang (36.73.01)" in warning.get_text()
    use = warning.select_one("button[name=use_kecamatan]")
    assert use["value"] == "36.73.05" and "Cipocok Jaya" in use.get_text()
    assert page.select_one("#name")["value"] == NEW["name"]  # everything typed is kept
    saved = auth.post("/facilities/new", {**NEW, **IN_CIPOCOK, "use_kecamatan": "36.73.05"})
    assert saved.status_code == 302
    assert stored(app) == [("Taman Bermain Baru", "36.73.05", "36.73.05", False)]


def test_keeping_the_chosen_kecamatan_saves_it_with_the_point(app, auth, rina):
    auth.login("rina")
    keep = html(auth.post("/facilities/new", {**NEW, **IN_CIPOCOK})).select_one("button[name=kecamatan_kept]")
    assert "Serang" in keep.get_text()
    assert auth.post("/facilities/new", {**NEW, **IN_CIPOCOK, "kecamatan_kept": keep["value"]}).status_code == 302
    assert stored(app) == [("Taman Bermain Baru", "36.73.01", "36.73.05", False)]


def test_a_confirmation_for_another_point_asks_again(app, auth, rina):
    auth.login("rina")
    keep = html(auth.post("/facilities/new", {**NEW, **IN_CIPOCOK})).select_one("button[name=kecamatan_kept]")
    again = auth.post("/facilities/new", {**NEW, **IN_KASEMEN, "kecamatan_kept": keep["value"]})
    assert again.status_code == 200 and html(again).select_one("[data-kecamatan-check=other]")
    assert stored(app) == []


def test_a_kecamatan_outside_the_auditors_own_is_not_offered(app, auth, auditor):
    auth.login("siti")  # Serang only
    page = html(auth.post("/facilities/new", {**NEW, **IN_KASEMEN}))
    warning = page.select_one("[data-kecamatan-check=other]")
    assert "Kasemen" in warning.get_text() and not warning.select_one("button[name=use_kecamatan]")
    assert warning.select_one("button[name=kecamatan_kept]")
    # Forcing it anyway changes nothing: the located kecamatan is not one of Siti's.
    assert auth.post("/facilities/new", {**NEW, **IN_KASEMEN, "use_kecamatan": "36.73.02"}).status_code == 200
    assert stored(app) == []


def test_a_point_outside_every_kecamatan_says_so(app, auth, rina):
    auth.login("rina")
    page = html(auth.post("/facilities/new", {**NEW, **NOWHERE}))
    warning = page.select_one("[data-kecamatan-check=nowhere]")
    assert "di luar semua kecamatan" in warning.get_text()
    assert not warning.select_one("button[name=use_kecamatan]") and warning.select_one("button[name=kecamatan_kept]")


def test_a_matching_point_registers_at_once(app, auth, rina):
    auth.login("rina")
    assert auth.post("/facilities/new", {**NEW, "lat": "-6.11", "lon": "106.16"}).status_code == 302
    assert stored(app) == [("Taman Bermain Baru", "36.73.01", "36.73.01", False)]


def test_the_supervisor_sees_the_mismatch_before_confirming(app, auth, supervisor):
    mismatched = make_facility(app, name="Taman Salah Kecamatan", lat=-6.14, lon=106.17)
    fine = make_facility(app, name="Taman Benar", official_id=None, lat=-6.11, lon=106.16)
    outside = make_facility(app, name="Taman Di Luar", lat=-6.30, lon=106.50)
    from app.extensions import db

    with app.app_context():
        db.session.execute(Facility.__table__.update().values(verified=False, located_kecamatan_code=None))
        db.session.commit()  # as a device's registration arrives by sync: not yet located on the hub
    auth.login("budi")
    page = html(auth.client.get(f"/facilities/{mismatched}"))
    notice = page.select_one("[data-kecamatan-mismatch=other]")
    assert "Cipocok Jaya (36.73.05)" in notice.get_text() and "bukan Serang" in notice.get_text()
    assert page.select_one(f"form[action='/facilities/{mismatched}/verify'] button")  # confirmed on the same page
    assert not html(auth.client.get(f"/facilities/{fine}")).select_one("[data-kecamatan-mismatch]")
    assert html(auth.client.get(f"/facilities/{outside}")).select_one("[data-kecamatan-mismatch=nowhere]")


def test_a_kept_kecamatan_stays_kept_through_the_duplicate_question(app, auth, rina):
    make_facility(app, name="Taman Lama", lat=-6.1401, lon=106.1701)  # 15 m away: a likely duplicate
    auth.login("rina")
    keep = html(auth.post("/facilities/new", {**NEW, **IN_CIPOCOK})).select_one("button[name=kecamatan_kept]")
    asked = html(auth.post("/facilities/new", {**NEW, **IN_CIPOCOK, "kecamatan_kept": keep["value"]}))
    assert "Taman Lama" in asked.select_one(".notice.warning").get_text()
    assert not asked.select_one("[data-kecamatan-check]")
    form = {i["name"]: i["value"] for i in asked.select("input[type=hidden]") if i.get("name") != "csrf_token"}
    assert auth.post("/facilities/new", {**NEW, **IN_CIPOCOK, **form}).status_code == 302
    assert ("Taman Bermain Baru", "36.73.01", "36.73.05", False) in stored(app)
