"""The facility registry: scope per auditor, search, nearest first, registration and its bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auditlog import AuditLogEntry
from survey.facilities.models import Facility
from tests.conftest import make_facility
from tests.support import html

VALID = {"kind": "sekolah", "name": "SD Negeri 3 Serang", "official_id": "20601234", "address": "Jl. Ahmad Yani",
         "kecamatan_code": "36.73.01", "lat": "-6.1201", "lon": "106.1503"}


def facility_count(app) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Facility)).scalar_one()


def names(response) -> list[str]:
    return [e.get_text(strip=True) for e in html(response).select("#results .row-title")]


def test_auditor_sees_only_their_kecamatan(app, auth, auditor):
    make_facility(app, name="Taman Serang")
    make_facility(app, name="Taman Kasemen", kecamatan_code="36.73.02", lat=-6.06, lon=106.19)
    auth.login("siti")
    assert names(auth.client.get("/facilities/")) == ["Taman Serang"]
    other = make_facility(app, name="Taman Curug", kecamatan_code="36.73.04", lat=-6.19, lon=106.17)
    assert auth.client.get(f"/facilities/{other}").status_code == 404


def test_supervisor_sees_all(app, auth, supervisor):
    make_facility(app, name="Taman Serang")
    make_facility(app, name="Taman Kasemen", kecamatan_code="36.73.02", lat=-6.06, lon=106.19)
    auth.login("budi")
    assert names(auth.client.get("/facilities/")) == ["Taman Kasemen", "Taman Serang"]


def test_search_and_kind_filter(app, auth, supervisor):
    make_facility(app, name="Taman Bermain Ciceri")
    make_facility(app, kind="sekolah", name="SD Negeri 1 Serang", official_id="20600001")
    auth.login("budi")
    assert names(auth.client.get("/facilities/?q=ciceri")) == ["Taman Bermain Ciceri"]
    assert names(auth.client.get("/facilities/?q=20600001")) == ["SD Negeri 1 Serang"]
    assert names(auth.client.get("/facilities/?kind=sekolah")) == ["SD Negeri 1 Serang"]
    assert names(auth.client.get("/facilities/?kind=bogus")) == ["SD Negeri 1 Serang", "Taman Bermain Ciceri"]


def test_nearest_first_when_position_known(app, auth, supervisor):
    make_facility(app, name="A far", lat=-6.13, lon=106.14)
    make_facility(app, name="B near", lat=-6.1151, lon=106.1601)
    make_facility(app, name="C no position", lat=None, lon=None)
    auth.login("budi")
    assert names(auth.client.get("/facilities/?lat=-6.115&lon=106.16")) == ["B near", "A far", "C no position"]
    assert names(auth.client.get("/facilities/")) == ["A far", "B near", "C no position"]


def test_htmx_search_returns_only_the_results_fragment(app, auth, supervisor):
    make_facility(app, name="Taman Bermain Ciceri")
    auth.login("budi")
    response = auth.client.get("/facilities/?q=ciceri", headers={"HX-Request": "true", "HX-Target": "results"})
    page = html(response)
    assert page.find("html") is None and page.find("section", id="results") is not None
    assert "HX-Request" in response.headers["Vary"]


def test_supervisor_registers_a_verified_facility(app, auth, supervisor):
    auth.login("budi")
    response = auth.post("/facilities/new", VALID)
    assert response.status_code == 302
    with app.app_context():
        from app.extensions import db

        created = db.session.execute(select(Facility)).scalar_one()
        # Verified where it was registered only on a hub; a field device's registration waits for the hub's check.
        assert created.verified is (app.config["ROLE"] == "hub")
        assert created.official_id == "20601234" and created.lat == -6.1201
        entry = db.session.execute(select(AuditLogEntry).where(AuditLogEntry.action == "create",
                                                               AuditLogEntry.entity == "facility")).scalar_one()
        assert entry.changes["name"] == [None, "SD Negeri 3 Serang"] and entry.device_id is not None


def test_coordinates_accept_the_indonesian_decimal_comma(app, auth, supervisor):
    auth.login("budi")
    assert auth.post("/facilities/new", {**VALID, "lat": "-6,1201", "lon": "106,1503"}).status_code == 302
    with app.app_context():
        from app.extensions import db

        assert db.session.execute(select(Facility.lat, Facility.lon)).one() == (-6.1201, 106.1503)


def test_auditor_registration_is_unverified_and_limited_to_own_kecamatan(app, auth, auditor):
    auth.login("siti")
    assert auth.post("/facilities/new", VALID).status_code == 302
    with app.app_context():
        from app.extensions import db

        assert db.session.execute(select(Facility.verified)).scalar_one() is False
    outside = {**VALID, "official_id": "20609999", "kecamatan_code": "36.73.02"}
    response = auth.post("/facilities/new", outside)
    assert response.status_code == 422  # not one of the auditor's choices
    assert facility_count(app) == 1


def test_likely_duplicate_within_100_m_is_offered_first(app, auth, supervisor):
    make_facility(app, kind="sekolah", name="SD Negeri 3 Serang", lat=-6.1201, lon=106.1503)
    auth.login("budi")
    nearby = {**VALID, "name": "SDN 3 Serang", "official_id": "", "lat": "-6.1205", "lon": "106.1505"}
    response = auth.post("/facilities/new", nearby)
    assert response.status_code == 200
    assert "SD Negeri 3 Serang" in html(response).select_one(".notice.warning").get_text()
    assert facility_count(app) == 1
    assert auth.post("/facilities/new", {**nearby, "confirm_new": "1"}).status_code == 302
    assert facility_count(app) == 2


@pytest.mark.parametrize("change,field", [
    ({"name": ""}, "name"),
    ({"name": "ab"}, "name"),
    ({"name": "x" * 161}, "name"),
    ({"kind": ""}, "kind"),
    ({"kind": "mall"}, "kind"),
    ({"kecamatan_code": "99.99.99"}, "kecamatan_code"),
    ({"kecamatan_code": ""}, "kecamatan_code"),
    ({"lat": "utara"}, "lat"),
    ({"lat": "95"}, "lat"),
    ({"lon": "200"}, "lon"),
    ({"address": "x" * 301}, "address"),
    ({"official_id": "x" * 41}, "official_id"),
], ids=["empty-name", "short-name", "long-name", "empty-kind", "unknown-kind", "unknown-kecamatan",
        "empty-kecamatan", "text-latitude", "latitude-range", "longitude-range", "long-address", "long-official-id"])
def test_bad_facility_form_input_gets_a_message_and_changes_nothing(app, auth, supervisor, change, field):
    auth.login("budi")
    response = auth.post("/facilities/new", {**VALID, **change})
    assert response.status_code == 422
    page = html(response)
    assert page.select_one(f"#{field}-error"), f"no message beside {field}"
    assert page.select_one(f"#{field}")["aria-invalid"] == "true"
    assert facility_count(app) == 0


@pytest.mark.parametrize("change,message", [
    ({"official_id": "123"}, "8 digit"),
    ({"lat": "-6.12", "lon": ""}, "lintang dan bujur"),
    ({"lat": "6.12", "lon": "-106.15"}, "di luar Indonesia"),
    ({"lat": "-33.86", "lon": "151.21"}, "di luar Indonesia"),
], ids=["bad-npsn", "half-position", "signs-swapped", "sydney"])
def test_domain_rules_refuse_with_an_indonesian_message(app, auth, supervisor, change, message):
    auth.login("budi")
    response = auth.post("/facilities/new", {**VALID, **change})
    assert response.status_code == 422
    assert message in html(response).get_text()
    assert facility_count(app) == 0


def test_duplicate_npsn_is_refused(app, auth, supervisor):
    make_facility(app, kind="sekolah", name="SD Negeri 1", official_id="20601234", lat=-6.13, lon=106.14)
    auth.login("budi")
    response = auth.post("/facilities/new", VALID)
    assert response.status_code == 422
    assert "20601234" in html(response).select_one("#official_id-error").get_text()
    assert facility_count(app) == 1


def test_supervisor_edits_and_verifies(app, auth, supervisor, auditor):
    auth.login("siti")
    auth.post("/facilities/new", VALID)
    with app.app_context():
        from app.extensions import db

        facility_id = db.session.execute(select(Facility.id)).scalar_one()
    auth.client.post("/logout", data={"csrf_token": auth.csrf()})
    auth.login("budi")
    response = auth.post(f"/facilities/{facility_id}/edit", {**VALID, "name": "SD Negeri 3 Kota Serang"})
    assert response.status_code == 302
    # A hub confirms; a field device refuses (the hub would refuse `verified` from it) and says where to do it.
    on_hub = app.config["ROLE"] == "hub"
    verified = auth.post(f"/facilities/{facility_id}/verify")
    assert verified.status_code == (302 if on_hub else 409)
    with app.app_context():
        from app.extensions import db

        stored = db.session.get(Facility, facility_id)
        assert stored.name == "SD Negeri 3 Kota Serang" and stored.verified is on_hub
        actions = db.session.execute(select(AuditLogEntry.action).where(
            AuditLogEntry.entity_id == str(facility_id)).order_by(AuditLogEntry.at)).scalars().all()
        assert actions == ["create", "update", "verify"] if on_hub else ["create", "update"]


def test_planner_cannot_register(auth, planner):
    auth.login("dewi")
    assert auth.client.get("/facilities/new").status_code == 403


def test_unknown_facility_id_is_404(auth, supervisor):
    auth.login("budi")
    assert auth.client.get("/facilities/not-a-uuid").status_code == 404
    assert auth.client.get("/facilities/00000000-0000-0000-0000-000000000000").status_code == 404
