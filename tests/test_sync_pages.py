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
