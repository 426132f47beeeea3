"""Users from the command line and the admin pages; bad input refused with a message, nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.queries import user_by_username
from tests.support import html


def user_count(app) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def test_cli_creates_an_auditor_with_kecamatan(app, runner, kota_serang):
    result = runner.invoke(args=["users", "create", "rina", "--role", "auditor", "--kecamatan", "36.73.01",
                                 "--kecamatan", "36.73.05", "--password-stdin"], input="kata-sandi-rina\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        from app.extensions import db

        rina = user_by_username(db.session, "rina")
        assert rina.role == "auditor" and rina.kecamatan_codes == ["36.73.01", "36.73.05"]
        assert rina.password_hash != "kata-sandi-rina" and rina.check_password("kata-sandi-rina")


def test_cli_prompts_for_the_password(app, runner, kota_serang):
    result = runner.invoke(args=["users", "create", "rina", "--role", "planner"], input="kata-sandi-rina\nkata-sandi-rina\n")
    assert result.exit_code == 0, result.output
    assert "kata-sandi-rina" not in result.output


@pytest.mark.parametrize("args,stdin,code", [
    (["rina", "--role", "auditor", "--kecamatan", "99.99.99"], "kata-sandi-rina\n", "wilayah.unknown_kecamatan"),
    (["rina", "--role", "auditor"], "pendek\n", "user.weak_password"),
    (["r", "--role", "auditor"], "kata-sandi-rina\n", "user.bad_username"),
    (["budi", "--role", "auditor"], "kata-sandi-rina\n", "user.exists"),
], ids=["unknown-kecamatan", "short-password", "short-username", "taken"])
def test_cli_refuses_bad_input_in_both_languages(app, runner, supervisor, args, stdin, code):
    before = user_count(app)
    result = runner.invoke(args=["users", "create", *args, "--password-stdin"], input=stdin)
    assert result.exit_code == 1
    assert f"[{code}]" in result.output
    indonesian, english = result.output.split("] ", 1)[1].split(" / ")
    assert indonesian.strip() != english.strip(), "the message is given in Indonesian and in English"
    assert user_count(app) == before


def test_cli_refuses_unknown_role(runner):
    result = runner.invoke(args=["users", "create", "rina", "--role", "boss", "--password-stdin"], input="x" * 10)
    assert result.exit_code == 2 and "boss" in result.output


def test_admin_creates_a_user_in_the_browser(app, auth, admin):
    auth.login("adi")
    response = auth.post("/admin/users/new", {"username": "rina", "full_name": "Rina", "role": "auditor",
                                              "kecamatan": ["36.73.02"], "password": "kata-sandi-rina",
                                              "confirm": "kata-sandi-rina"})
    assert response.status_code == 302
    with app.app_context():
        from app.extensions import db

        assert user_by_username(db.session, "rina").kecamatan_codes == ["36.73.02"]


@pytest.mark.parametrize("change,field", [
    ({"username": ""}, "username"),
    ({"username": "ab"}, "username"),
    ({"username": "r" * 41}, "username"),
    ({"username": "rina rahma"}, "username"),
    ({"username": "adi"}, "username"),
    ({"role": "boss"}, "role"),
    ({"kecamatan": ["99.99.99"]}, "kecamatan"),
    ({"password": "", "confirm": ""}, "password"),
    ({"password": "pendek", "confirm": "pendek"}, "password"),
    ({"confirm": "lain-lagi-123"}, "confirm"),
    ({"full_name": "x" * 121}, "full_name"),
], ids=["empty", "short", "long", "space", "taken", "unknown-role", "unknown-kecamatan", "no-password",
        "short-password", "mismatch", "long-name"])
def test_bad_user_form_input_gets_a_message_and_changes_nothing(app, auth, admin, change, field):
    auth.login("adi")
    before = user_count(app)
    data = {"username": "rina", "full_name": "Rina", "role": "auditor", "kecamatan": ["36.73.02"],
            "password": "kata-sandi-rina", "confirm": "kata-sandi-rina", **change}
    response = auth.post("/admin/users/new", data)
    assert response.status_code == 422
    assert html(response).select_one(f"#{field}-error, .field.has-error"), f"no message for {field}"
    assert user_count(app) == before


def test_admin_cannot_lock_themself_out(app, auth, admin):
    auth.login("adi")
    with app.app_context():
        from app.extensions import db

        admin_id = user_by_username(db.session, "adi").id
    response = auth.post(f"/admin/users/{admin_id}", {"role": "auditor", "full_name": "Adi", "active": "y"})
    assert response.status_code == 422
    with app.app_context():
        from app.extensions import db

        assert user_by_username(db.session, "adi").role == "admin"


def test_admin_changes_role_and_it_is_logged(app, auth, admin, auditor):
    auth.login("adi")
    with app.app_context():
        from app.extensions import db

        siti_id = user_by_username(db.session, "siti").id
    response = auth.post(f"/admin/users/{siti_id}", {"role": "supervisor", "full_name": "Siti", "active": "y"})
    assert response.status_code == 302
    page = html(auth.client.get("/audit-log"))
    assert "supervisor" in page.select_one("tbody").get_text()
