"""Review and return (issue #12): the decision comes after the evidence and is never pre-chosen; a refusal
keeps what was typed; the review list filters by state with counts; a returned audit reaches its auditor's
start page, the facility page and the audit page with the supervisor's comment, one tap from a correction,
and stops counting as returned once the correction is submitted, on a hub and on a field device after a sync."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from survey.audits.models import Audit
from tests.conftest import Session, make_facility, make_user
from tests.support import html
from tests.test_audits import fill_ktr, position, start

COMMENT = "Foto tanda dilarang merokok kurang jelas, ambil ulang."


@pytest.fixture
def app_config(tmp_path):
    """A hub: supervisors review there, and auditors can work on it too."""
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "hub", "DEMO": False,
            "SECRET_KEY": "x" * 40, "SECURE_COOKIES": False}


@pytest.fixture
def people(app, kota_serang):
    """Siti audits in Kecamatan Serang; Budi supervises; each has a browser of their own."""
    make_user(app, "siti", "auditor", ["36.73.01"])
    make_user(app, "budi", "supervisor")
    siti, budi = Session(app.test_client()), Session(app.test_client())
    siti.login("siti")
    budi.login("budi")
    return siti, budi


def submitted(siti, facility_id: str, key: str = "ktr@1") -> str:
    """A KTR audit answered in full, positioned and submitted by Siti; its id."""
    audit_id = start(siti, facility_id, key)
    fill_ktr(siti, audit_id, {})
    position(siti, audit_id)
    assert siti.post(f"/audits/{audit_id}/submit").status_code == 302
    return audit_id


def audit_row(app, audit_id: str) -> Audit:
    from app.extensions import db

    with app.app_context():
        found = db.session.get(Audit, uuid.UUID(audit_id))
        db.session.expunge(found)
        return found


@pytest.fixture
def returned(app, people):
    """Siti's KTR audit of Taman Bermain RW 01, returned by Budi with a comment."""
    siti, budi = people
    facility_id = make_facility(app)
    audit_id = submitted(siti, facility_id)
    assert budi.post(f"/reviews/{audit_id}", {"decision": "returned", "comment": COMMENT}).status_code == 302
    return siti, budi, facility_id, audit_id


def test_the_review_form_comes_after_the_evidence_and_chooses_nothing(app, people):
    siti, budi = people
    audit_id = submitted(siti, make_facility(app))
    page = html(budi.client.get(f"/audits/{audit_id}"))
    form = page.select_one("form.review-form")
    assert [i["value"] for i in form.select("input[name=decision]")] == ["approved", "returned", "rejected"]
    assert not form.select("input[name=decision][checked]")
    # After every answer, the position and its warnings; only the score link follows it.
    order = page.select("#position, .checklist-section, form.review-form, .submit-bar")
    assert order[0].get("id") == "position" and order[1]["class"] == ["checklist-section"]
    assert order[-2] is form and order[-1]["class"] == ["submit-bar"]
    assert form.select_one("legend").get_text() == "Keputusan"
    assert [label.get_text(strip=True) for label in form.select("label.choice")] == [
        "Setujui", "Kembalikan untuk dikoreksi", "Tolak"]


def test_saving_without_a_decision_is_refused_beside_the_choices_with_the_comment_kept(app, people):
    siti, budi = people
    audit_id = submitted(siti, make_facility(app))
    response = budi.post(f"/reviews/{audit_id}", {"comment": "Sudah lengkap"})
    assert response.status_code == 422
    page = html(response)
    form = page.select_one("form.review-form")
    assert "Pilih keputusan" in form.select_one("fieldset.decisions + #decision-error").get_text()
    assert form.select_one("fieldset.decisions")["aria-describedby"] == "decision-error"
    assert form.select_one("#review-comment").get_text() == "Sudah lengkap"
    assert page.select(".checklist-section")  # the audit page again, not an error page
    assert page.select_one("nav.bottom-nav a[aria-current=page]")["href"] == "/reviews/"
    assert audit_row(app, audit_id).review_status is None


@pytest.mark.parametrize("decision", ["returned", "rejected"])
def test_returning_or_rejecting_without_a_comment_keeps_the_decision_and_shows_the_message_beside_the_comment(
        app, people, decision):
    siti, budi = people
    audit_id = submitted(siti, make_facility(app))
    response = budi.post(f"/reviews/{audit_id}", {"decision": decision, "comment": "   "})
    assert response.status_code == 422
    page = html(response)
    form = page.select_one("form.review-form")
    assert form.select_one(f"input[name=decision][value={decision}]").has_attr("checked")
    assert len(form.select("input[name=decision][checked]")) == 1
    comment = form.select_one("#review-comment")
    assert comment["aria-invalid"] == "true" and comment.get_text() == "   "
    assert "komentar" in comment.find_next_sibling("p", id="comment-error").get_text()
    assert page.select_one("h1").get_text()  # the audit page, with its title
    assert audit_row(app, audit_id).review_status is None


def test_the_review_list_filters_by_state_with_counts_and_waiting_first(app, people):
    siti, budi = people
    ids = {name: submitted(siti, make_facility(app, name=f"Taman {name}")) for name in
           ("Approved", "Returned", "Rejected", "Waiting")}
    budi.post(f"/reviews/{ids['Approved']}", {"decision": "approved"})
    budi.post(f"/reviews/{ids['Returned']}", {"decision": "returned", "comment": COMMENT})
    budi.post(f"/reviews/{ids['Rejected']}", {"decision": "rejected", "comment": "Bukan fasilitas ini."})
    page = html(budi.client.get("/reviews/"))
    chips = {chip["data-state"]: chip for chip in page.select(".review-states .chip")}
    assert list(chips) == ["waiting", "returned", "approved", "rejected", "all"]
    assert {s: chip.select_one(".count").get_text() for s, chip in chips.items()} == {
        "waiting": "1", "returned": "1", "approved": "1", "rejected": "1", "all": "4"}
    assert chips["waiting"]["aria-current"] == "true"
    assert [a.select_one(".row-title").get_text() for a in page.select(".review-list .row-link")] == ["Taman Waiting"]
    for state, name in (("returned", "Returned"), ("approved", "Approved"), ("rejected", "Rejected")):
        listed = html(budi.client.get(f"/reviews/?state={state}"))
        assert [a.select_one(".row-title").get_text() for a in listed.select(".review-list .row-link")] == [f"Taman {name}"]
    every = html(budi.client.get("/reviews/?state=all"))
    titles = [a.select_one(".row-title").get_text() for a in every.select(".review-list .row-link")]
    assert len(titles) == 4 and titles[:2] == ["Taman Waiting", "Taman Returned"]  # waiting first, then returned
    assert "kurang jelas" in every.select(".review-list li")[1].get_text()
    odd = html(budi.client.get("/reviews/?state=<script>"))
    assert odd.select_one(".review-states .chip[aria-current]")["data-state"] == "waiting"


def test_lists_name_checklists_by_title_in_the_readers_language_never_by_id(app, people):
    siti, budi = people
    facility_id = make_facility(app)
    submitted(siti, facility_id)
    draft = start(siti, facility_id, "rbra@1")
    review_list = budi.client.get("/reviews/").get_data(as_text=True)
    assert "Kawasan Tanpa Rokok" in review_list and "KTR" not in review_list and "ktr@1" not in review_list
    facility_page = budi.client.get(f"/facilities/{facility_id}").get_data(as_text=True)
    assert "Kawasan Tanpa Rokok" in facility_page and ">KTR" not in facility_page
    in_progress = html(siti.client.get("/facilities/")).select_one(".drafts").get_text()
    assert "Ruang Bermain Ramah Anak" in in_progress and "RBRA" not in in_progress
    budi.post("/language", {"locale": "en", "next": "/reviews/"})
    assert "Smoke-Free Area" in budi.client.get("/reviews/").get_data(as_text=True)
    other = start(siti, facility_id, "ktr@1")  # a second draft: its page names the other one in progress
    also = [p.get_text() for p in html(siti.client.get(f"/audits/{other}")).select("p.notice") if f"/audits/{draft}" in str(p)]
    assert len(also) == 1 and "Ruang Bermain Ramah Anak" in also[0] and "RBRA" not in also[0]


def test_a_returned_audit_shows_on_the_auditor_start_page_facility_page_and_audit_page(app, returned):
    siti, budi, facility_id, audit_id = returned
    home = html(siti.client.get("/facilities/"))
    section = home.select_one("section.returned")
    assert section["data-returned-count"] == "1"
    item = section.select_one(".returned-item")
    assert COMMENT in item.select_one(".review-comment").get_text()
    assert "Kawasan Tanpa Rokok" in item.get_text() and "Taman Bermain RW 01" in item.get_text()
    assert item.select_one("form button").get_text() == "Buat koreksi"
    assert item.select_one("form")["action"] == f"/audits/{audit_id}/revise"
    facility = html(siti.client.get(f"/facilities/{facility_id}"))
    assert COMMENT in facility.select_one("section.returned .review-comment").get_text()
    assert facility.select_one("section.returned form")["action"] == f"/audits/{audit_id}/revise"
    assert facility.select_one(".list [data-review-state=returned]")
    audit_page = html(siti.client.get(f"/audits/{audit_id}"))
    card = audit_page.select_one("[data-returned]")
    assert COMMENT in card.select_one(".review-comment").get_text()
    assert [b.get_text() for b in audit_page.select("button") if b.get_text() == "Buat koreksi"] == ["Buat koreksi"]
    # The supervisor sees the comment too, but no correction button (it is Siti's audit).
    assert not html(budi.client.get(f"/audits/{audit_id}")).select("[data-returned] form")


def test_the_revision_draft_shows_the_comment_and_the_return_clears_once_the_correction_is_submitted(app, returned):
    siti, budi, facility_id, audit_id = returned
    response = siti.post(f"/audits/{audit_id}/revise")
    revision_id = response.headers["Location"].rsplit("/", 1)[1]
    draft_page = html(siti.client.get(f"/audits/{revision_id}"))
    shown = draft_page.select_one("[data-returned-comment]")
    assert COMMENT in shown.select_one(".review-comment").get_text() and "revisi 1" in shown.h2.get_text()
    # Still returned while the correction is a draft: one tap continues it.
    home = html(siti.client.get("/facilities/"))
    assert home.select_one("section.returned")["data-returned-count"] == "1"
    assert home.select_one(".returned-item a.btn")["href"] == f"/audits/{revision_id}"
    assert html(budi.client.get("/")).select_one(".review-summary [data-state=returned] .value").get_text() == "1"
    assert siti.post(f"/audits/{revision_id}/submit").status_code == 302
    assert not html(siti.client.get("/facilities/")).select("section.returned")
    assert not html(siti.client.get(f"/facilities/{facility_id}")).select("section.returned")
    original = html(siti.client.get(f"/audits/{audit_id}"))
    assert "revisi 2" in original.select_one("[data-returned] a").get_text()
    assert not [b for b in original.select("button") if b.get_text() == "Buat koreksi"]
    counts = html(budi.client.get("/reviews/"))
    assert {c["data-state"]: c.select_one(".count").get_text() for c in counts.select(".review-states .chip")} == {
        "waiting": "1", "returned": "0", "approved": "0", "rejected": "0", "all": "2"}
    assert html(budi.client.get("/")).select_one(".review-summary [data-state=returned] .value").get_text() == "0"


def test_on_a_field_device_the_synced_return_shows_and_clears_after_the_correction(tmp_path):
    """The hub's decision arrives as a synced review change; the device shows it the same way."""
    from app import create_app
    from app.cli_support import write_transaction
    from app.extensions import db
    from flask_migrate import upgrade
    from sync.apply import receive
    from sync.changes import Change
    from sync.hlc import encode
    from sync.queries import pending_counts
    from sync.service import ensure_self_device

    device = create_app({"INSTANCE_PATH": str(tmp_path / "device"), "TESTING": True, "ROLE": "field", "DEMO": False})
    with device.app_context():
        upgrade()
        with write_transaction() as session:
            ensure_self_device(session, "field")
            from survey import demo

            demo.seed_regions(session)
    make_user(device, "siti", "auditor", ["36.73.01"])
    siti = Session(device.test_client())
    siti.login("siti")
    facility_id = make_facility(device)
    audit_id = submitted(siti, facility_id)
    hub = str(uuid.uuid4())
    review = {"id": str(uuid.uuid4()), "audit_id": audit_id, "decision": "returned", "comment": COMMENT,
              "reviewer": "budi", "decided_at": "2026-12-06T00:30:00Z", "device_id": None}
    with device.app_context(), write_transaction() as session:
        receive(session, [Change(hub, 1, "review", audit_id, encode(int(time.time() * 1000), 0), review, "36.73.01")],
                None, has_photo=lambda sha: True)
    with device.app_context():
        assert pending_counts(db.session)["returned"] == 1
    home = html(siti.client.get("/facilities/"))
    assert COMMENT in home.select_one("section.returned .review-comment").get_text()
    revision_id = siti.post(f"/audits/{audit_id}/revise").headers["Location"].rsplit("/", 1)[1]
    assert COMMENT in html(siti.client.get(f"/audits/{revision_id}")).select_one("[data-returned-comment]").get_text()
    assert siti.post(f"/audits/{revision_id}/submit").status_code == 302
    assert not html(siti.client.get("/facilities/")).select("section.returned")
    with device.app_context():
        assert pending_counts(db.session)["returned"] == 0  # the sync panel's count
        rows = db.session.execute(select(Audit.revision, Audit.status, Audit.review_status).order_by(Audit.revision)).all()
        assert [tuple(r) for r in rows] == [(1, "submitted", "returned"), (2, "submitted", None)]
        db.engine.dispose()


def test_a_refused_decision_on_a_draft_shows_the_error_page_never_the_draft(app, people):
    siti, budi = people
    draft = start(siti, make_facility(app), "ktr@1")
    response = budi.post(f"/reviews/{draft}", {"comment": "x"})
    assert response.status_code == 422
    page = html(response)
    assert not page.select(".checklist-section") and not page.select("form.review-form")
    assert budi.post(f"/reviews/{draft}", {"decision": "approved"}).status_code == 409
