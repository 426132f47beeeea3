"""Signing in, roles, CSRF and the security headers."""

from __future__ import annotations

import pytest

from app.auth.queries import user_by_username
from tests.support import html


def test_login_page_is_indonesian_by_default(client):
    page = html(client.get("/login"))
    assert page.html["lang"] == "id"


def test_auditor_signs_in_and_lands_on_their_facilities(auth, auditor):
    response = auth.login("siti")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert auth.client.get("/").headers["Location"].endswith("/facilities/")


@pytest.mark.parametrize("username,password", [
    ("siti", "wrong-password"),
    ("nobody", "rahasia-123"),
    ("", "rahasia-123"),
    ("siti", ""),
    ("x" * 500, "rahasia-123"),
], ids=["wrong-password", "unknown-user", "empty-username", "empty-password", "too-long"])
def test_bad_sign_in_is_refused_with_a_message(app, auth, auditor, db, username, password):
    response = auth.login(username, password)
    assert response.status_code in (200, 401)
    page = html(response)
    assert page.select(".notice.error, .error-text"), "the user is told what went wrong"
    with app.app_context():
        assert user_by_username(db.session, "siti").last_login_at is None


def test_post_without_csrf_token_is_refused(client, auditor):
    response = client.post("/login", data={"username": "siti", "password": "rahasia-123"})
    assert response.status_code == 400
    assert "Muat ulang" in response.get_data(as_text=True) or "Reload" in response.get_data(as_text=True)


def test_htmx_post_with_csrf_header_is_accepted(auth, auditor):
    auth.login("siti")
    token = auth.csrf()
    response = auth.client.post("/language", data={"locale": "en"}, headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302


def test_the_password_is_checked_without_the_write_lock_and_the_sign_in_recorded_with_it(app, auth, auditor,
                                                                                         monkeypatch):
    """A password hash takes half a second: under SQLite's write lock, twenty planners signing in at once kept
    every push and enrollment waiting past the busy timeout (a 503 in bench/load.py). The hash runs in a read
    of its own; the sign-in is recorded in the request's write."""
    from app.auth.models import User
    from app.db import write_intent

    seen = []
    check = User.check_password
    monkeypatch.setattr(User, "check_password", lambda self, password: seen.append(write_intent()) or check(self, password))
    assert auth.login("siti").status_code == 302
    assert seen == [False]
    with app.app_context():
        from app.extensions import db

        assert user_by_username(db.session, "siti").last_login_at is not None


def test_disabled_user_cannot_sign_in(app, auth, auditor):
    from app.cli_support import write_transaction

    with app.app_context(), write_transaction() as session:
        user_by_username(session, "siti").active = False
    assert auth.login("siti").status_code == 401


@pytest.mark.parametrize("path,allowed", [
    ("/admin/users", {"admin"}),
    ("/devices/", {"supervisor", "admin"}),
    ("/audit-log", {"supervisor", "admin"}),
    ("/facilities/", {"auditor", "supervisor", "planner", "admin"}),
])
def test_pages_are_limited_to_roles(app, auditor, supervisor, planner, admin, path, allowed):
    from tests.conftest import Session

    for persona, role in (("siti", "auditor"), ("budi", "supervisor"), ("dewi", "planner"), ("adi", "admin")):
        browser = Session(app.test_client())
        browser.login(persona)
        status = browser.client.get(path).status_code
        assert (status == 200) == (role in allowed), f"{role} on {path}: {status}"


def test_signed_out_user_is_sent_to_sign_in(client):
    response = client.get("/facilities/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]


def test_session_cookie_flags(auth, auditor):
    response = auth.login("siti")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("pantau_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # field: plain HTTP


def test_hub_cookies_are_secure(tmp_path):
    from app import create_app

    hub = create_app({"INSTANCE_PATH": str(tmp_path), "ROLE": "hub", "SECRET_KEY": "x" * 32})
    assert hub.config["SESSION_COOKIE_SECURE"] is True


def test_pages_have_no_inline_script_or_style(auth, admin):
    auth.login("adi")
    for path in ("/", "/facilities/", "/admin/users", "/admin/users/new", "/devices/", "/audit-log", "/login"):
        page = html(auth.client.get(path, follow_redirects=True))
        for script in page.find_all("script"):
            assert script.get("src"), f"inline script on {path}"
        assert not page.find_all(style=True), f"style attribute on {path}"
        assert not page.find_all("style"), f"style element on {path}"


def test_open_redirect_is_refused(auth, auditor):
    token = auth.csrf()
    response = auth.client.post("/login?next=//evil.example/x",
                                data={"username": "siti", "password": "rahasia-123", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_demo_users_only_work_in_demo_mode(tmp_path):
    from app import create_app
    from app.cli import initialise
    from tests.conftest import Session

    config = {"INSTANCE_PATH": str(tmp_path), "TESTING": True, "DEMO": True}
    demo_app = create_app(config)
    with demo_app.app_context():
        initialise()
    assert Session(demo_app.test_client()).login("auditor", "demo").status_code == 302
    plain_app = create_app({**config, "DEMO": False})
    assert Session(plain_app.test_client()).login("auditor", "demo").status_code == 401
