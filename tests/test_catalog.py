"""The checklist catalog on a hub: upload an XLSForm as a draft, read its report, preview, publish, retire."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auditlog import AuditLogEntry
from app.cli_support import write_transaction
from survey import registry
from survey.audits.models import ChecklistVersion
from survey.catalog.models import TRAVELLING_STATES, ChecklistRelease
from sync import schemas
from sync.models import SyncChange
from tests.support import html
from tests.test_checklists_cli import SETTINGS, SURVEY, write_form

KEY = "audit_taman@1"


@pytest.fixture
def app_config(tmp_path):
    """A hub (the catalog exists only there) on SQLite."""
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "hub", "DEMO": False,
            "SECRET_KEY": "catalog-hub-" + "k" * 32, "SECURE_COOKIES": False}


@pytest.fixture
def admin_browser(auth, admin):
    """Adi, signed in on the hub."""
    assert auth.login("adi").status_code == 302
    return auth


def upload(browser, path: Path, kinds=(), attachments=()):
    """Post the upload form with a workbook (and CSV attachments) as a browser would."""
    data = {"form": (io.BytesIO(path.read_bytes()), path.name), "kinds": list(kinds),
            "attachments": [(io.BytesIO(body), name) for name, body in attachments]}
    return browser.post("/checklists/upload", data, content_type="multipart/form-data")


def releases(app) -> dict[str, str]:
    with app.app_context(), write_transaction() as session:
        return {r.key: r.state for r in session.execute(select(ChecklistRelease)).scalars()}


def checklist_changes(app, key: str) -> list[dict]:
    with app.app_context(), write_transaction() as session:
        rows = session.execute(select(SyncChange.payload).where(SyncChange.kind == "checklist",
                                                                SyncChange.entity_id == key)
                               .order_by(SyncChange.local_seq)).scalars()
        return [row.get("release") for row in rows]


def test_upload_makes_a_draft_with_its_report_and_preview(app, admin_browser, tmp_path):
    form = write_form(tmp_path, "audit_taman.xlsx", SURVEY)
    response = upload(admin_browser, form, kinds=["ruang_bermain"])
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/checklists/{KEY}/?imported=1")
    assert releases(app) == {KEY: "draft"}
    page = html(admin_browser.client.get(f"/checklists/{KEY}/"))
    assert page.select_one("[data-state]")["data-state"] == "draft"
    assert page.select_one("[data-publish]") is not None
    assert [f["data-preview"] for f in page.select("iframe[data-preview]")] == ["id", "en"]
    report = [[cell.get_text(strip=True) for cell in row.select("td")] for row in page.select("#import-report tr[data-note]")]
    assert ["settings", "2", "title tanpa bahasa; teks yang sama dipakai untuk bahasa Indonesia dan Inggris"] in report
    frame = admin_browser.client.get(f"/checklists/{KEY}/preview?lang=en")
    assert frame.status_code == 200 and frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in admin_browser.client.get(f"/checklists/{KEY}/").headers["Content-Security-Policy"]
    body = html(frame)
    assert body.select_one("[data-preview-body]").has_attr("inert")
    assert "Is there a fence?" in body.get_text() and "Ada pagar?" not in body.get_text()
    assert "Ada pagar?" in html(admin_browser.client.get(f"/checklists/{KEY}/preview?lang=id")).get_text()
    with app.app_context(), write_transaction() as session:
        assert session.get(ChecklistVersion, KEY) is None  # a draft is not a version audits or devices see
        assert KEY not in registry.installed(session)
        assert session.execute(select(AuditLogEntry).where(AuditLogEntry.entity_id == KEY)).scalar_one().action == "import"


def test_the_same_content_again_stores_nothing_and_says_which_version(app, admin_browser, tmp_path):
    (tmp_path / "again").mkdir()
    form = write_form(tmp_path, "audit_taman.xlsx", SURVEY)
    upload(admin_browser, form)
    # Neither the author's version label nor the workbook's file name ("(1)" from a second download) is content.
    relabelled = write_form(tmp_path / "again", "audit_taman (1).xlsx", SURVEY,
                            settings_rows=[SETTINGS[0], ["audit_taman", "2026.1", "Audit Taman"]])
    response = upload(admin_browser, relabelled)
    assert response.status_code == 200
    assert html(response).select_one("[data-same]")["data-same"] == KEY
    assert releases(app) == {KEY: "draft"}


def test_changed_content_is_the_next_version(app, admin_browser, tmp_path):
    upload(admin_browser, write_form(tmp_path, "audit_taman.xlsx", SURVEY))
    changed = [*SURVEY, ["text", "catatan", "Catatan", "Notes"]]
    response = upload(admin_browser, write_form(tmp_path, "audit_taman.xlsx", changed))
    assert response.headers["Location"].endswith("/checklists/audit_taman@2/?imported=1")
    assert releases(app) == {KEY: "draft", "audit_taman@2": "draft"}


def test_a_refused_form_is_named_beside_the_upload_control_and_nothing_is_stored(app, admin_browser, tmp_path):
    broken = [*SURVEY, ["frobnicate", "x", "X", "X"]]
    response = upload(admin_browser, write_form(tmp_path, "audit_taman.xlsx", broken))
    assert response.status_code == 422
    error = html(response).select_one("#form-error")
    assert error is not None and error["data-error-code"].startswith("xlsform.")
    assert (error["data-sheet"], error["data-row"]) == ("survey", "7") and "baris 7" in error.get_text()
    assert html(response).select_one("#form")["aria-describedby"] == "form-error"
    assert releases(app) == {}


def test_the_authors_version_text_is_kept_as_the_label(app, admin_browser, tmp_path):
    form = write_form(tmp_path, "audit_taman.xlsx", SURVEY,
                      settings_rows=[SETTINGS[0], ["audit_taman", "2026.1 (revisi Mei)", "Audit Taman"]])
    assert upload(admin_browser, form).status_code == 303
    page = html(admin_browser.client.get("/checklists/"))
    assert page.select_one(f'tr[data-version="{KEY}"] [data-label]').get_text(strip=True) == "(2026.1 (revisi Mei))"


SCHOOLS = [*SURVEY, ["select_one_from_file daftar-sekolah.csv", "sekolah", "Sekolah", "School"]]


def test_a_csv_attachment_is_used_and_a_missing_one_is_refused_by_name(app, admin_browser, tmp_path):
    form = write_form(tmp_path, "audit_taman.xlsx", SCHOOLS)
    response = upload(admin_browser, form)
    assert response.status_code == 422
    error = html(response).select_one("#form-error")
    assert error["data-error-code"] == "xlsform.missing_attachment" and "daftar-sekolah.csv" in error.get_text()
    assert releases(app) == {}
    response = upload(admin_browser, form, attachments=[("daftar-sekolah.csv", b"name,label\nsd1,SD 1\nsd2,SD 2\n")])
    assert response.status_code == 303
    text = html(admin_browser.client.get(f"/checklists/{KEY}/preview?lang=id")).get_text()
    assert "SD 1" in text and "SD 2" in text


def test_no_workbook_and_a_wrong_attachment_are_refused(app, admin_browser, tmp_path):
    response = admin_browser.post("/checklists/upload", {"kinds": []}, content_type="multipart/form-data")
    assert response.status_code == 422 and html(response).select_one("#form-error")["data-error-code"] == "catalog.no_form"
    form = write_form(tmp_path, "audit_taman.xlsx", SURVEY)
    response = upload(admin_browser, form, attachments=[("daftar.txt", b"name,label\n")])
    assert response.status_code == 422
    assert "daftar.txt" in html(response).select_one("#attachments-error").get_text()  # beside the attachments
    assert releases(app) == {}


def test_publish_stores_the_version_and_logs_its_state_for_devices(app, admin_browser, tmp_path):
    upload(admin_browser, write_form(tmp_path, "audit_taman.xlsx", SURVEY), kinds=["ruang_bermain"])
    response = admin_browser.post(f"/checklists/{KEY}/publish")
    assert response.status_code == 303
    assert releases(app) == {KEY: "published"}
    with app.app_context(), write_transaction() as session:
        assert session.get(ChecklistVersion, KEY) is not None
        assert KEY in registry.installed(session)
        assert KEY in {c.key for c in registry.newest_for_kind("ruang_bermain", session)}
        release = session.get(ChecklistRelease, KEY)
        assert release.hlc is not None and release.published_at is not None
    assert checklist_changes(app, KEY) == [{"state": "published"}]
    assert admin_browser.post(f"/checklists/{KEY}/publish").status_code == 409  # once is enough


def test_retire_stops_new_audits_and_travels(app, admin_browser, tmp_path):
    upload(admin_browser, write_form(tmp_path, "audit_taman.xlsx", SURVEY), kinds=["ruang_bermain"])
    assert admin_browser.post(f"/checklists/{KEY}/retire").status_code == 409  # a draft is not published yet
    admin_browser.post(f"/checklists/{KEY}/publish")
    assert admin_browser.post(f"/checklists/{KEY}/retire").status_code == 303
    with app.app_context(), write_transaction() as session:
        assert KEY not in {c.key for c in registry.newest_for_kind("ruang_bermain", session)}
        assert KEY in registry.installed(session)  # drafts already started keep it
    assert checklist_changes(app, KEY) == [{"state": "published"}, {"state": "retired"}]
    page = html(admin_browser.client.get(f"/checklists/{KEY}/"))
    assert page.select_one("[data-state]")["data-state"] == "retired" and page.select_one("[data-retire]") is None


def test_a_shipped_version_can_be_published_and_retired(app, admin_browser):
    assert admin_browser.post("/checklists/rbra@1/publish").status_code == 303
    assert releases(app) == {"rbra@1": "published"}
    assert admin_browser.post("/checklists/rbra@1/retire").status_code == 303
    with app.app_context(), write_transaction() as session:
        assert "rbra@1" not in {c.key for c in registry.newest_for_kind("ruang_bermain", session)}


def test_the_list_shows_every_version_with_state_and_audits(app, admin_browser, tmp_path):
    upload(admin_browser, write_form(tmp_path, "audit_taman.xlsx", SURVEY))
    page = html(admin_browser.client.get("/checklists/"))
    rows = {row["data-version"]: row for row in page.select("tr[data-version]")}
    assert rows[KEY].select_one("[data-state]")["data-state"] == "draft"
    assert rows["rbra@1"].select_one("[data-state]")["data-state"] == "file"
    assert rows[KEY].select_one("[data-audits]").get_text(strip=True) == "0"


def test_unknown_version_is_not_found(admin_browser):
    assert admin_browser.client.get("/checklists/nothing@9/").status_code == 404
    assert admin_browser.post("/checklists/nothing@9/publish").status_code == 404


def test_the_catalog_is_for_admins_on_a_hub(app, auth, supervisor):
    auth.login("budi")
    assert auth.client.get("/checklists/").status_code == 403


def test_release_states_at_the_door_are_the_catalogs():
    assert schemas.RELEASE_STATES == TRAVELLING_STATES


# --- the release state in sync: catch-up, the merge, which devices hold it -----------------------------------


def published(app, admin_browser, tmp_path) -> None:
    """audit_taman@1 uploaded and published on the hub."""
    upload(admin_browser, write_form(tmp_path, "audit_taman.xlsx", SURVEY), kinds=["ruang_bermain"])
    assert admin_browser.post(f"/checklists/{KEY}/publish").status_code == 303


def release_change(app, state: str, hlc: str, origin: str, seq: int = 1):
    """A checklist change for audit_taman@1 carrying a release state, as another node would send it."""
    from sync.changes import Change
    from sync.documents import checklist_document

    with app.app_context(), write_transaction() as session:
        doc = checklist_document(session.get(ChecklistVersion, KEY), state)
    return Change(origin_id=origin, origin_seq=seq, kind="checklist", entity_id=KEY, hlc=hlc, payload=doc)


def test_flask_sync_publish_puts_a_missing_release_state_into_the_log(app, admin_browser, tmp_path):
    from sqlalchemy import delete

    from sync import publish

    published(app, admin_browser, tmp_path)
    with app.app_context(), write_transaction() as session:
        session.execute(delete(SyncChange).where(SyncChange.kind == "checklist", SyncChange.entity_id == KEY))
    with app.app_context(), write_transaction() as session:
        counts = publish.publish_state(session, checklists=registry.installed(session).values())
    assert counts["checklist"] >= 1
    assert checklist_changes(app, KEY) == [{"state": "published"}]
    with app.app_context(), write_transaction() as session:  # nothing new: nothing published again
        publish.publish_state(session, checklists=registry.installed(session).values())
    assert checklist_changes(app, KEY) == [{"state": "published"}]


def test_the_latest_state_wins_and_a_device_beneath_never_sets_one(app, admin_browser, tmp_path):
    from app.node import Device
    from sync.apply_records import apply_checklists

    published(app, admin_browser, tmp_path)
    above, beneath = str(uuid.uuid4()), uuid.uuid4()
    with app.app_context(), write_transaction() as session:
        session.add(Device(id=beneath, name="tablet-9", role="field"))
        mine = session.get(ChecklistRelease, KEY).hlc
    later = f"{int(mine[:16]) + 1000:016d}.0000"
    from_beneath = release_change(app, "retired", later, str(beneath))
    older = release_change(app, "retired", "0000000000001.0000", above)
    newer = release_change(app, "retired", later, above, 2)
    with app.app_context(), write_transaction() as session:
        apply_checklists(session, [from_beneath])
        assert session.get(ChecklistRelease, KEY).state == "published"  # from beneath: ignored
        apply_checklists(session, [older])
        assert session.get(ChecklistRelease, KEY).state == "published"  # older than the state held
        apply_checklists(session, [newer])
        assert session.get(ChecklistRelease, KEY).state == "retired"


def test_the_catalog_shows_which_devices_hold_a_published_version(app, admin_browser, tmp_path):
    from app.node import Device
    from sync import publish

    published(app, admin_browser, tmp_path)
    tablets = {name: uuid.uuid4() for name in ("tablet-1", "tablet-2")}
    with app.app_context(), write_transaction() as session:
        for name, device_id in tablets.items():
            session.add(Device(id=device_id, name=name, role="field", token_hash="0" * 64))
        seq = session.execute(select(SyncChange.local_seq).where(SyncChange.entity_id == KEY)).scalar_one()
        publish.note_pulled(session, tablets["tablet-1"], seq)
        publish.note_pulled(session, tablets["tablet-2"], seq - 1)
    page = html(admin_browser.client.get("/checklists/"))
    assert page.select_one(f'tr[data-version="{KEY}"] [data-holders]').get_text(strip=True) == "tablet-1"
    assert html(admin_browser.client.get(f"/checklists/{KEY}/")).select_one("[data-holders]").get_text(" ", strip=True) \
        .endswith("tablet-1")


def test_a_field_app_tablet_holds_the_versions_of_the_package_it_took(app, admin_browser, client, tmp_path,
                                                                       kota_serang):
    """Field-app tablets never pull: they take checklists in their package, and the catalog says which hold what."""
    from tests.test_field_package import enrolled, package

    published(app, admin_browser, tmp_path)
    took, idle = enrolled(app, "tablet-lapangan"), enrolled(app, "tablet-diam")
    assert package(client, took).status_code == 200
    page = html(admin_browser.client.get("/checklists/"))
    assert page.select_one(f'tr[data-version="{KEY}"] [data-holders]').get_text(strip=True) == "tablet-lapangan"
    assert idle  # enrolled, never took a package: holds nothing
    assert admin_browser.post(f"/checklists/{KEY}/retire").status_code == 303
    assert package(client, took).status_code == 200  # the next package no longer holds the retired version
    page = html(admin_browser.client.get("/checklists/"))
    assert page.select_one(f'tr[data-version="{KEY}"] [data-holders]').get_text(strip=True) == "belum ada"


def test_flask_checklists_list_shows_the_catalog_states(app, admin_browser, runner, tmp_path):
    from survey.cli import register

    if "checklists" not in app.cli.commands:
        register(app)
    published(app, admin_browser, tmp_path)
    upload(admin_browser, write_form(tmp_path, "audit_taman.xlsx", [*SURVEY, ["text", "catatan", "Catatan", "Notes"]]))
    lines = runner.invoke(args=["checklists", "list"]).output.splitlines()
    assert [line for line in lines if line.startswith("audit_taman@")] == [
        "audit_taman@1  ruang_bermain  2/3  Audit Taman  catalog: published",
        "audit_taman@2  all  2/4  Audit Taman  catalog: draft"]


def test_flask_sync_publish_includes_published_checklists(app, admin_browser, runner, tmp_path):
    published(app, admin_browser, tmp_path)
    result = runner.invoke(args=["sync", "publish"])
    assert result.exit_code == 0 and result.output.startswith("published ")
    assert checklist_changes(app, KEY) == [{"state": "published"}]


def test_a_version_downloads_as_an_xlsform_that_imports_back_as_the_same_checklist(app, admin_browser, tmp_path):
    upload(admin_browser, write_form(tmp_path, "audit_taman.xlsx", SURVEY), kinds=["ruang_bermain"])
    response = admin_browser.client.get(f"/checklists/{KEY}/xlsform")
    assert response.status_code == 200 and "audit_taman-v1.xlsx" in response.headers["Content-Disposition"]
    (tmp_path / "down").mkdir()
    downloaded = tmp_path / "down" / "audit_taman-v1.xlsx"
    downloaded.write_bytes(response.data)
    again = upload(admin_browser, downloaded, kinds=["ruang_bermain"])
    assert again.status_code == 200 and html(again).select_one("[data-same]")["data-same"] == KEY
    assert releases(app) == {KEY: "draft"}


def test_a_shipped_version_downloads_too(admin_browser):
    response = admin_browser.client.get("/checklists/rbra@1/xlsform")
    assert response.status_code == 200 and response.data[:2] == b"PK"
