"""Right facts on every screen: dates in the user's locale and zone, photo times as the camera took them, no developer notes."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from flask_babel import force_locale

from app.cli_support import write_transaction
from tests import indicator_scenario
from tests.conftest import Session, make_facility, make_user
from tests.support import html, make_jpeg

WHEN = dt.datetime(2026, 12, 6, 0, 24, tzinfo=dt.timezone.utc)  # 07:24 WIB
US_FORMATS = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2}\b(?!\d)|\b\d{1,2}:\d{2}(:\d{2})?\s?[AP]M\b|\bDec \d{1,2}, 20\d\d\b")


@pytest.mark.parametrize("locale, when, day, clock", [
    ("id", "06/12/2026 07.24", "06/12/2026", "07.24"),
    ("en", "6 Dec 2026, 07:24", "6 Dec 2026", "07:24"),
])
def test_dates_render_in_the_users_locale_and_zone(app, locale, when, day, clock):
    template = app.jinja_env.from_string("{{ t|datetime }}|{{ t|datetime('short') }}|{{ t|datetime('medium') }}|"
                                         "{{ t|date }}|{{ t|date('medium') }}|{{ none|datetime }}|{{ t|datetime('seconds') }}")
    with app.test_request_context(), force_locale(locale):
        rendered = template.render(t=WHEN)
    assert rendered.rsplit("|", 1)[0] == f"{when}|{when}|{when}|{day}|{day}|–"
    assert rendered.rsplit("|", 1)[1].startswith(clock) and len(rendered.rsplit("|", 1)[1]) == 8  # a save's time


@pytest.mark.parametrize("locale, shown", [("id", "06/12/2026 07.24"), ("en", "6 Dec 2026, 07:24")])
def test_a_page_shows_the_registration_time_in_the_users_locale(app, auth, auditor, facility, locale, shown):
    from survey.facilities.models import Facility

    with app.app_context(), write_transaction() as session:
        session.get(Facility, uuid.UUID(facility)).created_at = WHEN
    auth.login("siti")
    auth.post("/language", {"locale": locale})
    page = html(auth.client.get(f"/facilities/{facility}"))
    facts = {dt_.get_text(strip=True): dt_.find_next_sibling("dd").get_text(strip=True) for dt_ in page.select("dl dt")}
    assert facts["Terdaftar" if locale == "id" else "Registered"] == shown
    assert not US_FORMATS.search(page.get_text(" "))


# --- No developer notes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("source, shown", [
    ("UU 36/2009 tentang Kesehatan Ps. 115; PP 109/2012; kla-reference.md §3", "UU 36/2009 tentang Kesehatan Ps. 115; PP 109/2012"),
    ('KemenPPPA, slide "KLA 24 indikator" (kla-reference §1); PKA criteria weak (§3 PKA)',
     'KemenPPPA, slide "KLA 24 indikator"; PKA criteria weak'),
    ("KTR named in Klaster III (kla-reference §1, weak); UU 36/2009 Ps. 115, PP 109/2012 (§3 KTR)",
     "KTR named in Klaster III (weak); UU 36/2009 Ps. 115, PP 109/2012"),
    ("Perpres 25/2021; Permen PPPA 12/2022; kla-reference.md §1-§3", "Perpres 25/2021; Permen PPPA 12/2022"),
    ("Subject only: kla-reference §1, Klaster II", "Subject only: Klaster II"),
    ("SNI 9169:2023", "SNI 9169:2023"),
    (None, ""),
])
def test_source_lines_lose_the_research_note_citations(source, shown):
    from app.i18n import source_text

    assert source_text(source) == shown


def _pages(auditor: Session, planner: Session, scenario) -> dict[str, str]:
    """Every page that shows a checklist or indicator source, as markup: the auditor's and the planner's."""
    ids = scenario["facilities"]
    pages = {}
    for client, paths in (
            (auditor.client, [f"/facilities/{ids[key]}/audits/new" for key in ("A", "play1", "pusk1", "pka")]
             + [f"/audits/{scenario['audits'][key]}" for key in ("A", "A-ktr", "play1", "pusk1", "pka")]),
            (planner.client, ["/indicators/36.73/2026", "/indicators/kecamatan/36.73.01/2026"]
             + [f"/indicators/36.73/2026/{number}" for number in range(1, 25)])):
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            pages[path] = response.get_data(as_text=True)
    for number in (15, 18):
        archive = zipfile.ZipFile(io.BytesIO(planner.client.get(f"/indicators/36.73/2026/{number}/evidence.zip").data))
        pages[f"evidence {number}"] = archive.read("report.html").decode()
    return pages


@pytest.mark.parametrize("locale", ["id", "en"])
def test_no_page_shows_developer_notes(app, client, kota_serang, locale):
    scenario = indicator_scenario.build(app)
    make_user(app, "dewi", "planner")
    with app.app_context(), write_transaction() as session:
        from indicators import service

        service.compute_year(session, 2026, ZoneInfo(app.config["TIMEZONE"]))
    sessions = []
    for username in ("siti", "dewi"):
        person = Session(app.test_client())
        person.login(username)
        person.post("/language", {"locale": locale})
        sessions.append(person)
    pages = _pages(*sessions, scenario)
    for name, page in pages.items():
        assert "kla-reference" not in page and ".md §" not in page, name
    start = BeautifulSoup(pages[f"/facilities/{scenario['facilities']['A']}/audits/new"], "html.parser")
    sources = [s.get_text(strip=True) for s in start.select(".choice-card .small.muted")]
    word = "Sumber" if locale == "id" else "Source"
    law = "Permen PPPA 8/2014" if locale == "id" else "Ministerial Regulation PPPA 8/2014"
    assert any(s.startswith(f"{word}: {law}") for s in sources), sources
    audit = BeautifulSoup(pages[f"/audits/{scenario['audits']['A']}"], "html.parser")
    section = audit.select_one("details.source p").get_text(" ", strip=True)
    assert section.startswith(law), section


# --- Photo times through a sync -------------------------------------------------------------------------------


def _captions(page: BeautifulSoup) -> list[str]:
    return sorted(span.get_text(strip=True) for span in page.select("ul.photos .photo-time"))


@pytest.mark.slow
def test_photo_time_survives_the_sync_to_the_hub_and_the_evidence_report(tmp_path):
    """A photo taken at 10:00 WIB (no offset in EXIF) and one at 10:00 WITA (+08:00, 09:00 WIB): both shown right everywhere."""
    from tests.test_sync_e2e import KTR, enrol, flask, hub_app, prepared_hub, review
    from app import create_app
    from app.cli import initialise

    hub = prepared_hub(tmp_path / "hub", supervisor=True)
    flask(hub, "users", "create", "dewi", "--role", "planner", "--password-stdin", stdin="kata-sandi-dewi\n")
    hub.start()
    try:
        device = create_app({"INSTANCE_PATH": str(tmp_path / "device"), "TESTING": True})
        with device.app_context():
            initialise(seed_demo=False)
        enrol(hub, device)
        tablet = Session(device.test_client())
        assert tablet.login("siti", "kata-sandi-siti").status_code == 302
        listing = tablet.client.get("/facilities/?q=Puskesmas").get_data(as_text=True)
        facility = listing.split('href="/facilities/', 2)[2].split('"', 1)[0]
        audit_id = tablet.post(f"/facilities/{facility}/audits/new", {"checklist": "ktr@1"}).headers["Location"].rsplit("/", 1)[1]
        for item in KTR:
            tablet.post(f"/audits/{audit_id}/answers/{item}", {"value": "ya"})
        for offset in (None, "+08:00"):
            jpeg = make_jpeg(exif_time="2026:11:20 10:00:00", exif_offset=offset)
            added = tablet.post(f"/audits/{audit_id}/photos/foto_bukti_ktr", {"photo": (io.BytesIO(jpeg), "foto.jpg")},
                                content_type="multipart/form-data")
            assert added.status_code == 200, added.get_data(as_text=True)
        expected = ["20/11/2026 09.00", "20/11/2026 10.00"]
        assert _captions(html(tablet.client.get(f"/audits/{audit_id}"))) == expected
        tablet.post(f"/audits/{audit_id}/position", {"lat": "-6.112", "lon": "106.164", "accuracy": "7", "source": "gps"})
        assert tablet.post(f"/audits/{audit_id}/submit").status_code == 302
        from sync import run

        with device.app_context():
            run.push()

        office = hub_app(hub)
        office.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
        supervisor = Session(office.test_client())
        assert supervisor.login("budi", "kata-sandi-budi").status_code == 302
        hub_page = html(supervisor.client.get(f"/audits/{audit_id}"))
        assert _captions(hub_page) == expected
        label = "Foto bukti (tanda KTR, atau pelanggaran yang ditemukan)"
        alts = sorted(img["alt"] for img in hub_page.select("ul.photos img"))
        assert [alt.split(", diambil ")[1] for alt in alts] in (expected, expected[::-1])
        assert sorted(alt.split(", diambil ")[0] for alt in alts) == [f"Foto 1 dari {label}", f"Foto 2 dari {label}"]
        assert not hub_page.select("ul.photos code.sha")  # a hash is no caption

        review(hub, audit_id, "approved")
        from indicators import service

        with office.app_context(), write_transaction() as session:
            service.compute_year(session, 2026, ZoneInfo("Asia/Jakarta"))
        planner = Session(office.test_client())
        assert planner.login("dewi", "kata-sandi-dewi").status_code == 302
        zipped = planner.client.get("/indicators/36.73/2026/15/evidence.zip")
        assert zipped.mimetype == "application/zip", zipped.get_data(as_text=True)[:500]
        report = BeautifulSoup(zipfile.ZipFile(io.BytesIO(zipped.data)).read("report.html"), "html.parser")
        times = sorted(span.get_text(strip=True) for span in report.select("figure .photo-time"))
        assert times == ["diambil 20/11/2026 09.00", "diambil 20/11/2026 10.00"]
        assert [fig.select_one("figcaption strong").get_text(strip=True) for fig in report.select("figure")] == [label] * 2
    finally:
        hub.stop()
