"""Answers carry versions (a second tab's stale save is refused, 409) and an invalid answer is kept but never counted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auditlog import AuditLogEntry
from survey import registry
from survey.audits.models import Answer, Audit
from survey.scoring import progress
from tests.support import html
from tests.test_audits import query, scalar, start


def save(auth, audit_id: str, item_id: str, value, base=None):
    data = {"value": value}
    if base is not None:
        data["base_version"] = str(base)
    return auth.post(f"/audits/{audit_id}/answers/{item_id}", data, headers={"HX-Request": "true"})


def stored(app, item_id: str):
    return query(app, select(Answer.value, Answer.version).where(Answer.item_id == item_id)).one()


@pytest.fixture
def signed_in(auth, auditor):
    auth.login("siti")
    return auth


@pytest.fixture
def ktr(signed_in, facility) -> str:
    return start(signed_in, facility, "ktr@1")


def test_the_page_renders_each_answers_version_into_its_form(signed_in, ktr):
    assert html(signed_in.client.get(f"/audits/{ktr}")).select_one(
        "#item-tidak_ada_asbak [data-base-version]")["value"] == "0"
    fragment = html(save(signed_in, ktr, "tidak_ada_asbak", "ya", base=0))
    assert fragment.select_one("#fb-tidak_ada_asbak")["data-version"] == "1"
    assert html(signed_in.client.get(f"/audits/{ktr}")).select_one(
        "#item-tidak_ada_asbak [data-base-version]")["value"] == "1"


def test_each_change_of_value_bumps_the_version_and_a_repeat_does_not(app, signed_in, ktr):
    save(signed_in, ktr, "tidak_ada_asbak", "ya", base=0)
    save(signed_in, ktr, "tidak_ada_asbak", "tidak", base=1)
    assert stored(app, "tidak_ada_asbak") == ("tidak", 2)
    save(signed_in, ktr, "tidak_ada_asbak", "tidak", base=2)
    assert stored(app, "tidak_ada_asbak") == ("tidak", 2)


def test_a_stale_save_is_refused_with_409_and_the_stored_value_shown(app, signed_in, ktr):
    """Tab A and tab B both show version 0; A answers ya, then B (still at 0) answers tidak."""
    save(signed_in, ktr, "tidak_ada_asbak", "ya", base=0)
    logged = len(query(app, select(AuditLogEntry.id).where(AuditLogEntry.action == "answer")).all())
    response = save(signed_in, ktr, "tidak_ada_asbak", "tidak", base=0)
    assert response.status_code == 409
    assert response.headers["X-Problem-Code"] == "answer.stale"
    card = html(response).select_one("#item-tidak_ada_asbak")
    assert card.select_one(".opt-ya input").has_attr("checked")  # the newer value, not B's
    assert not card.select_one(".opt-tidak input").has_attr("checked")
    assert card.select_one("[data-base-version]")["value"] == "1"
    assert card.select_one(".stale-text").get_text().startswith("Tab atau jendela lain") and not card.select_one(".saved")
    # Nothing changed: value, version, log.
    assert stored(app, "tidak_ada_asbak") == ("ya", 1)
    assert len(query(app, select(AuditLogEntry.id).where(AuditLogEntry.action == "answer")).all()) == logged


def test_the_stale_message_comes_in_english_too(signed_in, ktr):
    save(signed_in, ktr, "tidak_ada_asbak", "ya", base=0)
    text = html(save(signed_in, ktr, "tidak_ada_asbak", "tidak", base=0)).select_one(".stale-text").get_text()
    assert text.startswith("Tab atau jendela lain telah mengubah jawaban ini.")
    signed_in.post("/language", {"locale": "en"})
    text = html(save(signed_in, ktr, "tidak_ada_asbak", "tidak", base=0)).select_one(".stale-text").get_text()
    assert text.startswith("Another tab or window changed this answer meanwhile.")


def test_a_resend_of_the_stored_value_is_acknowledged_not_refused(app, signed_in, ktr):
    """The first reply was lost (server stopped mid-answer): the outbox sends the same value again."""
    save(signed_in, ktr, "tidak_ada_asbak", "ya", base=0)
    response = save(signed_in, ktr, "tidak_ada_asbak", "ya", base=0)
    assert response.status_code == 200 and html(response).select_one("#fb-tidak_ada_asbak .saved")
    assert stored(app, "tidak_ada_asbak") == ("ya", 1)


def test_a_note_does_not_make_the_answer_stale(app, signed_in, ktr):
    signed_in.post(f"/audits/{ktr}/notes/tidak_ada_asbak", {"note": "Dua asbak"}, headers={"HX-Request": "true"})
    assert save(signed_in, ktr, "tidak_ada_asbak", "ya", base=0).status_code == 200
    assert stored(app, "tidak_ada_asbak") == ("ya", 1)


def test_a_correction_starts_from_the_versions_it_copies(app, signed_in, ktr):
    save(signed_in, ktr, "tidak_ada_asbak", "ya", base=0)
    save(signed_in, ktr, "tidak_ada_asbak", "tidak", base=1)
    with app.app_context():
        from app.extensions import db
        from survey.audits.service import Actor, revise
        original = db.session.get(Audit, Audit.id.type.python_type(ktr))
        original.status = "submitted"
        revision = revise(db.session, original, Actor(original.auditor_id, None))
        db.session.commit()
        assert db.session.get(Answer, (revision.id, "tidak_ada_asbak")).version == 2


def test_an_out_of_range_answer_is_kept_shown_red_and_not_counted(app, signed_in, facility):
    rbra = start(signed_in, facility, "rbra@1")
    save(signed_in, rbra, "ada_peralatan_bermain", "ya")
    counted = html(save(signed_in, rbra, "jumlah_peralatan", "12"))
    assert counted.select_one("#fb-jumlah_peralatan .saved")
    before = counted.select_one("#overall-progress").get_text(strip=True)
    fragment = html(save(signed_in, rbra, "jumlah_peralatan", "500"))
    feedback = fragment.select_one("#fb-jumlah_peralatan")
    assert feedback.select_one(".error-text") and feedback["data-state"] == "problem"
    assert not feedback.select_one(".saved")  # no green mark beside a red error
    after = fragment.select_one("#overall-progress").get_text(strip=True)
    assert int(after.split()[0]) == int(before.split()[0]) - 1
    assert stored(app, "jumlah_peralatan")[0] == 500  # kept as typed
    page = html(signed_in.client.get(f"/audits/{rbra}"))
    assert page.select_one("#overall-progress").get_text(strip=True) == after
    assert "has-problem" in page.select_one("#item-jumlah_peralatan")["class"]
    assert page.select_one("#item-jumlah_peralatan input[name=value]")["value"] == "500"


def test_progress_counts_only_valid_answers(app):
    with app.app_context():
        from app.extensions import db
        checklist = registry.newest_for_kind("ruang_bermain")[0]
        registry.store_version(db.session, checklist)
        base = {"ada_peralatan_bermain": "ya", "jauh_dari_sumber_bahaya": "ya"}
        valid = progress(checklist, {**base, "jumlah_peralatan": 12})
        invalid = progress(checklist, {**base, "jumlah_peralatan": 500})
        wrong_shape = progress(checklist, {**base, "jumlah_peralatan": "banyak"})
    section = next(s.id for s in checklist.sections if any(i.id == "jumlah_peralatan" for i in s.items))
    assert invalid[section][0] == wrong_shape[section][0] == valid[section][0] - 1
    assert invalid[section][1] == valid[section][1]


@pytest.mark.parametrize("base", ["abc", "-1", "1.5", "9" * 20])
def test_a_malformed_base_version_is_refused_and_changes_nothing(app, signed_in, ktr, base):
    response = save(signed_in, ktr, "tidak_ada_asbak", "ya", base=base)
    assert response.status_code == 422
    assert html(response).select_one("[data-error-code]")["data-error-code"] == "answer.bad_version"
    assert query(app, select(Answer.value).where(Answer.item_id == "tidak_ada_asbak")).first() is None
