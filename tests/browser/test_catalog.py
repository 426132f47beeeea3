"""The checklist catalog in a browser on a demo hub: upload, refusal beside the control, report, the phone
preview in both languages, publish and retire, at tablet and phone size (screenshots in tests/screenshots)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.support import ServerProcess
from tests.test_checklists_cli import SURVEY, write_form


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory):
    """A demo hub (admin "admin", password "demo"), serving."""
    folder = tmp_path_factory.mktemp("catalog-hub")
    server = ServerProcess(folder / "hub", env={"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": "catalog-browser-" + "s" * 32,
                                                "PANTAU_SECURE_COOKIES": "0"})
    server.instance.mkdir(parents=True)
    server.init()
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_upload_preview_publish_and_retire(demo_hub, tab_factory, tmp_path, size):
    checklist_id = f"audit_taman_{size}"
    form = write_form(tmp_path, f"{checklist_id}.xlsx", SURVEY,
                      settings_rows=[["form_id", "version", "form_title"], [checklist_id, "2026.1", "Audit Taman"]])
    broken = write_form(tmp_path, "rusak.xlsx", [*SURVEY, ["frobnicate", "x", "X", "X"]],
                        settings_rows=[["form_id", "version", "form_title"], ["rusak", "1", "Rusak"]])
    tab = tab_factory(demo_hub.url, size)
    tab.login("admin")
    tab.goto("/checklists/")
    assert tab.page.locator("tr[data-version='rbra@1']").count() == 1
    tab.shot(f"catalog-list-{size}-id")
    tab.page.screenshot(path=str(SCREENSHOTS / f"catalog-list-{size}-id-viewport.png"))

    tab.goto("/checklists/upload")
    tab.page.set_input_files("#form", str(broken))
    tab.page.click("#upload-form button[type=submit]")
    error = tab.page.locator("#form-error")
    assert error.is_visible() and "frobnicate" in error.inner_text()
    tab.shot(f"catalog-refused-{size}-id")
    assert [e for e in tab.errors if "422" not in e] == []  # the refusal's status, and nothing else
    tab.errors.clear()

    tab.page.set_input_files("#form", str(form))
    tab.page.check("input[name=kinds][value=ruang_bermain]")
    tab.page.click("#upload-form button[type=submit]")
    tab.page.wait_for_url(f"**/checklists/{checklist_id}@1/?imported=1")
    assert tab.page.locator("[data-state]").first.get_attribute("data-state") == "draft"
    assert tab.page.locator("[data-label]").first.inner_text() == "2026.1"
    frames = {lang: tab.page.frame_locator(f"iframe[data-preview={lang}]") for lang in ("id", "en")}
    frames["id"].locator("text=Ada pagar?").wait_for()
    frames["en"].locator("text=Is there a fence?").wait_for()
    box = tab.page.locator("iframe[data-preview=id]").bounding_box()
    assert box["width"] == 390
    tab.page.locator("#preview").scroll_into_view_if_needed()
    tab.shot(f"catalog-version-{size}-id")

    tab.page.click("[data-publish]")
    tab.page.wait_for_load_state("networkidle")
    assert tab.page.locator("[data-state]").first.get_attribute("data-state") == "published"
    tab.set_language("en")
    tab.shot(f"catalog-published-{size}-en")
    tab.page.click("[data-retire]")
    tab.page.wait_for_load_state("networkidle")
    assert tab.page.locator("[data-state]").first.get_attribute("data-state") == "retired"
    tab.goto("/checklists/")
    tab.shot(f"catalog-list-{size}-en")
    tab.set_language("id")
    tab.assert_clean()
