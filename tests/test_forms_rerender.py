"""Form pages that fail validation re-render with the input kept and the message beside the field, and a 422.

Never a dead-end error page: device registration without a name, a wrong file on bundle upload, and the
other forms (facility, user, sign-in, indicator entry and points). Each row: the refusal is beside its
field (`#<field>-error`), what was typed is still in the form, nothing was stored. The review decision
and the answer/note saves are tested where they live (test_sync_reviews, test_audits).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from survey.facilities.models import Facility
from app.node import Device
from tests import indicator_scenario
from tests.support import html
from tests.test_facilities import VALID
from tests.test_indicator_pages import entry_form


@pytest.fixture
def role():
    return "field"


@pytest.fixture
def app_config(tmp_path, role):
    """A field device or (parametrize `role`) a hub; a 1 MB upload limit makes the 413 path cheap."""
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": role, "DEMO": False,
              "MAX_UPLOAD_MB": 1}
    if role == "hub":
        config["SECRET_KEY"] = "s" * 40
    return config


def count(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def refused(response, field: str, words: str = "", status: int = 422):
    """The page came back with the status, the message beside `field`, and the field marked invalid."""
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    page = html(response)
    message = page.select_one(f"#{field}-error")
    assert message is not None, f"no message beside {field}"
    assert words in message.get_text()
    assert not page.select_one("[data-error-code]") or page.select_one("form")  # a form page, not the error page
    return page


# --- Device registration on the hub ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["hub"])
@pytest.mark.parametrize("form, field, words", [
    ({"name": "", "kecamatan": ["36.73.01", "36.73.02"]}, "name", "2 sampai 80"),
    ({"name": "T", "kecamatan": ["36.73.01"]}, "name", "2 sampai 80"),
    ({"name": "Tablet Serang 1", "kecamatan": []}, "kecamatan", "kecamatan"),
    ({"name": "Tablet Serang 1", "kecamatan": ["99.99.99"]}, "kecamatan", "99.99.99"),
], ids=["no-name", "short-name", "no-kecamatan", "unknown-kecamatan"])
def test_device_registration_keeps_what_was_typed_and_ticked(app, auth, supervisor, role, form, field, words):
    auth.login(supervisor)
    before = count(app, Device)
    page = refused(auth.post("/devices/register", form), field, words)
    assert page.select_one("#device-name")["value"] == form["name"]
    assert page.select_one(f"#{field}-error")["data-error-code"]
    ticked = sorted(box["value"] for box in page.select("input[name=kecamatan][checked]"))
    assert ticked == sorted(k for k in form["kecamatan"] if k != "99.99.99")
    assert not page.select_one(".code, [data-enroll-code]")  # no code was made
    assert count(app, Device) == before


# --- Bundle upload -----------------------------------------------------------------------------------------------


def zip_bytes(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


WRONG_FILES = [
    ("text", b"ini bukan bundel\n", "catatan.txt"),
    ("empty", b"", "pantau.zip"),
    ("zip-without-manifest", zip_bytes(foto=b"x"), "lain.zip"),
]


@pytest.mark.parametrize("role, persona", [("hub", "supervisor"), ("field", "auditor")])
@pytest.mark.parametrize("payload, name", [w[1:] for w in WRONG_FILES], ids=[w[0] for w in WRONG_FILES])
def test_a_wrong_bundle_file_is_named_beside_the_file_field(app, auth, request, role, persona, payload, name):
    auth.login(request.getfixturevalue(persona))
    response = auth.post("/sync/upload", {"bundle": (io.BytesIO(payload), name)}, content_type="multipart/form-data")
    assert response.status_code in (409, 422)
    page = refused(response, "bundle", status=response.status_code)
    assert name in page.select_one(".field.has-error").get_text()  # which file was refused
    assert page.select_one("#bundle")["aria-invalid"] == "true"
    assert page.select_one("#bundle-error")["data-error-code"].startswith(("bundle.", "sync."))  # the stable code


@pytest.mark.parametrize("role", ["hub"])
def test_no_file_and_a_file_over_the_limit_are_said_beside_the_field(app, auth, supervisor, role):
    auth.login(supervisor)
    refused(auth.post("/sync/upload", {}, content_type="multipart/form-data"), "bundle", "Pilih berkas bundel")
    big = {"bundle": (io.BytesIO(b"PK" + b"\0" * (1024 * 1024 + 100)), "besar.zip")}
    refused(auth.post("/sync/upload", big, content_type="multipart/form-data"), "bundle", "batasnya 1 MB", 413)


# --- The other forms ---------------------------------------------------------------------------------------------


def test_facility_registration_keeps_every_typed_value(app, auth, supervisor):
    auth.login(supervisor)
    typed = {**VALID, "name": "SD", "address": "Jl. Ahmad Yani No. 5", "lat": "-6,1201"}
    page = refused(auth.post("/facilities/new", typed), "name")
    assert page.select_one("#address")["value"] == "Jl. Ahmad Yani No. 5"
    assert page.select_one("#official_id")["value"] == "20601234"
    assert page.select_one("#kind option[selected]")["value"] == "sekolah"
    assert page.select_one("#kecamatan_code option[selected]")["value"] == "36.73.01"
    assert page.select_one("#lat")["value"] == "-6,1201"  # as typed, with the Indonesian decimal comma
    assert count(app, Facility) == 0


@pytest.mark.parametrize("locale, field, value, words", [
    ("id", "kind", "__class__", "Pilihan tidak sah."),
    ("en", "kind", "__class__", "Not a valid choice."),
    ("id", "lat", "enam", "Bukan angka desimal yang sah."),
    ("id", "official_id", "9" * 41, "Isian paling banyak 40 karakter."),
    ("en", "official_id", "9" * 41, "Field cannot be longer than 40 characters."),
])
def test_wtforms_own_messages_are_in_the_readers_language(app, auth, supervisor, locale, field, value, words):
    auth.login(supervisor)
    auth.post("/language", {"locale": locale})
    refused(auth.post("/facilities/new", {**VALID, field: value}), field, words)
    assert count(app, Facility) == 0


def test_facility_edit_keeps_the_new_values_beside_the_refusal(app, auth, supervisor, facility):
    auth.login(supervisor)
    page = refused(auth.post(f"/facilities/{facility}/edit", {**VALID, "name": "Taman RW 01 baru", "lat": "95"}), "lat")
    assert page.select_one("#name")["value"] == "Taman RW 01 baru"
    assert page.select_one("#lat")["value"] == "95"


def test_user_creation_keeps_the_typed_values(app, auth, admin, auditor):
    auth.login(admin)
    form = {"username": auditor, "full_name": "Siti Kedua", "role": "auditor", "kecamatan": ["36.73.02"],
            "password": "kata-sandi-baru", "confirm": "kata-sandi-baru"}
    page = refused(auth.post("/admin/users/new", form), "username", auditor)
    assert page.select_one("#full_name")["value"] == "Siti Kedua"
    assert [box["value"] for box in page.select("input[name=kecamatan][checked]")] == ["36.73.02"]
    assert not page.select_one("#password").get("value")  # a password is never sent back


def test_user_edit_puts_the_refusal_beside_its_field(app, auth, admin, auditor):
    from app.auth.queries import user_by_username
    from app.extensions import db

    auth.login(admin)
    with app.app_context():
        user_id = user_by_username(db.session, auditor).id
    form = {"full_name": "Siti Baru", "role": "auditor", "kecamatan": ["36.73.01"], "password": "pendek",
            "confirm": "pendek", "active": "y"}
    page = refused(auth.post(f"/admin/users/{user_id}", form), "password")
    assert page.select_one("#full_name")["value"] == "Siti Baru"


def test_sign_in_keeps_the_username(auth, auditor):
    response = auth.post("/login", {"username": auditor, "password": "salah-sekali"})
    assert response.status_code == 401
    page = html(response)
    assert page.select_one("#username")["value"] == auditor
    assert "salah" in page.select_one("form.card").get_text().lower()


def test_indicator_entry_keeps_the_typed_values(app, auth, planner, kota_serang):
    indicator_scenario.build(app)
    auth.login(planner)
    form = entry_form(numerator="500", denominator="480", note="Data Disdukcapil")
    response = auth.post("/indicators/entry/36.73.01/2026/4", form, content_type="multipart/form-data")
    assert response.status_code == 422
    page = html(response)
    assert page.select_one("[id$=-error]")
    assert page.select_one("#note").get_text() == "Data Disdukcapil"
    assert page.select_one("[name=numerator]")["value"] == "500"


def test_indicator_evidence_over_the_limit_is_said_beside_the_files(app, auth, planner, kota_serang):
    indicator_scenario.build(app)
    auth.login(planner)
    big = {**entry_form(), "files": [(io.BytesIO(b"%PDF" + b"\0" * (1024 * 1024 + 100)), "besar.pdf")]}
    refused(auth.post("/indicators/entry/36.73.01/2026/4", big, content_type="multipart/form-data"), "files",
            "batasnya 1 MB", 413)


def test_starting_an_audit_with_no_checklist_re_renders_the_choice(auth, auditor, facility):
    auth.login(auditor)
    response = auth.post(f"/facilities/{facility}/audits/new", {})
    assert response.status_code == 422
    assert html(response).select_one("input[name=checklist]")


def test_nothing_of_a_refused_user_was_stored(app, auth, admin):
    auth.login(admin)
    before = count(app, User)
    auth.post("/admin/users/new", {"username": "x", "role": "auditor"})
    assert count(app, User) == before
