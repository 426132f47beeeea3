"""Bahasa Indonesia first, English second: every string translated, the choice remembered, Indonesian formats."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from babel.messages.pofile import read_po
from flask_babel import force_locale, format_date, format_decimal

from app.auth.queries import user_by_username
from tests.support import ROOT, html


def test_every_ui_string_has_an_indonesian_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "--no-location",
                    "-F", "babel.cfg", "-k", "N_", "-k", "_l", "-o", str(pot), "."], cwd=ROOT, check=True)
    with open(pot, "rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with open(ROOT / "translations/id/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                  if m.id and (m.string if isinstance(m.string, str) else m.string[0]) and not m.fuzzy}
    missing = sorted(wanted - translated)
    assert not missing, f"untranslated (run `make extract` and translate): {missing[:10]}"


def test_language_switch_is_remembered_for_the_user(app, auth, auditor):
    auth.login("siti")
    assert html(auth.client.get("/facilities/")).html["lang"] == "id"
    assert "Fasilitas" in html(auth.client.get("/facilities/")).h1.get_text()
    auth.post("/language", {"locale": "en", "next": "/facilities/"})
    page = html(auth.client.get("/facilities/"))
    assert page.html["lang"] == "en" and page.h1.get_text() == "Facilities"
    with app.app_context():
        from app.extensions import db

        assert user_by_username(db.session, "siti").locale == "en"


def test_unknown_language_is_ignored(auth, auditor):
    auth.login("siti")
    auth.post("/language", {"locale": "fr"})
    assert html(auth.client.get("/facilities/")).html["lang"] == "id"


def test_language_switch_before_sign_in(client):
    from tests.conftest import Session

    Session(client).post("/language", {"locale": "en", "next": "/login"})
    assert html(client.get("/login")).html["lang"] == "en"


def test_indonesian_number_and_date_formats(app):
    with app.test_request_context(), force_locale("id"):
        assert format_decimal(1234567.5) == "1.234.567,5"
        assert format_date(dt.date(2026, 8, 17), "long") == "17 Agustus 2026"
    with app.test_request_context(), force_locale("en"):
        assert format_decimal(1234567.5) == "1,234,567.5"
