"""Resolving conflicts on a hub: the screen shows what differs; keeping the other version of an audit
makes a correction that syncs; a note closes a conflict; bad choices are refused and change nothing."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import select

from app.auditlog import AuditLogEntry
from app.extensions import db
from survey.audits.models import Answer, Audit, GpsReading
from app.node import Device
from sync.models import SyncChange, SyncConflict
from tests.support import html
from tests.sync_corpus import mint_as
from tests.test_sync_api import API, Tablet, app_config, push_body, register, state, tablet, valid  # noqa: F401

RECORDS = ("sync_change", "audit", "answer", "gps_reading", "sync_conflict", "audit_log")


@pytest.fixture
def clone(app) -> Tablet:
    """Tablet-1b: a tablet cloned from tablet-1, enrolled on its own, that re-used its audit id."""
    from app.cli_support import write_transaction
    from sync import service

    device_id = "ffffffff" + str(uuid.uuid4())[8:]  # sorts after tablet-1: tablet-1's version is the kept one
    code = register(app, "tablet-1b")
    with app.app_context(), write_transaction() as session:
        pending = session.execute(select(Device).where(Device.name == "tablet-1b")).scalar_one()
        mint_as(session, pending, device_id)
        answer = service.enroll(session, code)
    return Tablet(device_id, answer["token"], answer["device_key"], answer["hub_id"])


@pytest.fixture
def conflict(app, client, tablet, clone, valid) -> str:
    """Tablet-1 sent Siti's KTR audit; the clone sent the same audit id with two answers 'tidak' and a
    lower score. The hub keeps tablet-1's (the smaller key) and records the clone's as a conflict."""
    assert client.put(f"{API}/photos/{valid.photo_sha}", data=valid.photo, headers=tablet.auth).status_code == 201
    assert client.post(f"{API}/push", json=push_body(valid.entries()), headers=tablet.auth).status_code == 200
    theirs = replace(valid, device_id=clone.device_id)
    answers = {item: {"value": "ya", "note": None} for item in valid.answer_items}
    answers[valid.answer_items[0]] = {"value": "tidak", "note": "puntung di halaman"}
    answers[valid.answer_items[1]] = {"value": "tidak", "note": None}
    change = theirs.audit_change(2, answers=answers, score=0.71, result="belum_memenuhi")
    pushed = client.post(f"{API}/push", json=push_body([(1, theirs.checklist_change(1)), (2, change)]), headers=clone.auth)
    assert pushed.status_code == 200 and pushed.get_json()["conflicts"] == 1
    with app.app_context():
        row = db.session.execute(select(SyncConflict).where(SyncConflict.kind == "audit")).scalar_one()
        assert (row.detail["kept"], row.detail["other"]) == (f"{tablet.device_id}:2", f"{clone.device_id}:2")
        return str(row.id)


def signed_in(auth, supervisor):
    auth.login(supervisor)
    return auth


def test_the_screen_shows_both_versions_and_what_differs(app, auth, supervisor, conflict, valid):
    signed_in(auth, supervisor)
    page = html(auth.client.get("/conflicts/"))
    table = page.select_one("table.compare")
    assert table is not None
    rows = {tr.th.get_text(" ", strip=True): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in table.tbody.find_all("tr")}
    differing = [cells for label, cells in rows.items() if "puntung di halaman" in " ".join(cells)]
    assert len(differing) == 1
    assert sum(1 for tr in table.tbody.find_all("tr") if tr.select("td.differs")) >= 3  # result + two answers
    buttons = {b["value"] for b in page.select("form.resolve button[name=keep]")}
    assert buttons == {"kept", "other"}


def test_keeping_the_other_version_makes_a_correction_that_syncs(app, auth, supervisor, conflict, valid, clone, tablet):
    signed_in(auth, supervisor)
    response = auth.post(f"/conflicts/{conflict}/resolve", {"keep": "other", "note": "tablet 1b benar"})
    assert response.status_code == 302
    with app.app_context():
        kept = db.session.get(Audit, uuid.UUID(valid.audit_id))
        revision = db.session.execute(select(Audit).where(Audit.revision_of == kept.id)).scalar_one()
        assert (revision.status, revision.revision, revision.result, revision.score) == ("submitted", 2, "belum_memenuhi", 0.71)
        assert revision.review_status is None  # waits for review like any correction
        answers = {a.item_id: (a.value, a.note) for a in db.session.execute(
            select(Answer).where(Answer.audit_id == revision.id)).scalars()}
        assert answers[valid.answer_items[0]] == ("tidak", "puntung di halaman")
        readings = db.session.execute(select(GpsReading).where(GpsReading.audit_id == revision.id)).scalars().all()
        assert len(readings) == 1 and str(readings[0].id) != valid.reading_id
        change = db.session.execute(select(SyncChange).where(SyncChange.kind == "audit",
                                                             SyncChange.entity_id == str(revision.id))).scalar_one()
        assert change.payload["revision_of"] == valid.audit_id and change.scope == "36.73.01"
        row = db.session.get(SyncConflict, uuid.UUID(conflict))
        assert row.resolved_at is not None and row.resolution == "tablet 1b benar"
        actions = set(db.session.execute(select(AuditLogEntry.action)).scalars())
        assert {"keep_other_version", "resolve"} <= actions
        # The correction goes up the chain like any audit (field devices never receive audits).
        from sync.service import outgoing

        upward = {change.entity_id for _, change in outgoing(db.session, uuid.uuid4(), 0)[0] if change.kind == "audit"}
        assert str(revision.id) in upward


def test_keeping_the_kept_version_closes_it_with_the_note(app, auth, supervisor, conflict):
    signed_in(auth, supervisor)
    auth.post(f"/conflicts/{conflict}/resolve", {"keep": "kept", "note": "salinan tablet, abaikan"})
    with app.app_context():
        row = db.session.get(SyncConflict, uuid.UUID(conflict))
        assert (row.resolved_by, row.resolution) == ("budi", "salinan tablet, abaikan")
        assert db.session.execute(select(Audit).where(Audit.revision_of.is_not(None))).first() is None


def _resolve_twice(app, conflict):
    with app.app_context():
        row = db.session.get(SyncConflict, uuid.UUID(conflict))
        row.resolved_at, row.resolved_by, row.resolution = row.created_at, "budi", "-"
        db.session.commit()


def _revised_since(app, conflict):
    from app.auth.models import User

    with app.app_context():
        row = db.session.get(SyncConflict, uuid.UUID(conflict))
        kept = db.session.get(Audit, uuid.UUID(row.entity_id))
        siti = db.session.execute(select(User).where(User.username == "siti")).scalar_one()
        db.session.add(Audit(facility_id=kept.facility_id, checklist_key=kept.checklist_key, status="submitted",
                             revision=2, revision_of=kept.id, auditor_id=siti.id))
        db.session.commit()


def _photo_gone(app, conflict):
    from pathlib import Path

    for path in (Path(app.config["DATA_DIR"]) / "photos" / "original").rglob("*.jpg"):
        path.unlink()


@pytest.mark.parametrize("form, prepare, status, code", [
    ({"keep": "other"}, _resolve_twice, 409, "conflict.resolved"),
    ({"keep": "other"}, _revised_since, 409, "conflict.already_revised"),
    ({"keep": "other"}, _photo_gone, 422, "sync.photo_missing"),
    ({"keep": "kept"}, _resolve_twice, 409, "conflict.resolved"),
], ids=["already-resolved", "revised-since", "photo-missing", "note-on-resolved"])
def test_refused_and_nothing_changes(app, auth, supervisor, conflict, form, prepare, status, code):
    signed_in(auth, supervisor)
    prepare(app, conflict)
    before = state(app, RECORDS)
    response = auth.post(f"/conflicts/{conflict}/resolve", form, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert code in response.get_data(as_text=True)
    assert state(app, RECORDS) == before


def test_a_refused_resolution_shows_the_page_again_with_the_reason_and_the_note(app, auth, supervisor, conflict):
    signed_in(auth, supervisor)
    _photo_gone(app, conflict)
    response = auth.post(f"/conflicts/{conflict}/resolve", {"keep": "other", "note": "Foto tertinggal di tablet"})
    assert response.status_code == 422
    page = html(response)
    assert page.select_one("[role=alert][data-error-code='sync.photo_missing']") is not None
    assert page.select_one(f"#note-{conflict}")["value"] == "Foto tertinggal di tablet"


@pytest.mark.parametrize("path", ["/conflicts/not-a-uuid/resolve", "/conflicts/5f0c3a52-2d7e-4c1a-9b1e-0d6f2a7c4e11/resolve"])
def test_unknown_conflict_is_not_found(app, auth, supervisor, conflict, path):
    signed_in(auth, supervisor)
    assert auth.post(path, {"keep": "kept"}).status_code == 404


def test_auditors_cannot_resolve(app, auth, auditor, conflict):
    auth.login(auditor)
    before = state(app, RECORDS)
    assert auth.post(f"/conflicts/{conflict}/resolve", {"keep": "other"}).status_code in (302, 403)
    assert state(app, RECORDS) == before


def test_devices_page_says_what_each_device_sent(app, auth, supervisor, conflict, tablet, clone):
    signed_in(auth, supervisor)
    page = html(auth.client.get("/devices/"))
    sent = {row.th.get_text(" ", strip=True).split()[0]: row.select_one("[data-sent]") for row in page.select("tbody tr")}
    assert sent["tablet-1"]["data-sent"] == "1" and "1 audit" in sent["tablet-1"].get_text()
    assert sent["tablet-1b"]["data-sent"] == "0"  # its version is the conflict's other version, not an audit here
