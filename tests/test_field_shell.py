"""The installed field app's shell on the hub (`/app/`): its page speaks both languages offline, its service worker
keeps exactly the app's files under a version of their content, its manifest and icons make it installable, and
the checklist markup it is given is the desktop page's own."""

from __future__ import annotations

import json
import re

from app import create_app
from fieldapp.texts import APP_TEXTS
from tests.support import ROOT, migrate


def texts_of(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="app-texts">(.*?)</script>', html, re.S).group(1))


def test_the_shell_carries_every_text_in_both_languages(client):
    html = client.get("/app/").get_data(as_text=True)
    texts = texts_of(html)
    assert set(texts) == {"id", "en"} and set(texts["id"]) == set(texts["en"]) >= set(APP_TEXTS)
    assert texts["id"]["prepare.title"] == "Siapkan untuk lapangan" and texts["en"]["prepare.title"] == "Prepare for the field"
    untranslated = [key for key in APP_TEXTS if texts["id"][key] == texts["en"][key] and key not in ("auditor.pin", "role.auditor", "settings.scope")]
    assert not untranslated, f"texts without Indonesian: {untranslated}"
    assert 'rel="manifest"' in html and "<script>" not in html  # no inline script: the page CSP holds


def test_the_service_worker_keeps_exactly_the_app_files_and_they_exist(client):
    body = client.get("/app/sw.js")
    assert body.headers["Cache-Control"] == "no-cache" and body.mimetype == "text/javascript"
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", body.get_data(as_text=True)).group(1))
    for url in assets:
        assert client.get(url).status_code == 200, url
    app_modules = {f"/static/app/{p.name}" for p in (ROOT / "static" / "app").glob("*.js")}
    engine = {f"/static/js/engine/{p.name}" for p in (ROOT / "static" / "js" / "engine").glob("*.js")}
    assert app_modules | engine <= set(assets), "every module the app imports is kept offline"
    assert not [url for url in assets if "://" in url], "nothing from another host"


def test_a_new_release_is_a_new_worker_version(tmp_path):
    versions = []
    for release in ("", "2"):
        app = create_app({"INSTANCE_PATH": str(tmp_path / release / "instance"), "TESTING": True, "ROLE": "hub",
                          "SECRET_KEY": "x" * 40, "FIELD_APP_RELEASE": release})
        with app.app_context():
            migrate(app)
        body = app.test_client().get("/app/sw.js").get_data(as_text=True)
        versions.append(re.search(r"const VERSION = '([0-9a-f]+)'", body).group(1))
    assert versions[0] != versions[1]


def test_manifest_and_icons_make_it_installable(client):
    manifest = client.get("/app/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    data = manifest.get_json(force=True)
    assert data["start_url"] == "/app/" and data["scope"] == "/app/" and data["display"] == "standalone"
    for icon in data["icons"]:
        png = client.get(icon["src"])
        assert png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
        from io import BytesIO

        from PIL import Image

        assert Image.open(BytesIO(png.data)).size == tuple(int(n) for n in icon["sizes"].split("x"))
    assert client.get("/app/icon-64.png").status_code == 404


def test_api_refusals_come_in_the_language_the_app_asks_for(client):
    """The app sends X-Locale; a refusal's message is in that language whatever the hub's default."""
    messages = {locale: client.get("/api/v1/sync/status", headers={"X-Locale": locale}).get_json()["error"]["message"]
                for locale in ("id", "en", "xx")}
    assert messages["id"] != messages["en"] and messages["xx"] == messages["id"]  # unknown: the hub's default


def test_offline_markup_is_the_checklist_pages_own(app):
    """Every item card the desktop page can show is in the offline markup, with one template per repeat."""
    from fieldapp.markup import render_sections
    from survey.checklist import checklist_from_dict
    from survey.form import blank_layout

    text = (ROOT / "tests" / "conformance" / "engine.json").read_text()
    form = next(v["form"] for v in json.loads(text)["vectors"] if v["id"] == "form-repeat-001")
    checklist = checklist_from_dict(form, "conformance")
    with app.test_request_context("/app/"):
        html = render_sections(checklist, "en")
    assert 'data-instance-template="alat"' in html
    assert 'id="item-alat[1]/kondisi"' in html and 'data-item="alat[1]/kondisi"' in html
    assert 'id="item-jumlah_alat"' in html and "data-answer-form" in html
    assert html.count('id="section-s"') == 1
    assert [e.kind for e in blank_layout(checklist, checklist.sections[0])] == ["item", "repeat", "item", "item"]


def test_behind_a_tls_proxy_the_enrollment_url_is_the_public_https_one(tmp_path):
    """PANTAU_PROXY_COUNT=1: the proxy's X-Forwarded-* headers name the scheme and host links are made with; without
    it they are ignored (a client cannot choose the address its QR code points at)."""
    from flask import url_for

    for proxies, expected in ((1, "https://kla.example.go.id/app/"), (0, "http://localhost/app/")):
        app = create_app({"INSTANCE_PATH": str(tmp_path / str(proxies)), "TESTING": True, "ROLE": "hub",
                          "SECRET_KEY": "x" * 40, "PROXY_COUNT": proxies})
        seen = {}

        @app.get("/probe-url")
        def probe():
            seen["url"] = url_for("fieldapp.shell", _external=True)
            return "ok"

        app.test_client().get("/probe-url", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "kla.example.go.id"})
        assert seen["url"] == expected
