"""An auditor at tablet size fills a complete RBRA and KTR audit: GPS from the browser, a real JPEG, submit."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from tests.support import ServerProcess, make_jpeg

GEO = {"latitude": -6.1125, "longitude": 106.1612, "accuracy": 9}


def open_facility(tab, name: str = "Taman Bermain RW 01", kecamatan: str = "36.73.01") -> None:
    tab.goto(f"/facilities/?kecamatan={kecamatan}&q=" + name.replace(" ", "+"))
    tab.page.locator("#results .row-link").first.click()
    tab.page.wait_for_load_state("networkidle")


def answer_everything(tab, photo_path) -> int:
    """Answer every shown unanswered item until none is left; relevance may reveal more each round."""
    page, total = tab.page, 0
    for _ in range(8):
        todo = page.locator("article.item:not(.answered)")
        count = todo.count()
        if count == 0:
            return total
        for index in range(count):
            item = todo.nth(0) if index == 0 else page.locator("article.item:not(.answered)").first
            if item.count() == 0:
                break
            kind = [c for c in item.get_attribute("class").split() if c.startswith("item-")][0][5:]
            before = page.locator("article.item.answered").count()
            if kind == "ynp":
                item.locator(".opt-ya").click()
            elif kind in ("select_one", "select_multiple"):
                item.locator(".choice").first.click()
            elif kind in ("integer", "decimal"):
                item.locator("input.num-input").fill("2")
                item.locator("input.num-input").dispatch_event("change")
            elif kind == "date":
                item.locator("input[type=date]").fill("2026-11-01")
                item.locator("input[type=date]").dispatch_event("change")
            elif kind == "text":
                item.locator("textarea[name=value]").fill("Kondisi baik, dicek bersama pengelola.")
                item.locator("textarea[name=value]").dispatch_event("change")
            elif kind == "photo":
                item.locator("input[type=file]").set_input_files(str(photo_path))
            # The item counts as answered when the server has stored it (saved mark or the card re-rendered).
            item_id = item.get_attribute("id")
            page.wait_for_function(
                "([id, kind]) => { const el = document.getElementById(id); return el && (el.querySelector('.saved') || kind === 'photo' && el.querySelector('.photos img')); }",
                arg=[item_id, kind])
            page.evaluate("id => document.getElementById(id).classList.add('answered')", item_id)
            total += 1
            assert page.locator("article.item.answered").count() >= before
    raise AssertionError("items kept appearing")


def start_ktr_audit(tab) -> str:
    """Open a facility and start a KTR-only audit; return the audit's URL."""
    open_facility(tab)
    tab.page.click("a.start-audit")
    tab.page.wait_for_load_state("networkidle")
    tab.page.uncheck("input[value='rbra@1']")
    tab.page.click("button[type=submit].btn.block")
    tab.page.wait_for_selector("#position .pos-line")
    return tab.page.url


def submit(tab) -> None:
    tab.page.click("text=" + ("Periksa & kirim"))
    tab.page.wait_for_load_state("networkidle")
    tab.page.click("button:has-text('Kirim audit')")
    tab.page.wait_for_load_state("networkidle")


@pytest.fixture
def photo_path(tmp_path):
    path = tmp_path / "IMG_20261120_091500.jpg"
    path.write_bytes(make_jpeg(1600, 1200))
    return path


def db_rows(server, sql: str, *args):
    with sqlite3.connect(server.instance / "pantau.db") as conn:
        return conn.execute(sql, args).fetchall()


def test_complete_rbra_and_ktr_audit_at_tablet_size(demo_server, tab_factory, photo_path):
    tab = tab_factory(demo_server.url, "tablet", geolocation=GEO, permissions=["geolocation"])
    tab.login("auditor")
    open_facility(tab)
    tab.page.click("a.start-audit")
    tab.page.wait_for_load_state("networkidle")
    tab.page.click("button[type=submit].btn.block")  # both checklists are ticked
    tab.page.wait_for_selector("#position .pos-line")  # the position is taken on opening
    answered = answer_everything(tab, photo_path)
    assert answered >= 30
    tab.shot("audit-rbra-filled-tablet-id")
    submit(tab)
    assert tab.page.locator(".result-card.result-memenuhi").count() == 1
    tab.shot("audit-rbra-submitted-tablet-id")

    tab.goto("/facilities/")
    tab.page.locator(".drafts a.row-link").first.click()  # the KTR draft waits on the home page
    tab.page.wait_for_selector("#position .pos-line")
    assert answer_everything(tab, photo_path) == 8
    submit(tab)
    assert tab.page.locator(".result-card.result-memenuhi").count() == 1
    tab.assert_clean()

    audits = db_rows(demo_server, "SELECT checklist_key, status, score, result, lat, lon, accuracy_m, position_source "
                                  "FROM audit ORDER BY checklist_key")
    assert [a[:4] for a in audits] == [("ktr@1", "submitted", 1.0, "memenuhi"), ("rbra@1", "submitted", 1.0, "memenuhi")]
    for audit in audits:
        assert audit[4:] == (pytest.approx(-6.1125), pytest.approx(106.1612), pytest.approx(9), "gps")
    sha = hashlib.sha256(photo_path.read_bytes()).hexdigest()
    assert db_rows(demo_server, "SELECT sha256, width, height FROM photo") == [(sha, 1600, 1200)]
    assert (demo_server.instance / "photos" / "original" / sha[:2] / f"{sha}.jpg").read_bytes() == photo_path.read_bytes()
    rbra_answers = db_rows(demo_server, "SELECT count(*) FROM answer JOIN audit ON audit.id = answer.audit_id "
                                        "WHERE checklist_key = 'rbra@1' AND value IS NOT NULL")[0][0]
    assert rbra_answers >= 30


@pytest.mark.slow
def test_killing_the_server_mid_audit_loses_no_answer(tmp_path, tab_factory):
    server = ServerProcess(tmp_path)
    server.init()
    server.start()
    try:
        tab = tab_factory(server.url, "tablet", geolocation=GEO, permissions=["geolocation"])
        tab.login("auditor")
        start_ktr_audit(tab)
        given = {"tanda_dilarang_merokok": "sebagian", "tidak_ada_yang_merokok": "ya", "tidak_ada_asbak": "tidak",
                 "tidak_ada_bau_asap": "tidak_berlaku"}
        for item, value in given.items():
            tab.page.locator(f"#item-{item} .opt-{value}").click()
            tab.page.wait_for_selector(f"#fb-{item} .saved")
        tab.page.locator("#item-tidak_ada_asbak summary").click()
        tab.page.locator("#note-tidak_ada_asbak").press_sequentially("Dua asbak di meja warung.")
        tab.page.wait_for_selector("#note-fb-tidak_ada_asbak .saved")
        audit_url = tab.page.url
        server.kill()  # mid-audit: no shutdown, no flush
        server.start()
        tab.page.goto(audit_url)
        for item, value in given.items():
            assert tab.page.locator(f"#item-{item} .opt-{value} input").is_checked(), item
        assert tab.page.input_value("#note-tidak_ada_asbak") == "Dua asbak di meja warung."
        assert tab.page.locator("#position .pos-line").count() == 1
    finally:
        server.stop()
    stored = dict(db_rows(server, "SELECT item_id, value FROM answer WHERE value IS NOT NULL"))
    assert stored == {k: f'"{v}"' for k, v in given.items()}
