"""The device's enrollment form: every refusal is shown beside its field, keeps what was typed, changes nothing."""

from __future__ import annotations

import pytest

from sync.models import SyncPeer
from tests.support import html
from tests.sync_corpus import snapshot


@pytest.mark.parametrize("form, field, code", [
    ({"hub": "", "code": "K7QD-9MXA"}, "hub", "sync.bad_url"),
    ({"hub": "192.168.1.10:8080", "code": "K7QD-9MXA"}, "hub", "sync.bad_url"),
    ({"hub": "http://127.0.0.1:9", "code": ""}, "code", "sync.bad_code"),
    ({"hub": "http://127.0.0.1:9", "code": "K7QD-9MXA"}, "hub", "sync.unreachable"),
], ids=["no-address", "no-scheme", "no-code", "hub-unreachable"])
def test_enrollment_refusals_are_shown_beside_the_field(app, auth, auditor, db, form, field, code):
    auth.login(auditor)
    with app.app_context():
        before = snapshot(db.session, ())
    response = auth.post("/sync/enroll", form)
    assert response.status_code == 422
    page = html(response)
    error = page.select_one(f"#{field}-error")
    assert error is not None and code in error.get_text()
    assert page.select_one(f"#{field}")["aria-invalid"] == "true"
    assert page.select_one("#hub")["value"] == form["hub"]  # what was typed stays
    with app.app_context():
        assert snapshot(db.session, ()) == before
        assert db.session.query(SyncPeer).count() == 0


def test_enrollment_form_in_indonesian_names_the_problem(app, auth, auditor):
    auth.login(auditor)
    page = html(auth.post("/sync/enroll", {"hub": "", "code": "x"}))
    assert "Masukkan alamat hub" in page.select_one("#hub-error").get_text()


def test_a_new_device_offers_setup_on_the_sign_in_page(app, client):
    page = html(client.get("/login"))
    assert page.select_one(".first-run a")["href"] == "/setup"
    setup = html(client.get("/setup"))
    assert setup.select_one("form.enroll-form")["action"] == "/setup"


@pytest.mark.parametrize("form, field, code", [
    ({"hub": "", "code": "K7QD-9MXA"}, "hub", "sync.bad_url"),
    ({"hub": "http://127.0.0.1:9", "code": ""}, "code", "sync.bad_code"),
    ({"hub": "http://127.0.0.1:9", "code": "K7QD-9MXA"}, "hub", "sync.unreachable"),
], ids=["no-address", "no-code", "hub-unreachable"])
def test_setup_refusals_are_shown_beside_the_field_and_change_nothing(app, client, db, form, field, code):
    from tests.conftest import Session

    with app.app_context():
        before = snapshot(db.session, ())
    response = Session(client).post("/setup", form)
    assert response.status_code == 422
    assert code in html(response).select_one(f"#{field}-error").get_text()
    with app.app_context():
        assert snapshot(db.session, ()) == before


def test_setup_is_closed_once_the_device_has_accounts(app, client, auditor):
    from tests.conftest import Session

    assert not html(client.get("/login")).select(".first-run")
    assert client.get("/setup").status_code == 302
    response = Session(client).post("/setup", {"hub": "http://127.0.0.1:9", "code": "K7QD-9MXA"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_a_hub_never_counts_as_a_new_device(app, db):
    from app.auth.service import device_is_new

    with app.app_context():
        assert device_is_new(db.session, "field") and not device_is_new(db.session, "hub")
