"""Repeats, calculations, cascading selects and defaults through the audit pages, and a repeat audit over sync."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from survey.audits.models import Answer, AnswerPhoto
from tests.support import html, make_jpeg
from tests.test_audits import answer, position, query, start

CHECKLIST = """\
id: alat
version: 1
version_label: "2026.1"
title: {id: "Audit Alat Bermain", en: "Play Equipment Audit"}
facility_kinds: [ruang_bermain]
source: "tests"
source_status: unverified
scoring: {memenuhi_min: 0.8}
sections:
  - id: umum
    title: {id: Umum, en: General}
    source: tests
    items:
      - {id: provinsi, type: select_one, label: {id: Provinsi, en: Province}, choices: [{value: banten, label: {id: Banten, en: Banten}}, {value: jabar, label: {id: Jawa Barat, en: West Java}}]}
      - id: kota
        type: select_one
        label: {id: Kota, en: City}
        choice_filter: "prov = ${provinsi}"
        choices:
          - {value: serang, label: {id: Serang, en: Serang}, columns: {prov: banten}}
          - {value: cilegon, label: {id: Cilegon, en: Cilegon}, columns: {prov: banten}}
          - {value: bogor, label: {id: Bogor, en: Bogor}, columns: {prov: jabar}}
      - {id: lantai, type: integer, label: {id: Lantai, en: Floors}, default: "1"}
      - {id: jumlah_anak, type: integer, label: {id: Jumlah anak, en: Children}}
      - id: alat
        type: repeat
        label: {id: Alat bermain, en: Play equipment}
        items:
          - {id: jenis, type: select_one, required: true, label: {id: Jenis alat, en: Kind}, choices: [{value: ayunan, label: {id: Ayunan, en: Swing}}, {value: perosotan, label: {id: Perosotan, en: Slide}}]}
          - {id: kondisi, type: ynp, label: {id: Kondisi baik, en: Good condition}, weight: 2}
          - {id: foto_alat, type: photo, label: {id: Foto alat, en: Photo}}
          - {id: rusak, type: calculate, calculation: "if(${kondisi} = 'tidak', 1, 0)"}
      - id: anak
        type: repeat
        label: {id: Anak, en: Child}
        count: "${jumlah_anak}"
        items:
          - {id: umur, type: integer, label: {id: Umur, en: Age}}
      - {id: total_rusak, type: calculate, label: {id: Alat rusak, en: Broken equipment}, calculation: "sum(${rusak})"}
      - {id: catatan, type: note, label: {id: "Tercatat ${total_rusak} alat rusak.", en: "${total_rusak} broken."}}
      - {id: rekaman, type: file, accept: audio, label: {id: Rekaman wawancara, en: Interview recording}}
      - {id: terbaik, type: select_one, choices_from: jenis, label: {id: Alat terbaik, en: Best equipment}}
"""


def install_one(app, checklist_id: str, items_yaml: str) -> None:
    """A one-section checklist `<id>@1` for every facility kind, with these items (YAML list lines)."""
    install(Path(app.config["DATA_DIR"]), f"{checklist_id}-v1.yaml", f"""\
id: {checklist_id}
version: 1
title: {{id: {checklist_id}, en: {checklist_id}}}
facility_kinds: [all]
source: tests
source_status: unverified
scoring: {{memenuhi_min: 0.8}}
sections:
  - id: s
    title: {{id: S, en: S}}
    source: tests
    items:
{items_yaml}""")


def install(folder: Path, name: str = "alat-v1.yaml", text: str = CHECKLIST) -> None:
    (folder / "checklists").mkdir(parents=True, exist_ok=True)
    (folder / "checklists" / name).write_text(text, encoding="utf-8")


@pytest.fixture
def audit(app, signed_in, facility):
    install(Path(app.config["DATA_DIR"]))
    return start(signed_in, facility, "alat@1")


@pytest.fixture
def signed_in(auth, auditor):
    auth.login("siti")
    return auth


def add(auth, audit_id, address="alat"):
    return auth.post(f"/audits/{audit_id}/repeats/{address}/add", {}, headers={"HX-Request": "true"})


def remove(auth, audit_id, number, address="alat"):
    return auth.post(f"/audits/{audit_id}/repeats/{address}/{number}/remove", {}, headers={"HX-Request": "true"})


def stored(app, audit_id) -> dict:
    import uuid

    rows = query(app, select(Answer.item_id, Answer.value).where(Answer.audit_id == uuid.UUID(audit_id))).all()
    return {item: value for item, value in rows if value is not None}


def test_entries_are_added_answered_and_shown_each_in_its_frame(app, signed_in, audit):
    for expected in (1, 2, 3):
        reply = html(add(signed_in, audit))
        assert len(reply.select("section.repeat fieldset.instance")) == expected
    assert answer(signed_in, audit, "alat[2]/kondisi", "tidak").status_code == 200
    page = html(signed_in.client.get(f"/audits/{audit}"))
    frames = page.select("[id='repeat-alat'] fieldset.instance")
    assert [f.select_one("legend").get_text(" ", strip=True) for f in frames] == [
        "Alat bermain · 1", "Alat bermain · 2", "Alat bermain · 3"]
    assert frames[1].select_one("[id='item-alat[2]/kondisi'] input[value=tidak]").has_attr("checked")
    assert page.select_one("#item-catatan").get_text(strip=True) == "Tercatat 1 alat rusak."
    assert stored(app, audit)["alat"] == 3


def test_a_save_re_renders_what_it_changed_out_of_band(signed_in, audit):
    add(signed_in, audit)
    reply = html(answer(signed_in, audit, "alat[1]/kondisi", "tidak"))
    oob = {e["id"] for e in reply.select("[hx-swap-oob]")}
    assert {"item-total_rusak", "item-catatan"} <= oob
    assert reply.select_one("#item-catatan").get_text(strip=True) == "Tercatat 1 alat rusak."
    assert "item-provinsi" not in oob  # untouched items are not sent again


def test_removing_an_entry_moves_the_later_ones_up_with_their_photos(app, signed_in, audit):
    for _ in range(3):
        add(signed_in, audit)
    answer(signed_in, audit, "alat[1]/jenis", "ayunan")
    answer(signed_in, audit, "alat[3]/jenis", "perosotan")
    photo = signed_in.post(f"/audits/{audit}/photos/alat[3]/foto_alat",
                           {"photo": (io.BytesIO(make_jpeg()), "a.jpg", "image/jpeg")},
                           headers={"HX-Request": "true"}, content_type="multipart/form-data")
    assert photo.status_code == 200, photo.get_data(as_text=True)[:300]
    assert remove(signed_in, audit, 1).status_code == 200
    values = stored(app, audit)
    assert values["alat"] == 2 and values["alat[2]/jenis"] == "perosotan" and "alat[3]/jenis" not in values
    assert "alat[1]/jenis" not in values
    import uuid

    links = query(app, select(AnswerPhoto.item_id).where(AnswerPhoto.audit_id == uuid.UUID(audit))).scalars().all()
    assert links == ["alat[2]/foto_alat"]


@pytest.mark.parametrize("url, status, code", [
    ("/audits/{a}/repeats/anak/add", 422, "audit.counted_repeat"),
    ("/audits/{a}/repeats/provinsi/add", 422, "audit.not_a_repeat"),
    ("/audits/{a}/repeats/tidak_ada/add", 404, "audit.unknown_item"),
    ("/audits/{a}/repeats/alat/7/remove", 404, "audit.no_such_instance"),
    ("/audits/{a}/answers/alat[4]/kondisi", 404, "audit.no_such_instance"),
    ("/audits/{a}/answers/kondisi", 404, "audit.unknown_item"),
    ("/audits/{a}/answers/alat[1]/provinsi", 404, "audit.unknown_item"),
    ("/audits/{a}/answers/total_rusak", 422, "audit.not_answerable"),
    ("/audits/{a}/answers/catatan", 422, "audit.not_answerable"),
], ids=["counted repeat", "not a repeat", "unknown", "no such entry to remove", "no such entry",
        "item of a repeat without its entry", "item outside the repeat inside it", "calculation", "note"])
def test_refused_repeat_requests_name_their_code_and_change_nothing(app, signed_in, audit, url, status, code):
    add(signed_in, audit)
    before = stored(app, audit)
    reply = signed_in.post(url.format(a=audit), {"value": "ya"}, headers={"HX-Request": "true"})
    assert (reply.status_code, html(reply).select_one("[data-error-code]")["data-error-code"]) == (status, code)
    assert stored(app, audit) == before


def test_a_repeat_holds_at_most_its_limit_in_all_its_enclosing_entries(app, signed_in, facility):
    """Nested repeats share one limit (MAX_INSTANCES in all): entries typed into one room's equipment count
    against every room's, so no form grows millions of entries from a few numbers."""
    import uuid

    from app.cli_support import write_transaction
    from survey.checklist import MAX_INSTANCES

    install_one(app, "ruang", """\
      - id: ruang
        type: repeat
        label: {id: Ruang, en: Room}
        count: "2"
        items:
          - id: alat
            type: repeat
            label: {id: Alat, en: Equipment}
            items:
              - {id: kondisi, type: text, label: {id: Kondisi, en: Condition}}
""")
    audit = start(signed_in, facility, "ruang@1")
    assert add(signed_in, audit, "ruang[2]/alat").status_code == 200
    with app.app_context(), write_transaction() as session:
        session.add(Answer(audit_id=uuid.UUID(audit), item_id="ruang[1]/alat", value=MAX_INSTANCES - 1, version=1))
    before = stored(app, audit)
    reply = add(signed_in, audit, "ruang[2]/alat")
    assert (reply.status_code, html(reply).select_one("[data-error-code]")["data-error-code"]) == (
        422, "audit.too_many_instances")
    assert stored(app, audit) == before
    page = html(signed_in.client.get(f"/audits/{audit}"))
    assert len(page.select("fieldset.instance fieldset.instance")) == MAX_INSTANCES


def test_counted_repeat_follows_its_answer(signed_in, audit):
    answer(signed_in, audit, "jumlah_anak", "2")
    page = html(signed_in.client.get(f"/audits/{audit}"))
    assert len(page.select("[id='repeat-anak'] fieldset.instance")) == 2
    assert not page.select("[id='repeat-anak'] button.repeat-add")
    assert answer(signed_in, audit, "anak[2]/umur", "7").status_code == 200


def test_cascading_select_offers_the_choices_of_the_answer_before(signed_in, audit):
    page = html(signed_in.client.get(f"/audits/{audit}"))
    assert not page.select("#item-kota input[name=value]")  # no province yet: no city on offer
    reply = html(answer(signed_in, audit, "provinsi", "jabar"))
    assert [i["value"] for i in reply.select("#item-kota input[name=value]")] == ["bogor"]
    refused = html(answer(signed_in, audit, "kota", "serang"))
    assert refused.select_one("#fb-kota")["data-state"] == "problem"


def test_defaults_show_until_touched_and_are_kept_at_submit(app, signed_in, audit):
    page = html(signed_in.client.get(f"/audits/{audit}"))
    assert page.select_one("#item-lantai input[name=value]")["value"] == "1"
    for address, value in (("provinsi", "banten"), ("kota", "serang")):
        answer(signed_in, audit, address, value)
    add(signed_in, audit)
    answer(signed_in, audit, "alat[1]/jenis", "ayunan")
    answer(signed_in, audit, "alat[1]/kondisi", "tidak")
    position(signed_in, audit)
    assert signed_in.post(f"/audits/{audit}/submit", {}).status_code == 302
    values = stored(app, audit)
    assert values["lantai"] == 1  # the default, stored with the submission as ODK does
    assert values["alat[1]/rusak"] == "1" and values["total_rusak"] == "1"  # calculations kept as text


@pytest.mark.slow
def test_a_repeat_audit_travels_to_the_hub_is_approved_and_comes_back(tmp_path):
    from app import create_app
    from app.cli import initialise
    from sync import run
    from tests.conftest import Session
    from tests.test_sync_e2e import device_audit, enrol, hub_rows, prepared_hub, review

    hub = prepared_hub(tmp_path / "hub", supervisor=True)
    hub.start()
    try:
        device = create_app({"INSTANCE_PATH": str(tmp_path / "device"), "TESTING": True})
        with device.app_context():
            initialise(seed_demo=False)
        install(Path(device.config["DATA_DIR"]))
        enrol(hub, device)
        browser = Session(device.test_client())
        assert browser.login("siti", "kata-sandi-siti").status_code == 302
        page = browser.client.get("/facilities/?kind=ruang_bermain").get_data(as_text=True)
        facility = page.split('href="/facilities/', 2)[2].split('"', 1)[0]
        audit_id = start(browser, facility, "alat@1")
        for address, value in (("provinsi", "banten"), ("kota", "cilegon")):
            answer(browser, audit_id, address, value)
        for number, (kind, condition) in enumerate((("ayunan", "ya"), ("perosotan", "tidak"), ("ayunan", "ya")), 1):
            add(browser, audit_id)
            answer(browser, audit_id, f"alat[{number}]/jenis", kind)
            answer(browser, audit_id, f"alat[{number}]/kondisi", condition)
            browser.post(f"/audits/{audit_id}/photos/alat[{number}]/foto_alat",
                         {"photo": (io.BytesIO(make_jpeg(color=(40 * number, 140, 60))), f"alat{number}.jpg", "image/jpeg")},
                         headers={"HX-Request": "true"}, content_type="multipart/form-data")
        browser.post(f"/audits/{audit_id}/position", {"lat": "-6.112", "lon": "106.164", "accuracy": "7",
                                                      "source": "gps"})
        assert browser.post(f"/audits/{audit_id}/submit").status_code == 302
        with device.app_context():
            assert run.push().pushed >= 1
        answers = {k: json.loads(v) if isinstance(v, str) else v
                   for k, v in hub_rows(hub, "SELECT item_id, value FROM answer")}
        assert answers["alat"] == 3 and answers["alat[2]/kondisi"] == "tidak" and answers["total_rusak"] == "1"
        photos = sorted(row[0] for row in hub_rows(hub, "SELECT item_id FROM answer_photo"))
        assert photos == ["alat[1]/foto_alat", "alat[2]/foto_alat", "alat[3]/foto_alat"]
        assert hub_rows(hub, "SELECT result FROM audit") == [("belum_memenuhi",)]  # 4 of 6: below 0.8
        review(hub, audit_id, "approved")
        with device.app_context():
            run.pull()
        assert device_audit(device, audit_id)[:2] == ("submitted", "approved")
    finally:
        hub.stop()


def test_once_keeps_its_first_value(app, signed_in, facility):
    install_one(app, "sekali", """\
      - {id: kode, type: calculate, calculation: "once(uuid())"}
      - {id: catatan, type: text, label: {id: Catatan, en: Note}}
      - id: r
        type: repeat
        label: {id: R, en: R}
        items:
          - {id: kode_r, type: calculate, calculation: "once(uuid())"}
          - {id: t, type: text, label: {id: T, en: T}}
""")
    audit = start(signed_in, facility, "sekali@1")
    first = stored(app, audit)["kode"]
    answer(signed_in, audit, "catatan", "satu")
    add(signed_in, audit, "r")
    entry = stored(app, audit)["r[1]/kode_r"]
    answer(signed_in, audit, "r[1]/t", "dua")
    values = stored(app, audit)
    assert values["kode"] == first and values["r[1]/kode_r"] == entry and len(first) == 36 and entry != first


def test_a_recording_is_kept_at_its_item_and_downloaded_never_shown(app, signed_in, audit):
    recording = b"ID3\x04\x00" + bytes(range(256)) * 4
    refused = signed_in.post(f"/audits/{audit}/photos/rekaman", {"photo": (io.BytesIO(b"%PDF-1.7\n" + bytes(64)),
                                                                             "surat.pdf", "application/pdf")},
                             headers={"HX-Request": "true"}, content_type="multipart/form-data")
    assert html(refused).select_one("[data-error-code]")["data-error-code"] == "file.not_audio"
    reply = signed_in.post(f"/audits/{audit}/photos/rekaman", {"photo": (io.BytesIO(recording), "wawancara.mp3",
                                                                           "audio/mpeg")},
                           headers={"HX-Request": "true"}, content_type="multipart/form-data")
    assert reply.status_code == 200
    link = html(reply).select_one("#item-rekaman ul.files a")["href"]
    download = signed_in.client.get(link)
    assert download.data == recording and download.headers["Content-Disposition"].startswith("attachment")
    assert signed_in.client.get(link.replace("/original", "/thumb")).status_code == 404  # no picture to show
    assert answer(signed_in, audit, "rekaman", "x").status_code == 422  # taken by upload only


def test_the_review_names_the_entry_of_what_is_missing(signed_in, audit):
    add(signed_in, audit)
    add(signed_in, audit)
    answer(signed_in, audit, "alat[1]/jenis", "ayunan")
    page = html(signed_in.client.get(f"/audits/{audit}/review"))
    todo = [li.get_text(" ", strip=True) for li in page.select("ul.todo li")]
    assert todo == ["Jenis alat Umum · Alat bermain 2"]  # the item, its section, and which entry
    link = page.select_one("ul.todo li a")["href"]
    assert link.endswith("#item-alat[2]/jenis")


def test_a_select_offers_the_answers_of_a_repeat(signed_in, audit):
    add(signed_in, audit)
    add(signed_in, audit)
    assert not html(signed_in.client.get(f"/audits/{audit}")).select("#item-terbaik input[name=value]")
    reply = html(answer(signed_in, audit, "alat[2]/jenis", "perosotan"))
    assert [i["value"] for i in reply.select("#item-terbaik input[name=value]")] == ["perosotan"]  # re-rendered
    assert html(answer(signed_in, audit, "terbaik", "perosotan")).select_one("#fb-terbaik")["data-state"] == "saved"
    assert html(answer(signed_in, audit, "terbaik", "ayunan")).select_one("#fb-terbaik")["data-state"] == "problem"


def test_last_saved_fills_from_the_auditors_previous_audit(app, signed_in, facility):
    install_one(app, "ulang", """\
      - {id: petugas, type: text, label: {id: Petugas, en: Officer}, default: "${last-saved#petugas}"}
      - {id: jumlah, type: integer, label: {id: Jumlah, en: Count}}
      - {id: selisih, type: calculate, label: {id: Selisih, en: Change}, calculation: "${jumlah} - ${last-saved#jumlah}"}
""")
    first = start(signed_in, facility, "ulang@1")
    assert html(signed_in.client.get(f"/audits/{first}")).select_one("#item-petugas textarea").get_text() == ""
    answer(signed_in, first, "petugas", "Siti Aminah")
    answer(signed_in, first, "jumlah", "4")
    position(signed_in, first)
    assert signed_in.post(f"/audits/{first}/submit", {}).status_code == 302
    second = start(signed_in, facility, "ulang@1")
    assert second != first
    page = html(signed_in.client.get(f"/audits/{second}"))
    assert page.select_one("#item-petugas textarea").get_text() == "Siti Aminah"  # from the audit saved before
    reply = html(answer(signed_in, second, "jumlah", "7"))
    assert reply.select_one("#item-selisih [data-computed]").get_text(strip=True) == "3"
