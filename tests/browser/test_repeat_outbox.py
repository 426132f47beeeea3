"""An entry of a repeat is never removed while an answer inside the repeat waits in the outbox: removing renumbers
the later entries, and the waiting answer would land in another one."""

from __future__ import annotations

from tests.browser.test_audit_flow import GEO
from tests.support import ServerProcess
from tests.test_repeats import CHECKLIST


def test_removing_an_entry_waits_for_unsent_answers(tmp_path, tab_factory):
    server = ServerProcess(tmp_path)
    server.init()
    (server.instance / "checklists").mkdir(exist_ok=True)
    (server.instance / "checklists" / "alat-v1.yaml").write_text(CHECKLIST, encoding="utf-8")
    server.start()
    try:
        tab = tab_factory(server.url, "phone", geolocation=GEO, permissions=["geolocation"])
        page = tab.page
        tab.login("auditor")
        tab.goto("/facilities/?kind=ruang_bermain")
        page.locator("#results .row-link").first.click()
        page.click("a.start-audit")
        for box in page.locator("input[name=checklist]").all():
            if box.get_attribute("value") != "alat@1":
                box.uncheck()
        page.click("button[type=submit].btn.block")
        page.wait_for_selector("#position .pos-line")
        for number in (1, 2):
            page.click("button.repeat-add")
            page.wait_for_selector(f"[id='item-alat[{number}]/jenis']")
        page.route("**/answers/**", lambda route: route.abort())  # the network drops every save
        page.locator("[id='item-alat[2]/jenis'] label:has-text('Perosotan')").click()
        page.wait_for_selector("[id='fb-alat[2]/jenis'][data-state=unsent]")
        page.on("dialog", lambda dialog: dialog.accept())
        page.locator("[id='instance-alat[1]'] button.instance-remove").click()
        alert = page.locator("[id='repeat-alat'] [data-error-slot][role=alert]")
        alert.wait_for()
        assert "belum tersimpan" in alert.inner_text()
        assert page.locator("[id='repeat-alat'] fieldset.instance").count() == 2  # nothing removed
        tab.shot("repeat-remove-waits-phone-id")
        page.unroute("**/answers/**")
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_selector("[id='fb-alat[2]/jenis'] .saved")
        page.locator("[id='instance-alat[1]'] button.instance-remove").click()
        page.locator("[id='instance-alat[2]']").wait_for(state="detached")  # the last entry moved up into the first
        assert page.locator("[id='item-alat[1]/jenis'] input[value=perosotan]").is_checked()  # moved up, not lost
    finally:
        server.stop()
