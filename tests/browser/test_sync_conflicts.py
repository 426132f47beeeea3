"""The hub's conflict screen in Chromium: a cloned tablet sent one audit twice with other answers; the
supervisor compares the versions and keeps the other one as a correction."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from app.cli_support import write_transaction
from survey.facilities.models import Facility
from tests.support import make_jpeg
from tests.sync_corpus import ValidBundle, mint_as
from tests.test_sync_api import API, push_body
from tests.test_sync_e2e import hub_app, prepared_hub


@pytest.fixture
def hub_with_conflict(tmp_path):
    """A hub (demo data of Kota Serang) where tablet-1 and its clone sent one KTR audit id with other answers."""
    from survey.checklist import dump_checklist_yaml
    from survey.registry import installed
    from sync import service

    hub = prepared_hub(tmp_path / "hub", supervisor=True, publish=False)
    app = hub_app(hub)
    tablets = []
    with app.app_context(), write_transaction() as session:
        for name, device_id in (("tablet-1", "11111111-0000-4000-8000-000000000001"),
                                ("tablet-1b", "ffffffff-0000-4000-8000-000000000001")):
            pending, code = service.register_device(session, name, ["36.73.01"])
            mint_as(session, pending, device_id)
            tablets.append((device_id, service.enroll(session, code)))
        facility = session.execute(select(Facility.id).where(Facility.kecamatan_code == "36.73.01")
                                   .order_by(Facility.name)).scalars().first()
        checklist = installed()["ktr@1"]
    (device_a, answer_a), (device_b, answer_b) = tablets
    ours = ValidBundle.for_checklist(tmp_path, checklist, dump_checklist_yaml(checklist), device_id=device_a,
                                     hub_id=answer_a["hub_id"], key=answer_a["device_key"], facility_id=str(facility),
                                     auditor="siti", photo=make_jpeg(), max_photo_bytes=25 * 1024 * 1024)
    client = app.test_client()
    auth_a, auth_b = ({"Authorization": f"Bearer {a['token']}"} for a in (answer_a, answer_b))
    assert client.put(f"{API}/photos/{ours.photo_sha}", data=ours.photo, headers=auth_a).status_code == 201
    assert client.post(f"{API}/push", json=push_body(ours.entries()), headers=auth_a).status_code == 200
    theirs = replace(ours, device_id=device_b)
    answers = {item: {"value": "ya", "note": None} for item in ours.answer_items}
    answers[ours.answer_items[0]] = {"value": "tidak", "note": "Ada puntung rokok di dekat ayunan"}
    answers[ours.answer_items[2]] = {"value": "sebagian", "note": None}
    change = theirs.audit_change(2, answers=answers, score=0.71, result="belum_memenuhi")
    pushed = client.post(f"{API}/push", json=push_body([(1, theirs.checklist_change(1)), (2, change)]), headers=auth_b)
    assert pushed.get_json()["conflicts"] == 1
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    hub.start()
    yield hub, ours.audit_id
    hub.stop()


def test_supervisor_compares_the_versions_and_keeps_the_other_one(hub_with_conflict, tab_factory):
    hub, audit_id = hub_with_conflict
    for size in ("tablet", "phone"):
        for language in ("id", "en"):
            tab = tab_factory(hub.url, size)
            tab.login("budi", "kata-sandi-budi")
            tab.set_language(language)
            tab.goto("/conflicts/")
            table = tab.page.locator("table.compare")
            assert table.count() == 1
            assert table.locator("td.differs").count() >= 3  # the result and two answers
            assert "puntung" in table.inner_text()
            tab.shot(f"sync-conflicts-{size}-{language}")
            for page in ("reviews", "devices"):  # the other hub pages, at the same sizes and languages
                tab.goto(f"/{page}/")
                assert tab.page.evaluate("document.documentElement.scrollWidth") <= tab.page.viewport_size["width"]
                tab.shot(f"sync-{page}-{size}-{language}")
            tab.assert_clean()
    tab.goto("/conflicts/")
    tab.page.click("form.resolve button[value=other]")
    tab.page.wait_for_load_state("networkidle")
    assert "/audits/" in tab.page.url and audit_id not in tab.page.url  # the new correction
    assert tab.page.locator(".notice.success").count() == 1
    tab.shot("sync-conflict-kept-other-phone-en")
    tab.goto("/conflicts/")
    assert tab.page.locator("form.resolve").count() == 0
    tab.assert_clean()
