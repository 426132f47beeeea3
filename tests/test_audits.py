"""The audit flow over HTTP: start, answer (one request each), relevance, photos, position, submit, revise."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import func, select

from app.auditlog import AuditLogEntry
from survey.audits.models import Answer, AnswerPhoto, Audit, GpsReading, Photo
from tests.conftest import make_facility, make_user
from tests.support import html, make_jpeg

KTR_ITEMS = ["tanda_dilarang_merokok", "tidak_ada_yang_merokok", "tidak_ada_ruang_merokok", "tidak_ada_iklan_rokok",
             "tidak_ada_asbak", "tidak_ada_bau_asap", "tidak_ada_puntung"]


def query(app, statement):
    from app.extensions import db

    with app.app_context():
        return db.session.execute(statement)


def scalar(app, statement):
    from app.extensions import db

    with app.app_context():
        return db.session.execute(statement).scalar_one()


def start(auth, facility_id: str, *keys: str) -> str:
    """Start audits through the page; return the first audit's id."""
    response = auth.post(f"/facilities/{facility_id}/audits/new", {"checklist": list(keys)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("/", 1)[1]


def answer(auth, audit_id: str, item_id: str, value, **headers):
    data = {"value": value}
    return auth.post(f"/audits/{audit_id}/answers/{item_id}", data, headers={"HX-Request": "true", **headers})


def position(auth, audit_id: str, lat=-6.1151, lon=106.1601, accuracy="8", source="gps"):
    return auth.post(f"/audits/{audit_id}/position", {"lat": lat, "lon": lon, "accuracy": accuracy, "source": source,
                                                      "taken_at": "1795000000000"}, headers={"HX-Request": "true"})


@pytest.fixture
def signed_in(auth, auditor):
    auth.login("siti")
    return auth


def test_start_offers_the_checklists_of_the_facility_kind(signed_in, facility):
    page = html(signed_in.client.get(f"/facilities/{facility}/audits/new"))
    offered = [i["value"] for i in page.select("input[name=checklist]")]
    assert offered == ["rbra@1", "ktr@1"]  # kind-specific first, KTR (every facility) after
    school = make_facility(signed_in.client.application, kind="sekolah", name="SD Negeri 9 Serang", lat=-6.12, lon=106.15)
    offered = [i["value"] for i in html(signed_in.client.get(f"/facilities/{school}/audits/new")).select("input[name=checklist]")]
    assert offered == ["sra@1", "ktr@1"]


def test_start_creates_one_draft_per_checklist_and_resumes_instead_of_doubling(app, signed_in, facility):
    first = start(signed_in, facility, "rbra@1", "ktr@1")
    again = start(signed_in, facility, "rbra@1", "ktr@1")
    assert first == again
    assert scalar(app, select(func.count()).select_from(Audit)) == 2
    assert scalar(app, select(Audit.checklist_key).where(Audit.id == Audit.id.type.python_type(first))) == "rbra@1"


def test_starting_with_no_checklist_is_refused(app, signed_in, facility):
    response = signed_in.post(f"/facilities/{facility}/audits/new", {})
    assert response.status_code == 422 and html(response).select_one(".notice.error")
    assert scalar(app, select(func.count()).select_from(Audit)) == 0


def test_each_answer_is_saved_at_once_and_logged(app, signed_in, facility):
    audit_id = start(signed_in, facility, "ktr@1")
    response = answer(signed_in, audit_id, "tanda_dilarang_merokok", "sebagian")
    assert response.status_code == 200
    fragment = html(response)
    assert fragment.find("html") is None and fragment.select_one("#fb-tanda_dilarang_merokok .saved")
    assert scalar(app, select(Answer.value).where(Answer.item_id == "tanda_dilarang_merokok")) == "sebagian"
    answer(signed_in, audit_id, "tanda_dilarang_merokok", "ya")
    changes = query(app, select(AuditLogEntry.changes).where(AuditLogEntry.action == "answer")
                    .order_by(AuditLogEntry.at)).scalars().all()
    assert changes == [{"tanda_dilarang_merokok": [None, "sebagian"]}, {"tanda_dilarang_merokok": ["sebagian", "ya"]}]


def test_relevance_shows_and_hides_items_in_the_same_response(signed_in, facility):
    audit_id = start(signed_in, facility, "rbra@1")
    page = html(signed_in.client.get(f"/audits/{audit_id}"))
    assert page.select_one("#item-jenis_permukaan")["class"] == ["item-hidden"]
    shown = html(answer(signed_in, audit_id, "ada_peralatan_bermain", "ya"))
    oob = {e["id"] for e in shown.select("[hx-swap-oob]") if e["id"].startswith("item-")}
    assert "item-permukaan_peredam_benturan" in oob
    assert shown.select_one("#item-permukaan_peredam_benturan")["class"][0] == "item"
    hidden = html(answer(signed_in, audit_id, "ada_peralatan_bermain", "tidak"))
    assert hidden.select_one("#item-permukaan_peredam_benturan")["class"] == ["item-hidden"]


def test_progress_is_updated_out_of_band(signed_in, facility):
    audit_id = start(signed_in, facility, "ktr@1")
    fragment = html(answer(signed_in, audit_id, "tidak_ada_asbak", "ya"))
    assert fragment.select_one("#overall-progress").get_text(strip=True).startswith("1")
    assert fragment.select_one("#count-pengamatan_ktr").get_text(strip=True) == "1/8"  # seven observations and an optional photo


@pytest.mark.parametrize("item,value,code", [
    ("tanda_dilarang_merokok", "mungkin", "Pilih salah satu"),
    ("jumlah_peralatan", "banyak", "bilangan bulat"),
    ("jumlah_peralatan", "-3", ""),
], ids=["not-a-choice", "not-a-number", "below-range"])
def test_bad_answers_are_kept_and_flagged_beside_the_item(app, signed_in, facility, item, value, code):
    audit_id = start(signed_in, facility, "rbra@1", "ktr@1")
    key = "ktr@1" if item.startswith("tanda") else "rbra@1"
    audit_id = scalar(app, select(Audit.id).where(Audit.checklist_key == key))
    if item == "jumlah_peralatan":
        answer(signed_in, audit_id, "ada_peralatan_bermain", "ya")
    fragment = html(answer(signed_in, audit_id, item, value))
    error = fragment.select_one(f"#err-{item}")
    assert error is not None and code in error.get_text()
    # Nothing typed is lost: the value is stored as given and blocks submission until corrected.
    assert scalar(app, select(Answer.value).where(Answer.item_id == item)) in (value, int(value) if value.lstrip("-").isdigit() else value)


def test_photo_is_stored_by_hash_with_exif_and_a_display_copy(app, signed_in, facility, tmp_path):
    audit_id = start(signed_in, facility, "rbra@1")
    jpeg = make_jpeg()
    response = signed_in.post(f"/audits/{audit_id}/photos/foto_area_bermain",
                              {"photo": (io.BytesIO(jpeg), "IMG_0001.jpg", "image/jpeg")},
                              content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert response.status_code == 200
    sha = hashlib.sha256(jpeg).hexdigest()
    photo = query(app, select(Photo.sha256, Photo.width, Photo.gps_lat, Photo.taken_at)).one()
    assert photo.sha256 == sha and photo.width == 640 and photo.gps_lat == pytest.approx(-6.1151, abs=1e-4)
    assert photo.taken_at.isoformat() == "2026-11-20T02:15:00+00:00"  # 09:15 WIB, the camera's clock
    assert scalar(app, select(AnswerPhoto.sha256)) == sha
    assert signed_in.client.get(f"/photos/{sha}/original").data == jpeg
    display = signed_in.client.get(f"/photos/{sha}/display")
    assert display.status_code == 200 and display.mimetype == "image/jpeg"
    assert html(response).select_one(f"img[src='/photos/{sha}/thumb']")


@pytest.mark.parametrize("payload,name,code", [
    (b"%PDF-1.4 not a photo", "laporan.pdf", "tidak didukung"),
    (b"just some text, not an image at all", "catatan.jpg", "bukan foto"),
    (b"GIF89a" + b"\0" * 40, "anim.gif", "tidak didukung"),
    (b"", "kosong.jpg", ""),
    (make_jpeg()[:900], "putus.jpg", "rusak"),
], ids=["pdf", "text", "gif", "empty", "truncated"])
def test_bad_uploads_are_refused_with_a_message_and_change_nothing(app, signed_in, facility, payload, name, code):
    audit_id = start(signed_in, facility, "rbra@1")
    response = signed_in.post(f"/audits/{audit_id}/photos/foto_area_bermain",
                              {"photo": (io.BytesIO(payload), name, "image/jpeg")},
                              content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert response.status_code in (413, 422)
    assert code in html(response).get_text()
    assert scalar(app, select(func.count()).select_from(Photo)) == 0
    assert scalar(app, select(func.count()).select_from(AnswerPhoto)) == 0


def test_position_readings_are_all_kept_with_warnings(app, signed_in, facility):
    audit_id = start(signed_in, facility, "ktr@1")
    fragment = html(position(signed_in, audit_id, accuracy="65"))
    assert fragment.select_one("[data-warning='gps.poor_accuracy']")
    fragment = html(position(signed_in, audit_id, lat=-6.1300, lon=106.1700, accuracy="5"))
    assert fragment.select_one("[data-warning='gps.far_from_facility']")
    assert not fragment.select_one("[data-warning='gps.poor_accuracy']")
    asked = position(signed_in, audit_id, lat=-6.06, lon=106.19, source="manual", accuracy="")
    assert asked.status_code == 409  # by hand outside the kecamatan: confirmed first (tests/test_position_checks.py)
    fragment = html(signed_in.post(f"/audits/{audit_id}/position", {"lat": -6.06, "lon": 106.19, "source": "manual",
                                                                     "confirm_outside": "1"}, headers={"HX-Request": "true"}))
    assert fragment.select_one("[data-warning='gps.outside_kecamatan']")
    readings = query(app, select(GpsReading.source, GpsReading.accuracy_m).order_by(GpsReading.recorded_at)).all()
    assert readings == [("gps", 65.0), ("gps", 5.0), ("manual", None)]
    stored = query(app, select(Audit.lat, Audit.position_source)).one()
    assert tuple(stored) == (-6.06, "manual")


@pytest.mark.parametrize("lat,lon", [("abc", "106.1"), ("6.12", "-106.15"), ("", ""), ("91", "106")],
                         ids=["text", "outside-indonesia", "empty", "out-of-range"])
def test_bad_positions_are_refused_and_change_nothing(app, signed_in, facility, lat, lon):
    audit_id = start(signed_in, facility, "ktr@1")
    response = position(signed_in, audit_id, lat=lat, lon=lon)
    assert response.status_code == 422
    assert scalar(app, select(func.count()).select_from(GpsReading)) == 0


def fill_ktr(auth, audit_id: str, answers: dict[str, str]) -> None:
    for item in KTR_ITEMS:
        assert answer(auth, audit_id, item, answers.get(item, "ya")).status_code == 200


def test_submit_is_refused_until_required_items_and_position_are_there(app, signed_in, facility):
    audit_id = start(signed_in, facility, "ktr@1")
    answer(signed_in, audit_id, "tanda_dilarang_merokok", "ya")
    response = signed_in.post(f"/audits/{audit_id}/submit")
    assert response.status_code == 422
    page = html(response)
    assert len(page.select("ul.todo li")) == 6 and page.select_one(".notice.error")
    fill_ktr(signed_in, audit_id, {})
    assert signed_in.post(f"/audits/{audit_id}/submit").status_code == 422  # still no position
    position(signed_in, audit_id)
    assert signed_in.post(f"/audits/{audit_id}/submit").status_code == 302
    stored = query(app, select(Audit.status, Audit.score, Audit.result)).one()
    assert tuple(stored) == ("submitted", 1.0, "memenuhi")


def test_a_failed_critical_item_fails_the_audit(app, signed_in, facility):
    audit_id = start(signed_in, facility, "ktr@1")
    fill_ktr(signed_in, audit_id, {"tidak_ada_yang_merokok": "tidak"})
    position(signed_in, audit_id)
    signed_in.post(f"/audits/{audit_id}/submit")
    score, result = query(app, select(Audit.score, Audit.result)).one()
    assert result == "belum_memenuhi" and score > 0.7


def test_submitted_audit_is_read_only_and_a_correction_is_a_new_revision(app, signed_in, facility):
    audit_id = start(signed_in, facility, "ktr@1")
    fill_ktr(signed_in, audit_id, {"tidak_ada_puntung": "sebagian"})
    position(signed_in, audit_id)
    signed_in.post(f"/audits/{audit_id}/submit")
    refused = answer(signed_in, audit_id, "tidak_ada_puntung", "ya")
    assert refused.status_code == 409
    page = html(signed_in.client.get(f"/audits/{audit_id}"))
    assert not page.select("form[data-answer-form]")
    revised = signed_in.post(f"/audits/{audit_id}/revise")
    revision_id = revised.headers["Location"].rsplit("/", 1)[1]
    assert answer(signed_in, revision_id, "tidak_ada_puntung", "ya").status_code == 200
    signed_in.post(f"/audits/{revision_id}/submit")
    rows = query(app, select(Audit.revision, Audit.status, Audit.result, Audit.revision_of).order_by(Audit.revision)).all()
    assert [(r.revision, r.status) for r in rows] == [(1, "submitted"), (2, "submitted")]
    assert str(rows[1].revision_of).replace("-", "") == audit_id.replace("-", "")
    original = query(app, select(Answer.value).where(Answer.item_id == "tidak_ada_puntung").join(Audit).where(Audit.revision == 1)).scalar_one()
    assert original == "sebagian"  # history is kept
    history = html(signed_in.client.get(f"/audits/{revision_id}")).select(".chain li")
    assert len(history) == 2
    facility_page = html(signed_in.client.get("/facilities/"))
    assert facility_page.select_one("#results .badge.ok")  # latest revision meets the standard


def test_drafts_are_listed_on_top_of_the_auditor_home(signed_in, facility):
    start(signed_in, facility, "ktr@1")
    page = html(signed_in.client.get("/facilities/"))
    assert "Taman Bermain RW 01" in page.select_one(".drafts").get_text()


def test_another_auditor_cannot_open_or_change_a_draft(app, auth, auditor, facility):
    auth.login("siti")
    audit_id = start(auth, facility, "ktr@1")
    make_user(app, "rudi", "auditor", ["36.73.01"])
    from tests.conftest import Session

    other = Session(app.test_client())
    other.login("rudi")
    assert other.client.get(f"/audits/{audit_id}").status_code == 403
    assert answer(other, audit_id, "tidak_ada_asbak", "ya").status_code == 403
    assert scalar(app, select(func.count()).select_from(Answer)) == 0


def test_auditor_of_another_kecamatan_cannot_see_the_facility(app, auth, auditor, facility):
    make_user(app, "rudi", "auditor", ["36.73.02"])
    auth.login("rudi")
    assert auth.client.get(f"/facilities/{facility}/audits/new").status_code == 404


def test_unknown_item_and_audit_are_404(signed_in, facility):
    audit_id = start(signed_in, facility, "ktr@1")
    assert answer(signed_in, audit_id, "no_such_item", "ya").status_code == 404
    assert signed_in.client.get("/audits/00000000-0000-0000-0000-000000000000").status_code == 404
    assert signed_in.client.get("/photos/../../etc/passwd/original").status_code == 404
    assert signed_in.client.get("/photos/" + "a" * 64 + "/original").status_code == 404


def test_draft_keeps_its_checklist_version_when_a_new_one_arrives(app, signed_in, facility):
    from survey import registry

    audit_id = start(signed_in, facility, "ktr@1")
    imported = registry.SHIPPED
    data_dir = app.config["DATA_DIR"]
    text = (imported / "ktr-v1.yaml").read_text().replace("version: 1", "version: 2", 1)
    import pathlib

    target = pathlib.Path(data_dir) / "checklists"
    target.mkdir(parents=True, exist_ok=True)
    (target / "ktr-v2.yaml").write_text(text)
    assert "ktr@2" in [i["value"] for i in html(signed_in.client.get(f"/facilities/{facility}/audits/new")).select("input[name=checklist]")]
    assert scalar(app, select(Audit.checklist_key).where(Audit.status == "draft")) == "ktr@1"
    assert answer(signed_in, audit_id, "tidak_ada_asbak", "ya").status_code == 200
