"""A field device's backup in the browser: saved from the Sync page, restored on a new laptop's first screen."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from app import create_app
from app.cli_support import write_transaction
from tests.conftest import Session
from tests.support import html, migrate


@pytest.fixture
def new_laptop(tmp_path):
    """A field device at its first start: migrated, its own id, no account."""
    application = create_app({"INSTANCE_PATH": str(tmp_path / "new-laptop"), "TESTING": True, "ROLE": "field",
                              "DEMO": False})
    with application.app_context():
        migrate(application)
        from sync.service import ensure_self_device

        with write_transaction() as session:
            ensure_self_device(session, "field")
    return application


def saved_backup(auth, auditor) -> bytes:
    auth.login(auditor)
    response = auth.client.get("/backup/download")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"] and "pantau-kla-field-" in response.headers[
        "Content-Disposition"]
    return response.data


def test_an_auditor_saves_the_device_backup_and_nothing_stays_in_the_data_folder(app, auth, auditor, facility):
    data = saved_backup(auth, auditor)
    with zipfile.ZipFile(io.BytesIO(data)) as backup:
        manifest = json.loads(backup.read("manifest.json"))
    assert manifest["role"] == "field" and manifest["tables"]["facility"]["rows"] == 1
    assert manifest["tables"]["user_account"]["rows"] == 1
    leftovers = [p.name for p in Path(app.config["DATA_DIR"]).iterdir() if p.name.startswith((".backup", "pantau-kla-"))]
    assert leftovers == []


def test_a_new_laptop_is_restored_from_its_first_screen_and_signs_in(app, auth, auditor, facility, new_laptop):
    data = saved_backup(auth, auditor)
    browser = Session(new_laptop.test_client())
    setup = html(browser.client.get("/setup"))
    link = setup.select_one("a[data-restore-link]")
    assert link is not None and link["href"] == "/backup/restore"
    done = browser.post("/backup/restore", {"backup": (io.BytesIO(data), "cadangan.zip")},
                        content_type="multipart/form-data")
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert browser.login(auditor).status_code == 302  # the account came with the backup
    page = browser.client.get("/facilities/").get_data(as_text=True)
    assert "Taman Bermain RW 01" in page
    # Once someone can sign in, the restore page is closed: it would replace their work.
    assert browser.client.get("/backup/restore").status_code == 302


@pytest.mark.parametrize(("upload", "code"), [
    (None, "backup.none"),
    ((b"PK\x03\x04 not really a zip", "foto.zip"), "backup.not_a_backup"),
    ((b"", "kosong.zip"), "backup.not_a_backup"),
])
def test_a_wrong_file_is_refused_beside_the_field_and_changes_nothing(new_laptop, upload, code):
    browser = Session(new_laptop.test_client())
    form = {"backup": (io.BytesIO(upload[0]), upload[1])} if upload else {}
    refused = browser.post("/backup/restore", form, content_type="multipart/form-data")
    assert refused.status_code == 422
    page = html(refused)
    field = page.select_one(".field.has-error")
    message = field.select_one("[data-error-code]")
    assert message["data-error-code"] == code and message.get_text().strip() and field.select_one("#backup")
    assert browser.client.get("/backup/restore").status_code == 200  # still a new device


def test_the_backup_pages_exist_on_field_devices_only(tmp_path):
    hub = create_app({"INSTANCE_PATH": str(tmp_path / "hub"), "TESTING": True, "ROLE": "hub",
                      "SECRET_KEY": "hub-secret-for-tests-" + "x" * 32})
    with hub.app_context():
        migrate(hub)
    client = hub.test_client()
    assert client.get("/backup/restore").status_code == 404
    assert client.get("/backup/download").status_code == 404


def test_a_backup_larger_than_any_other_upload_is_restored(app, auth, auditor, new_laptop):
    """Photos make a device's backup larger than the app-wide upload limit (25 MB): this page takes it."""
    returns = Path(app.config["DATA_DIR"]) / "returns"
    returns.mkdir(parents=True, exist_ok=True)
    (returns / "pantau-return.zip").write_bytes(os.urandom(27 * 1024 * 1024))
    data = saved_backup(auth, auditor)
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    browser = Session(new_laptop.test_client())
    done = browser.post("/backup/restore", {"backup": (io.BytesIO(data), "cadangan.zip")},
                        content_type="multipart/form-data")
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    restored = Path(new_laptop.config["DATA_DIR"]) / "returns" / "pantau-return.zip"
    assert restored.read_bytes() == (returns / "pantau-return.zip").read_bytes()

