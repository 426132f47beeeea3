"""Hostile text on every page and export, who may download what, temporary files, sign-in throttling, secrets.

A device (or a user) wrote markup, `%` and gettext placeholders, Jinja syntax, control characters,
NUL and lone surrogates (in JSON answers), NaN and Infinity into what a node stores. Every page that
shows it answers 200 with the text as text (no element of the attacker's exists when the page is
parsed); every export is a file its reader opens. Refusals carry their stable code and change nothing:
not the database, not the photo store, not the data folder. Each row runs on SQLite and, for a hub, on
PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.cli_support import write_transaction
from tests.pages_world import KABKOTA, build, login
from tests.support import fresh_postgres_database, html, postgres_url, require
from tests.sync_corpus import photo_files, snapshot

# What devices and users wrote. Text columns hold no NUL and no lone surrogate (neither database can);
# JSON answers can, as "\u0000" and "\ud800" escapes.
HOSTILE = '<script>x1()</script><b id="inj1">%(m)s</b><img src=x onerror=y()> 100% %s {{ 7*7 }} \x01\x1b\u202e𝕏'
WARNINGS = ("<script>x2()</script>", "gps.%(m)s %", '<b id="inj2">w</b>', "gps.poor_accuracy")
ANSWER = '<b id="inj3">%(m)s</b> % \x00 \ud800 {% raw %}'
MARKERS = re.compile(r"^inj")
FORBIDDEN_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


@dataclass
class Node:
    """A node full of hostile text, with a signed-in browser per persona."""

    app: object
    world: object
    browsers: dict = field(default_factory=dict)

    def browser(self, persona: str):
        if persona not in self.browsers:
            self.browsers[persona] = login(self.app, {"auditor": "siti", "supervisor": "budi", "planner": "dewi",
                                                      "admin": "adi"}[persona])
        return self.browsers[persona]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app_config(request, tmp_path):
    """The function-scoped `app` of the throttling and CSRF rows: a field device on SQLite, a hub on PostgreSQL."""
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "field", "DEMO": False}
    if request.param == "sqlite":
        yield config
        return
    for url in fresh_postgres_database():
        yield {**config, "ROLE": "hub", "SECRET_KEY": "hostile-pages-" + "k" * 32, "SECURE_COOKIES": False,
               "DATABASE_URL": url}


NODES = {
    "sqlite-field": ("sqlite", "field"),
    "sqlite-hub": ("sqlite", "hub"),
    "postgres-hub": ("postgres", "hub"),
}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    """Nodes per database and role, each built once for the module: every row below is a read or a refusal."""
    built: dict[str, Node] = {}
    cleanups: list = []

    def get(name: str) -> Node:
        if name not in built:
            built[name] = _node(name, tmp_path_factory, cleanups)
        return built[name]

    yield get
    for cleanup in reversed(cleanups):
        cleanup()


def _node(name: str, tmp_path_factory, cleanups: list) -> Node:
    """A node of this kind (database, role) full of hostile text."""
    backend, role = NODES[name]
    folder = tmp_path_factory.mktemp(name)
    config = {"INSTANCE_PATH": str(folder / "instance"), "TESTING": True, "ROLE": role, "DEMO": False,
              "SECRET_KEY": "hostile-pages-" + "k" * 32, "SECURE_COOKIES": False}
    if backend == "postgres":
        from tests.test_migrations import make_postgres_database

        admin_url = postgres_url()
        require(admin_url is not None, "PostgreSQL is not answering on 127.0.0.1:5432")
        databases = make_postgres_database(admin_url)
        config["DATABASE_URL"] = next(databases)
        cleanups.append(databases.close)
    app = create_app(config)
    with app.app_context():
        upgrade()
        from sync.service import ensure_self_device

        with write_transaction() as session:
            ensure_self_device(session, role)
    world = build(app, text=HOSTILE, warnings=WARNINGS, answer=ANSWER, peer=True)
    _non_finite_numbers(app, world)
    cleanups.append(lambda: _dispose(app))
    return Node(app, world)


def _dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


def _non_finite_numbers(app, world) -> None:
    """NaN and Infinity where a device sends numbers (SQLite stores NaN as NULL; PostgreSQL keeps it).

    The audit is approved, so indicators count it and their evidence packages show it.
    """
    from indicators import service
    from survey.audits.models import Audit

    with app.app_context(), write_transaction() as session:
        audit = session.get(Audit, uuid.UUID(world.submitted["own"]))
        audit.score, audit.accuracy_m, audit.review_status = float("nan"), float("inf"), "approved"
        session.flush()
        service.compute_year(session, world.year, ZoneInfo(app.config["TIMEZONE"]))


@dataclass(frozen=True)
class Row:
    """One request: who, what, and what must come back (status, stable code or None)."""

    name: str
    persona: str | None
    method: str
    path: str
    status: int
    code: str | None = None
    check: str = ""  # how to read a 200: page, csv, xlsx, geojson, gpkg, zip
    nodes: tuple[str, ...] = tuple(NODES)
    data: dict | None = None
    files: dict | None = None
    records: str = ""  # tables this request legitimately writes (the export marks what it wrote; a hub first
    # publishes what never entered its change log, docs/sync.md "Publishing"); the rest holds


HUBS = ("sqlite-hub", "postgres-hub")
FIELD = ("sqlite-field",)
PAGE_ROWS = [
    Row("audit page: answer, note, GPS warnings, auditor name", "auditor", "GET", "/audits/{submitted_own}", 200, check="page"),
    Row("review page of the audit", "auditor", "GET", "/audits/{submitted_own}/review", 200, check="page"),
    Row("facility page with its history", "auditor", "GET", "/facilities/{facility_own}", 200, check="page"),
    Row("facility list", "auditor", "GET", "/facilities/", 200, check="page"),
    Row("map card of the facility", "auditor", "GET", "/wilayah/36.73.01/map/{facility_own}", 200, check="page"),
    Row("map table", "supervisor", "GET", "/wilayah/36.73.01/table", 200, check="page"),
    Row("review list", "supervisor", "GET", "/reviews/", 200, check="page"),
    Row("conflicts with the devices' values", "supervisor", "GET", "/conflicts/", 200, check="page"),
    Row("users with their full names", "admin", "GET", "/admin/users", 200, check="page"),
    Row("audit log", "admin", "GET", "/audit-log", 200, check="page"),
    Row("start page", "supervisor", "GET", "/", 200, check="page"),
    Row("kecamatan indicator page", "planner", "GET", "/indicators/kecamatan/36.73.01/{year}", 200, check="page"),
    Row("indicator dashboard", "planner", "GET", "/indicators/36.73/{year}", 200, check="page"),
]
EXPORT_ROWS = [
    Row(f"{what} export as {fmt}", "supervisor", "GET", f"/wilayah/36.73.01/export/{what}.{fmt}", 200, check=fmt)
    for what in ("facilities", "audits") for fmt in ("csv", "xlsx", "geojson", "gpkg")
] + [
    Row("indicator table as CSV", "planner", "GET", f"/indicators/{KABKOTA}/{{year}}/export.csv", 200, check="csv"),
    Row("indicator table as XLSX", "planner", "GET", f"/indicators/{KABKOTA}/{{year}}/export.xlsx", 200, check="xlsx"),
] + [
    Row(f"evidence package of indicator {number}", "planner", "GET", f"/indicators/{KABKOTA}/{{year}}/{number}/evidence.zip",
        200, check="zip") for number in (1, 15, 20)
]
ROLE_ROWS = [
    Row("auditor downloads the hub's upstream bundle", "auditor", "GET", "/sync/export", 403, "auth.forbidden", nodes=HUBS),
    Row("supervisor downloads the hub's upstream bundle", "supervisor", "GET", "/sync/export", 403, "auth.forbidden", nodes=HUBS),
    Row("planner points the hub's upstream link elsewhere", "planner", "POST", "/sync/enroll", 403, "auth.forbidden",
        nodes=HUBS, data={"hub": "http://evil.example", "code": "AAAA-BBBB"}),
    Row("auditor points the hub's upstream link elsewhere", "auditor", "POST", "/sync/enroll", 403, "auth.forbidden",
        nodes=HUBS, data={"hub": "http://evil.example", "code": "AAAA-BBBB"}),
    Row("supervisor points the hub's upstream link elsewhere", "supervisor", "POST", "/sync/enroll", 403,
        "auth.forbidden", nodes=HUBS, data={"hub": "http://evil.example", "code": "AAAA-BBBB"}),
    Row("auditor syncs the hub upstream", "auditor", "POST", "/sync/now", 403, "auth.forbidden", nodes=HUBS),
    Row("auditor imports a bundle on the hub", "auditor", "POST", "/sync/upload", 403, "auth.forbidden", nodes=HUBS,
        files={"bundle": b"PK\x03\x04 not a bundle"}),
    Row("auditor downloads a return bundle", "auditor", "GET", "/sync/returns/{return_name}", 403, "auth.forbidden", nodes=HUBS),
    Row("planner downloads a return bundle", "planner", "GET", "/sync/returns/{return_name}", 403, "auth.forbidden", nodes=HUBS),
    Row("a return bundle by a name the hub did not make", "supervisor", "GET", "/sync/returns/return-..%2Fpantau.db.zip",
        404, "request.not_found", nodes=HUBS),
    Row("a return bundle on a field device", "supervisor", "GET", "/sync/returns/return-" + "0" * 32 + ".zip", 404,
        "request.not_found", nodes=FIELD),
    Row("auditor opens another kecamatan's photo", "auditor", "GET", "/photos/{photo_foreign}/original", 404,
        "request.not_found"),
    Row("auditor opens another kecamatan's thumbnail", "auditor", "GET", "/photos/{photo_foreign}/thumb", 404,
        "request.not_found"),
    Row("auditor opens another kecamatan's audit", "auditor", "GET", "/audits/{submitted_foreign}", 404, "audit.not_found"),
    Row("auditor opens another kecamatan's draft", "auditor", "GET", "/audits/{draft_foreign}", 404, "audit.not_found"),
]
TEMP_ROWS = [
    Row("admin downloads the hub's upstream bundle: no copy stays", "admin", "GET", "/sync/export", 200, check="zip",
        nodes=HUBS, records="sync_state sync_change facility_edit checklist_version"),
    Row("auditor downloads the device's bundle: no copy stays", "auditor", "GET", "/sync/export", 200, check="zip",
        nodes=FIELD, records="sync_state"),
    Row("a refused bundle upload leaves no return file", "supervisor", "POST", "/sync/upload", 422, "bundle.",
        nodes=HUBS, files={"bundle": b"PK\x03\x04 not a bundle at all"}),
]
ROWS = PAGE_ROWS + EXPORT_ROWS + ROLE_ROWS + TEMP_ROWS


def _params():
    for row in ROWS:
        for name in row.nodes:
            marks = [pytest.mark.postgres] if name.startswith("postgres") else []
            yield pytest.param(name, row, id=f"{name}-{row.name}", marks=marks)


@pytest.mark.parametrize("node_name,row", list(_params()))
def test_hostile_row(nodes, node_name, row):
    from maps.exports import available_formats

    if row.check == "gpkg" and "gpkg" not in available_formats():
        require(False, "GeoPackage export needs the GIS stack")
    node = nodes(node_name)
    browser = node.browser(row.persona)
    path = _fill(row.path, node.world)
    before = _state(node.app, row.records)
    if row.method == "GET":
        response = browser.client.get(path)
    else:
        data = {**(row.data or {}), **{k: (io.BytesIO(v), "bundle.zip") for k, v in (row.files or {}).items()}}
        response = browser.post(path, data)
    assert response.status_code == row.status, response.get_data(as_text=True)[:500]
    if row.code:
        code = _code(response)
        assert code and (code.startswith(row.code) if row.code.endswith(".") else code == row.code), code
    if row.check:
        CHECKS[row.check](response)
    assert _state(node.app, row.records) == before, "the request changed the database, the photo store or the data folder"


def _fill(path: str, world) -> str:
    return path.format(submitted_own=world.submitted["own"], submitted_foreign=world.submitted["foreign"],
                       draft_foreign=world.draft["foreign"], facility_own=world.facility["own"],
                       photo_foreign=world.photo["foreign"], return_name=world.return_name, year=world.year)


def _state(app, records: str = "") -> tuple:
    data = Path(app.config["DATA_DIR"])
    with app.app_context(), write_transaction() as session:
        rows = snapshot(session, hashed=("audit", "answer", "facility", "device", "sync_conflict", "user_account",
                                          "sync_change", "sync_peer", "sync_state"))
    rows = {key: value for key, value in rows.items() if key.split()[-1] not in records.split()}
    files = {str(p.relative_to(data)) for p in data.rglob("*") if p.is_file() and not p.name.startswith("pantau.db")}
    return rows, photo_files(data / "photos"), files


def _code(response) -> str | None:
    if response.is_json:
        return ((response.get_json(silent=True) or {}).get("error") or {}).get("code")
    found = html(response).select_one("[data-error-code]")
    return found["data-error-code"] if found else None


# -- reading what came back ----------------------------------------------------------------------------

def check_page(response) -> None:
    """No element, script or handler of the attacker's exists; the text is there as text."""
    page = html(response)
    assert not page.find(id=MARKERS), "device text became an element"
    assert not [s for s in page.find_all("script") if not s.get("src")], "device text became a script"
    handlers = [tag for tag in page.find_all(True) for attr in tag.attrs if attr.startswith("on")]
    assert not handlers, f"device text became an event handler: {handlers[:1]}"


def check_csv(response) -> None:
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows and not FORBIDDEN_IN_XLSX.search(text)
    assert all(not cell.startswith(("=", "+", "@")) for row in rows[1:] for cell in row)


def check_xlsx(response) -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.get_data()))
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for cell in row:
                assert not (isinstance(cell, str) and FORBIDDEN_IN_XLSX.search(cell)), repr(cell)
                assert not (isinstance(cell, float) and cell != cell), "NaN written"


def check_geojson(response) -> None:
    def refuse(constant):
        raise AssertionError(f"{constant} in GeoJSON")

    collection = json.loads(response.get_data().decode("utf-8"), parse_constant=refuse)
    assert collection["type"] == "FeatureCollection" and collection["features"]


def check_gpkg(response) -> None:
    assert response.get_data()[:16] == b"SQLite format 3\x00"


def check_zip(response) -> None:
    assert zipfile.is_zipfile(io.BytesIO(response.get_data()))


CHECKS = {"page": check_page, "csv": check_csv, "xlsx": check_xlsx, "geojson": check_geojson, "gpkg": check_gpkg,
          "zip": check_zip}


# -- sign-in throttling ----------------------------------------------------------------------------------

def _last_login(app, username: str):
    from app.auth.models import User

    with app.app_context(), write_transaction() as session:
        return session.execute(select(User.last_login_at).where(User.username == username)).scalar_one()


@pytest.mark.parametrize("name,attempts,expected,code", [
    ("six wrong passwords for one account from six addresses", [("siti", "salah", f"10.0.0.{i}") for i in range(6)],
     [401] * 5 + [429], "auth.throttled"),
    ("the right password while the account is throttled", [("siti", "salah", "10.0.1.1")] * 5
     + [("siti", "rahasia-123", "10.0.1.2")], [401] * 5 + [429], "auth.throttled"),
    ("eleven wrong sign-ins from one address, each another account", [(f"user{i}", "x", "10.0.2.1") for i in range(11)],
     [401] * 10 + [429], "auth.throttled"),
    ("twelve good sign-ins from one office address are never throttled", [("siti", "rahasia-123", "10.0.3.1")] * 12,
     [302] * 12, None),
    ("other accounts and addresses are not held back by one being throttled", [("siti", "salah", "10.0.4.1")] * 5
     + [("budi", "rahasia-123", "10.0.4.2")], [401] * 5 + [302], None),
])
def test_sign_in_throttling(app, auditor, supervisor, name, attempts, expected, code):
    statuses = []
    for username, password, address in attempts:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        token = html(client.get("/login")).find("input", {"name": "csrf_token"})["value"]
        response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        statuses.append(response.status_code)
    assert statuses == expected
    if code:
        page = html(response)
        assert page.select_one("form input[name=username]"), "the sign-in form stays on the page"
        assert page.select_one(".notice.error")["data-error-code"] == code
        assert "Tunggu" in page.select_one(".notice.error").text  # Indonesian by default
        if expected[-1] == 429 and attempts[-1][1] == "rahasia-123":
            assert _last_login(app, "siti") is None, "a throttled sign-in signed in"


def test_throttle_message_in_english(app, auditor):
    client = app.test_client()
    client.post("/language", data={"locale": "en", "csrf_token": html(client.get("/login")).find(
        "input", {"name": "csrf_token"})["value"]})
    for _ in range(6):
        token = html(client.get("/login")).find("input", {"name": "csrf_token"})["value"]
        response = client.post("/login", data={"username": "siti", "password": "salah", "csrf_token": token})
    assert response.status_code == 429
    assert "Wait" in html(response).select_one(".notice.error").text


def test_each_app_counts_its_own_attempts(tmp_path):
    """Tests build a fresh app each: one app's failures never throttle the next app's sign-ins."""
    from tests.conftest import make_user

    for run in range(2):
        app = _fresh(tmp_path / f"run{run}")
        make_user(app, "siti", "auditor")
        client = app.test_client()
        statuses = []
        for _ in range(5):
            token = html(client.get("/login")).find("input", {"name": "csrf_token"})["value"]
            statuses.append(client.post("/login", data={"username": "siti", "password": "salah",
                                                        "csrf_token": token}).status_code)
        assert statuses == [401] * 5


def _fresh(folder: Path, **config):
    app = create_app({"INSTANCE_PATH": str(folder), "TESTING": True, "ROLE": "field", "DEMO": False, **config})
    with app.app_context():
        upgrade()
    return app


# -- secrets ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,config,refusal", [
    ("a hub without a key", {"ROLE": "hub"}, "SECRET_KEY"),
    ("a hub with a 31-character key", {"ROLE": "hub", "SECRET_KEY": "k" * 31}, "too short"),
    ("a hub with an 8-character key from the settings file", {"ROLE": "hub", "SECRET_KEY": "rahasia1"}, "terlalu pendek"),
    ("a hub with a 32-character key starts", {"ROLE": "hub", "SECRET_KEY": "k" * 32}, None),
    ("a field device makes its own key", {"ROLE": "field"}, None),
])
def test_secret_key_rules(tmp_path, name, config, refusal):
    if refusal:
        with pytest.raises(RuntimeError, match=refusal) as raised:
            create_app({"INSTANCE_PATH": str(tmp_path), **config})
        assert "SECRET_KEY" in str(raised.value) and "hub" in str(raised.value).lower()
    else:
        assert len(create_app({"INSTANCE_PATH": str(tmp_path), **config}).config["SECRET_KEY"]) >= 32


def test_generated_secret_key_is_private_from_the_first_byte(tmp_path):
    old = os.umask(0)  # a careless umask: only the mode given at creation protects the file
    try:
        create_app({"INSTANCE_PATH": str(tmp_path), "ROLE": "field"})
    finally:
        os.umask(old)
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".secret_key.*")), "the temporary key file stayed"


def test_desktop_state_file_is_private(tmp_path):
    from app.desktop.single import STATE_FILE, SingleInstance

    old = os.umask(0)
    try:
        single = SingleInstance(tmp_path)
        assert single.acquire()
        single.listen("http://127.0.0.1:1/", lambda: None)
    finally:
        os.umask(old)
    try:
        assert (tmp_path / STATE_FILE).stat().st_mode & 0o777 == 0o600
    finally:
        single.close()
        single.release()


def test_csrf_token_expires(app, auditor, monkeypatch):
    """A form left open longer than CSRF_TIME_LIMIT_HOURS is refused with request.csrf and changes nothing."""
    import itsdangerous.timed

    assert app.config["WTF_CSRF_TIME_LIMIT"] == 12 * 3600
    client = app.test_client()
    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 13 * 3600)
    token = html(client.get("/login")).find("input", {"name": "csrf_token"})["value"]
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", real)
    response = client.post("/login", data={"username": "siti", "password": "rahasia-123", "csrf_token": token})
    assert response.status_code == 400 and _code(response) == "request.csrf"
    assert _last_login(app, "siti") is None
    fresh = html(client.get("/login")).find("input", {"name": "csrf_token"})["value"]
    assert client.post("/login", data={"username": "siti", "password": "rahasia-123", "csrf_token": fresh}).status_code == 302


# -- template gettext, one expression at a time ----------------------------------------------------------

@pytest.fixture(scope="module")
def text_app(tmp_path_factory):
    """An app to render template snippets with (no database needed)."""
    return create_app({"INSTANCE_PATH": str(tmp_path_factory.mktemp("text")), "TESTING": True, "DEMO": False})


@pytest.mark.parametrize("name,source,value,present,absent", [
    ("markup as a msgid is text", "{{ _(v) }}", "<b>x</b>", "&lt;b&gt;x&lt;/b&gt;", "<b>"),
    ("% and placeholders in a msgid never raise", "{{ _(v, m=3) }}", "100% %(m)s %s", "100% %(m)s %s", None),
    ("ngettext with device text", "{{ ngettext(v, v, 2) }}", "<i>%(num)d</i>", "&lt;i&gt;%(num)d&lt;/i&gt;", "<i>"),
    ("a known msgid escapes its params", "{{ _('Map of %(name)s', name=v) }}", "<b>x</b>", "&lt;b&gt;x&lt;/b&gt;", "<b>"),
    ("a known msgid without its param never raises", "{{ _('Map of %(name)s') }}", "", "%(name)s", None),
    ("an unknown label value is text", "{{ label(answer_labels, v) }}", "<script>x()</script>", "&lt;script&gt;", "<script>"),
    ("a known label value is translated", "{{ label(answer_labels, v) }}", "ya", "Ya", None),
    ("a warning code with markup and a param", "{{ label(warning_messages, v, m=3) }}", "<b>%(m)s</b>", "&lt;b&gt;%(m)s", "<b>"),
    ("our own markup in a param still renders", "{{ _('Every demo account has the password %(password)s.', "
     "password='<code>demo</code>'|safe) }}", "", "<code>demo</code>", None),
    ("a lone surrogate is printable", "{{ v }}", "a\ud800b\x00", "a\ufffdb\ufffd", None),
    ("Infinity as a whole number", "{{ v|int }}", float("inf"), "0", None),
])
def test_template_text_rules(text_app, name, source, value, present, absent):
    from flask import render_template_string

    with text_app.test_request_context():
        out = render_template_string(source, v=value)
    out.encode("utf-8")  # the response can always be encoded
    assert present in out
    if absent:
        assert absent not in out
