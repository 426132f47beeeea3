"""Nothing typed is lost on the checklist page: the server stopped mid-audit, a reload while answers are
unsent, an out-of-range number, and two tabs on one draft (Debian Chromium, Playwright)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.browser.test_audit_flow import GEO, open_facility
from tests.support import ServerProcess

# Five answers of different kinds, all shown before anything is answered except jumlah_peralatan
# (revealed by ada_peralatan_bermain = ya, answered while the server is up).
FIVE = {"jenis_ruang_bermain": "luar_ruang", "jauh_dari_sumber_bahaya": "ya", "ruang_dapat_digunakan": "sebagian",
        "jumlah_peralatan": "12", "catatan_umum": "Ayunan berkarat, pagar utuh."}
NOTE = "Pagar utuh, sungai 300 m di utara."
UNSENT = "[data-state=unsent]"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A demo server this module may stop and start again on the same port and instance."""
    process = ServerProcess(tmp_path_factory.mktemp("outbox"))
    process.init()
    process.start()
    yield process
    process.stop()


def stored_answers(server, audit_id: str) -> dict:
    with sqlite3.connect(server.instance / "pantau.db") as conn:
        rows = conn.execute("SELECT item_id, value FROM answer WHERE replace(audit_id, '-', '') = ? "
                            "AND value IS NOT NULL", (audit_id.replace("-", ""),)).fetchall()
    return {item: json.loads(value) if isinstance(value, str) else value for item, value in rows}


def stored_note(server, audit_id: str, item: str) -> str | None:
    with sqlite3.connect(server.instance / "pantau.db") as conn:
        row = conn.execute("SELECT note FROM answer WHERE replace(audit_id, '-', '') = ? AND item_id = ?",
                           (audit_id.replace("-", ""), item)).fetchone()
    return row[0] if row else None


def start_rbra(tab, facility: str, kecamatan: str = "36.73.01") -> str:
    """Start an RBRA audit on a demo playground (one per test: a second start resumes the draft); its id."""
    tab.login("auditor")
    open_facility(tab, facility, kecamatan)
    tab.page.click("a.start-audit")
    tab.page.wait_for_load_state("networkidle")
    tab.page.uncheck("input[value='ktr@1']")
    tab.page.click("button[type=submit].btn.block")
    tab.page.wait_for_selector("#position .pos-line")
    return tab.page.url.rstrip("/").rsplit("/", 1)[1]


def give(page, item: str, value: str) -> None:
    """Answer like an auditor: tap a choice, or type and leave the field."""
    card = page.locator(f"#item-{item}")
    if item in ("jumlah_peralatan", "catatan_umum"):
        field = card.locator("[name=value]")
        field.fill(value)
        field.press("Tab")
    else:
        card.locator(f"label:has(input[value='{value}'])").click()


def shown_value(page, item: str) -> str:
    card = page.locator(f"#item-{item}")
    if item in ("jumlah_peralatan", "catatan_umum"):
        return card.locator("[name=value]").input_value()
    return card.locator("input[name=value]:checked").get_attribute("value")


def own_errors(tab) -> list[str]:
    """Console errors other than the failed and refused requests these tests cause on purpose."""
    return [e for e in tab.errors if "Failed to load resource" not in e]


def test_answers_given_while_the_server_is_down_are_kept_and_sent_when_it_is_back(server, tab_factory):
    tab = tab_factory(server.url, "tablet", geolocation=GEO, permissions=["geolocation"])
    page = tab.page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))  # "leave page?" while unsent
    audit_id = start_rbra(tab, "Taman Bermain RW 01")
    give(page, "ada_peralatan_bermain", "ya")
    page.wait_for_selector("#fb-ada_peralatan_bermain .saved")
    page.wait_for_selector("#item-jumlah_peralatan input[name=value]")

    server.stop()
    for item, value in FIVE.items():
        give(page, item, value)
        page.wait_for_selector(f"#fb-{item}{UNSENT}")
    for item in FIVE:
        feedback = page.locator(f"#fb-{item}")
        assert "Belum tersimpan" in feedback.inner_text()
        assert page.locator(f"#item-{item} .saved").count() == 0
    page.locator("#item-jauh_dari_sumber_bahaya summary").click()
    page.locator("#note-jauh_dari_sumber_bahaya").fill(NOTE)
    page.locator("#note-jauh_dari_sumber_bahaya").press("Tab")
    page.wait_for_selector(f"#note-fb-jauh_dari_sumber_bahaya{UNSENT}")
    assert "Belum tersimpan: 6" in page.locator("[data-outbox-summary]").inner_text()
    tab.shot("outbox-unsent-tablet-id")

    # The page is reloaded while nothing could be sent (answers blocked): every value comes back, unsent.
    page.route("**/answers/**", lambda route: route.abort())
    server.start()
    page.reload()
    assert dialogs == ["beforeunload"]
    page.wait_for_selector(f"#fb-catatan_umum{UNSENT}")
    for item, value in FIVE.items():
        assert shown_value(page, item) == value, item
        assert page.locator(f"#fb-{item}{UNSENT}").count() == 1, item
    assert page.locator("#note-jauh_dari_sumber_bahaya").input_value() == NOTE  # unfolded, as typed
    assert page.locator(f"#note-fb-jauh_dari_sumber_bahaya{UNSENT}").count() == 1
    assert stored_answers(server, audit_id) == {"ada_peralatan_bermain": "ya"}

    # The app answers again: all five are acknowledged without anything re-entered.
    page.unroute("**/answers/**")
    for item in FIVE:
        page.wait_for_selector(f"#fb-{item} .saved", timeout=25000)
    page.wait_for_selector("#note-fb-jauh_dari_sumber_bahaya .saved")
    assert page.locator("[data-outbox-summary]").is_hidden()
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('pantau.outbox.') "
                         "&& !k.startsWith('pantau.outbox.alive.')).length") == 0
    expected = {**FIVE, "jumlah_peralatan": 12, "ada_peralatan_bermain": "ya"}
    assert stored_answers(server, audit_id) == expected
    assert stored_note(server, audit_id, "jauh_dari_sumber_bahaya") == NOTE
    page.reload()
    for item, value in FIVE.items():
        assert shown_value(page, item) == value, item
    assert page.locator(UNSENT).count() == 0
    assert not tab.foreign and not own_errors(tab)


def test_an_out_of_range_number_is_red_never_saved_and_not_counted(server, tab_factory):
    tab = tab_factory(server.url, "phone", geolocation=GEO, permissions=["geolocation"])
    page = tab.page
    start_rbra(tab, "RTH Taman")
    give(page, "ada_peralatan_bermain", "ya")
    page.wait_for_selector("#fb-ada_peralatan_bermain .saved")
    give(page, "jumlah_peralatan", "12")
    page.wait_for_selector("#fb-jumlah_peralatan .saved")
    counted = int(page.locator("#overall-progress").inner_text().split()[0])
    give(page, "jumlah_peralatan", "500")
    page.wait_for_selector("#fb-jumlah_peralatan .error-text")
    feedback = page.locator("#fb-jumlah_peralatan")
    assert "(200)" in feedback.locator(".error-text").inner_text()
    assert feedback.locator(".saved").count() == 0
    assert "has-problem" in page.locator("#item-jumlah_peralatan").get_attribute("class")
    assert int(page.locator("#overall-progress").inner_text().split()[0]) == counted - 1
    tab.shot("outbox-constraint-phone-id")
    page.reload()  # kept as typed, still red, still not counted
    assert page.locator("#item-jumlah_peralatan input[name=value]").input_value() == "500"
    assert page.locator("#fb-jumlah_peralatan .error-text").count() == 1
    assert page.locator("#fb-jumlah_peralatan .saved").count() == 0
    assert int(page.locator("#overall-progress").inner_text().split()[0]) == counted - 1
    # A refusal the server answers (422: too long) is shown beside the item in its words and not retried;
    # a 5xx is a failure: kept, not yet saved.
    page.route("**/answers/catatan_umum", lambda route: route.continue_(post_data="value=" + "x" * 10001))
    give(page, "catatan_umum", "Catatan panjang")
    page.wait_for_selector("#fb-catatan_umum[data-state=refused]")
    assert "10.000" in page.locator("#fb-catatan_umum .error-text").inner_text()
    assert page.locator("#item-catatan_umum .saved").count() == 0
    page.route("**/answers/jauh_dari_sumber_bahaya", lambda route: route.fulfill(status=503, body="busy"))
    give(page, "jauh_dari_sumber_bahaya", "ya")
    page.wait_for_selector(f"#fb-jauh_dari_sumber_bahaya{UNSENT}")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.includes('.answer.')).map(k => k.split('.').pop())") \
        == ["jauh_dari_sumber_bahaya"]
    assert not tab.foreign and not own_errors(tab)


def test_a_stale_tab_is_refused_and_shows_the_newer_answer(server, tab_factory):
    first = tab_factory(server.url, "tablet", geolocation=GEO, permissions=["geolocation"])
    audit_id = start_rbra(first, "RPTRA")
    second = first.context.new_page()  # the same auditor, a second tab on the same draft
    second.goto(first.page.url)
    give(first.page, "jauh_dari_sumber_bahaya", "ya")
    first.page.wait_for_selector("#fb-jauh_dari_sumber_bahaya .saved")

    give(second, "jauh_dari_sumber_bahaya", "tidak")  # still showing the old state
    second.wait_for_selector("#fb-jauh_dari_sumber_bahaya .stale-text")
    assert "Tab atau jendela lain" in second.locator("#fb-jauh_dari_sumber_bahaya").inner_text()
    assert shown_value(second, "jauh_dari_sumber_bahaya") == "ya"
    assert second.locator("#fb-jauh_dari_sumber_bahaya .saved").count() == 0
    assert stored_answers(server, audit_id)["jauh_dari_sumber_bahaya"] == "ya"
    assert second.evaluate("Object.keys(localStorage).filter(k => k.includes('.answer.')).length") == 0
    # The refreshed tab builds on the newer version: its next answer is taken.
    give(second, "jauh_dari_sumber_bahaya", "tidak")
    second.wait_for_selector("#fb-jauh_dari_sumber_bahaya .saved")
    assert stored_answers(server, audit_id)["jauh_dari_sumber_bahaya"] == "tidak"
    assert not first.foreign and not own_errors(first)


def test_a_lost_reply_a_duplicated_tab_and_submit_wait_for_the_outbox(server, tab_factory):
    tab = tab_factory(server.url, "tablet", geolocation=GEO, permissions=["geolocation"])
    tab.login("auditor")
    tab.goto("/facilities/?q=RPTRA+Cipocok")
    tab.page.locator("#results .row-link").first.click()
    tab.page.click("a.start-audit")
    tab.page.uncheck("input[value='ktr@1']")
    tab.page.click("button[type=submit].btn.block")
    tab.page.wait_for_selector("#position .pos-line")
    page, audit_id = tab.page, tab.page.url.rstrip("/").rsplit("/", 1)[1]
    item = "jauh_dari_sumber_bahaya"

    # The server stores "ya" but its reply never arrives; the auditor changes to "tidak" before the resend.
    def lost_reply(route):
        try:
            route.fetch()
            route.abort()
        except PlaywrightError:  # unroute below released this resend meanwhile: it went through, as it may
            pass
    page.route(f"**/answers/{item}", lost_reply)
    give(page, item, "ya")
    page.wait_for_selector(f"#fb-{item}{UNSENT}")
    page.unroute(f"**/answers/{item}")
    give(page, item, "tidak")
    page.wait_for_selector(f"#fb-{item} .saved")
    assert page.locator(f"#fb-{item} .stale-text").count() == 0, "its own lost save is not another tab's change"
    assert stored_answers(server, audit_id)[item] == "tidak" and shown_value(page, item) == "tidak"

    # "Duplicate tab" copies sessionStorage, so the copy starts with the same tab id: it takes a new one.
    own_id = page.evaluate("sessionStorage.getItem('pantau.tab')")
    copy = tab.context.new_page()
    copy.add_init_script(f"sessionStorage.setItem('pantau.tab', {json.dumps(own_id)})")
    copy.goto(page.url)
    copy.wait_for_function("id => sessionStorage.getItem('pantau.tab') !== id", arg=own_id)

    # An answer still waiting on this device holds the submit button on the review page.
    page.route("**/answers/ruang_dapat_digunakan", lambda route: route.abort())
    give(page, "ruang_dapat_digunakan", "ya")
    page.wait_for_selector(f"#fb-ruang_dapat_digunakan{UNSENT}")
    copy.goto(f"{server.url}/audits/{audit_id}/review")
    assert copy.get_by_text("Beberapa jawaban di perangkat ini belum sampai").is_visible()
    assert copy.get_by_role("button", name="Kirim audit").is_disabled()
    assert not tab.foreign and not own_errors(tab)


def test_an_expired_form_token_is_renewed_and_the_answer_saved(server, tab_factory):
    """The page stayed open past its form token's lifetime: the answer is saved all the same (the page takes a
    new token from a fresh copy of itself); a token refused again is said in the server's words, kept unsent."""
    tab = tab_factory(server.url, "phone", geolocation=GEO, permissions=["geolocation"])
    page = tab.page
    audit_id = start_rbra(tab, "RTH Taman", "36.73.05")
    expired = "expired-" + "x" * 40
    page.evaluate("""token => {
        document.body.setAttribute('hx-headers', JSON.stringify({'X-CSRFToken': token}));
        document.querySelectorAll('input[name=csrf_token]').forEach(input => { input.value = token; });
    }""", expired)

    give(page, "jauh_dari_sumber_bahaya", "ya")
    page.wait_for_selector("#fb-jauh_dari_sumber_bahaya .saved")
    assert stored_answers(server, audit_id)["jauh_dari_sumber_bahaya"] == "ya"
    assert json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"] != expired
    give(page, "ruang_dapat_digunakan", "sebagian")  # the renewed token serves the next answers too
    page.wait_for_selector("#fb-ruang_dapat_digunakan .saved")
    assert stored_answers(server, audit_id)["ruang_dapat_digunakan"] == "sebagian"

    refusal = ('<p class="notice error" role="alert" data-error-code="request.csrf">'
               "Formulir sesi Anda kedaluwarsa. Muat ulang halaman dan coba lagi.</p>")
    page.route("**/answers/jenis_ruang_bermain",
               lambda route: route.fulfill(status=400, body=refusal, content_type="text/html"))
    give(page, "jenis_ruang_bermain", "luar_ruang")
    page.wait_for_selector(f"#fb-jenis_ruang_bermain{UNSENT}")
    assert "Muat ulang halaman" in page.locator("#fb-jenis_ruang_bermain").inner_text()
    assert page.locator("#fb-jenis_ruang_bermain .saved").count() == 0
    tab.shot("outbox-token-refused-phone-id")
    assert not tab.foreign and not own_errors(tab)
