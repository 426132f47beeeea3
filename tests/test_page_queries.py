"""The queries behind the pages: an audit page costs the same SQL with 2 photos or 12; the audit's answer sheet,
the conflicts list, device look-up, the audit log and the accounts per role each answer what their page shows."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from contextlib import contextmanager

from sqlalchemy import event, select

from app.cli_support import write_transaction
from app.extensions import db
from tests.conftest import make_facility
from tests.support import html, make_jpeg
from tests.test_audits import answer, fill_ktr, position, start
from tests.test_review_return import app_config, people  # noqa: F401 (a hub, Siti and Budi signed in)

UTC = dt.timezone.utc


@contextmanager
def counted_statements(app):
    """Collect every SQL statement the app sends while the block runs."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_photos(siti, audit_id: str, how_many: int, item_id: str = "foto_bukti_ktr") -> None:
    """Attach this many different photos to an item, through the page."""
    for n in range(how_many):
        jpeg = make_jpeg(width=64, height=48, color=(n * 20, 120, 60))
        response = siti.post(f"/audits/{audit_id}/photos/{item_id}",
                             {"photo": (io.BytesIO(jpeg), f"IMG_{n}.jpg", "image/jpeg")},
                             content_type="multipart/form-data", headers={"HX-Request": "true"})
        assert response.status_code == 200


def audit_with_photos(app, siti, how_many: int) -> str:
    """A KTR draft answered in full and positioned, with this many photos of evidence."""
    audit_id = start(siti, make_facility(app, name=f"Taman {how_many} Foto"), "ktr@1")
    fill_ktr(siti, audit_id, {})
    position(siti, audit_id)
    add_photos(siti, audit_id, how_many)
    return audit_id


def cost(app, browser, path: str) -> tuple[int, object]:
    """The statements one page load sends, and the page."""
    with counted_statements(app) as statements:
        response = browser.client.get(path)
    assert response.status_code == 200
    return len(statements), html(response)


def thumbnails(page) -> int:
    """The photo thumbnails the page shows for the KTR evidence item."""
    return len(page.select("#item-foto_bukti_ktr img[src$='/thumb']"))


def test_the_audit_and_review_pages_cost_the_same_with_2_or_12_photos(app, people):
    siti, budi = people
    few, many = audit_with_photos(app, siti, 2), audit_with_photos(app, siti, 12)
    (with_few, few_page), (with_many, many_page) = cost(app, siti, f"/audits/{few}"), cost(app, siti, f"/audits/{many}")
    assert (thumbnails(few_page), thumbnails(many_page)) == (2, 12) and with_few == with_many
    assert cost(app, siti, f"/audits/{few}/review")[0] == cost(app, siti, f"/audits/{many}/review")[0]
    for audit_id in (few, many):
        assert siti.post(f"/audits/{audit_id}/submit").status_code == 302
    # The supervisor's review: the evidence, then the decision form.
    (with_few, few_page), (with_many, many_page) = cost(app, budi, f"/audits/{few}"), cost(app, budi, f"/audits/{many}")
    assert many_page.select_one("form.review-form") and (thumbnails(few_page), thumbnails(many_page)) == (2, 12)
    assert with_few == with_many


def test_the_answer_sheet_holds_answers_notes_versions_and_photos_in_order(app, people):
    from survey.audits.queries import answer_sheet, answers_of

    siti, _budi = people
    audit_id = start(siti, make_facility(app), "ktr@1")
    answer(siti, audit_id, "tanda_dilarang_merokok", "ya")
    answer(siti, audit_id, "tanda_dilarang_merokok", "tidak")
    siti.post(f"/audits/{audit_id}/notes/tidak_ada_asbak", {"note": "asbak di meja satpam"})
    add_photos(siti, audit_id, 2)
    add_photos(siti, audit_id, 1, item_id="tidak_ada_asbak")  # evidence beside an item that is not a photo item
    with app.app_context():
        sheet = answer_sheet(db.session, uuid.UUID(audit_id))
        first, second = sheet.photos["foto_bukti_ktr"]
        (beside,) = sheet.photos["tidak_ada_asbak"]
        assert sheet.answers == {"tanda_dilarang_merokok": "tidak", "foto_bukti_ktr": [first, second],
                                 "tidak_ada_asbak": [beside]}  # a note alone is no answer
        assert sheet.notes == {"tidak_ada_asbak": "asbak di meja satpam"}
        assert sheet.versions == {"tanda_dilarang_merokok": 2, "tidak_ada_asbak": 0}  # a note is not an answer's version
        taken = dt.datetime(2026, 11, 20, 2, 15, tzinfo=UTC)  # 09:15 WIB in the photos' EXIF
        assert sheet.photo_times == {first: taken, second: taken, beside: taken}
        assert answers_of(db.session, uuid.UUID(audit_id)) == sheet.answers
        assert answer_sheet(db.session, uuid.uuid4()) == type(sheet).empty()


def conflict(session, name: str, created_at: dt.datetime, resolved: bool = False) -> str:
    """Factory: a facility-name conflict made at this time, open unless resolved."""
    from sync.models import SyncConflict

    row = SyncConflict(kind="facility", entity_id=str(uuid.uuid4()), detail_key="name", created_at=created_at,
                       detail={"field": "name", "versions": [{"value": name}]},
                       resolved_at=created_at + dt.timedelta(hours=1) if resolved else None)
    session.add(row)
    session.flush()
    return name


def test_conflicts_come_open_first_then_resolved_newest_first_within_each(app):
    from sync.queries import conflict_list

    day = dt.datetime(2026, 11, 20, 9, tzinfo=UTC)
    with app.app_context(), write_transaction() as session:
        for name, hours, resolved in (("old open", 0, False), ("new resolved", 5, True), ("new open", 3, False),
                                      ("old resolved", 1, True)):
            conflict(session, name, day + dt.timedelta(hours=hours), resolved)
    with app.app_context():
        names = [row.detail["versions"][0]["value"] for row in conflict_list(db.session)]
        assert names == ["new open", "old open", "new resolved", "old resolved"]
        assert [row.detail["versions"][0]["value"] for row in conflict_list(db.session, limit=3)] == names[:3]


def test_a_device_is_found_by_its_id_and_a_malformed_or_unknown_id_finds_none(app, kota_serang):
    from sync import service
    from sync.queries import device_with_id

    with app.app_context(), write_transaction() as session:
        device_id = str(service.register_device(session, "tablet-1", ["36.73.01"], "field")[0].id)
    with app.app_context():
        assert device_with_id(db.session, device_id).name == "tablet-1"
        assert device_with_id(db.session, str(uuid.uuid4())) is None
        assert device_with_id(db.session, "not-a-uuid") is None


def test_accounts_are_counted_per_role(app, people, admin):
    from app.queries import accounts_by_role

    with app.app_context():
        assert accounts_by_role(db.session) == {"auditor": 1, "supervisor": 1, "admin": 1}


def test_the_audit_log_lists_the_newest_changes_with_who_made_them(app, people):
    from app import auditlog
    from app.auth.models import User
    from app.queries import latest_changes

    later = dt.datetime(2099, 1, 1, tzinfo=UTC)  # after every change the fixtures made
    with app.app_context(), write_transaction() as session:
        budi = session.execute(select(User).where(User.username == "budi")).scalar_one()
        auditlog.record(session, action="update", entity="facility", entity_id="by-budi", user_id=budi.id).at = later
        auditlog.record(session, action="update", entity="facility", entity_id="by-sync").at = later + dt.timedelta(1)
    with app.app_context():
        rows = latest_changes(db.session)
        assert [(entry.entity_id, username) for entry, username in rows[:2]] == [("by-sync", None), ("by-budi", "budi")]
        assert [entry.at for entry, _ in rows] == sorted((entry.at for entry, _ in rows), reverse=True)
        assert len(latest_changes(db.session, limit=1)) == 1
