"""Who may do what: every route of the URL map × every persona × GET / POST without CSRF / POST with CSRF.

The expected outcome of each (route, persona) is declared in MATRIX below, for a field device and for a
hub where they differ. A route the app has and MATRIX lacks fails the test: whoever adds a route decides
who may use it. URL parameters come from `tests.pages_world`: the auditor persona uses Kecamatan Serang
(36.73.01, their own) and Kasemen (36.73.02, another kecamatan's) resources.

Outcomes:
  O  the view ran (a page, a redirect elsewhere, or a refusal of the request's content: 400/409/422)
  L  redirected to the sign-in page          D  403 (role)          H  404 (out of scope or not here)
  U  401 (no valid device token)             R  401 or 403 (a revoked device's token)
  P  a public door anyone may knock on: anything but 5xx, 403 (throttling may answer 429)
  C  400 request.csrf (only for POST without a CSRF token)
A POST without CSRF token is refused (C) for every persona on every cookie route and changes nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.cli_support import write_transaction
from tests.pages_world import FOREIGN_KECAMATAN, KABKOTA, OWN_KECAMATAN, PHOTO_ITEM, YNP_ITEM, build, login
from tests.sync_corpus import photo_files, snapshot

PERSONAS = ("anonymous", "auditor_own", "auditor_foreign", "supervisor", "planner", "admin", "device", "revoked")
# Who signs in as whom; the device personas only send their bearer token.
USERNAMES = {"auditor_own": "siti", "auditor_foreign": "siti", "supervisor": "budi", "planner": "dewi", "admin": "adi"}

# One string per route: the outcomes for the personas in PERSONAS order; a pair (field, hub) where they differ.
SIGNED_IN = "L O O O O O L L"
ADMIN_ONLY = "L D D D D O L L"
REVIEWERS = "L D D O D O L L"  # supervisor and admin
VIEWERS = "L D D O O O L L"  # indicators: planner, supervisor, admin
OWN_AUDITOR = "L O H D D D L L"  # the auditor's own audit or facility; another kecamatan's is not found
OWN_VISIBLE = "L O H O O O L L"
OWN_REGION = "L O D O O O L L"  # a region's map outside the auditor's kecamatan: 403 (regions are no secret)
API = "U U U U U U O R"
PUBLIC = "P P P P P P P P"

MATRIX: dict[str, str | tuple[str, str]] = {
    "static": "O O O O O O O O",
    "core.healthz": "O O O O O O O O",
    "openapi": "O O O O O O O O",
    "core.home": SIGNED_IN,
    "core.language": "O O O O O O O O",
    "core.audit_log": REVIEWERS,
    "auth.login": "O O O O O O O O",  # an empty form is shown again; signed in: off to the start page
    "auth.logout": "L L L L L L L L",  # signed out (or never in): back to the sign-in page
    "auth.users": ADMIN_ONLY,
    "auth.user_new": ADMIN_ONLY,
    "auth.user_edit": ADMIN_ONLY,
    "sync_api.enroll": PUBLIC,
    "sync_api.status": API,
    "sync_api.pull": API,
    "sync_api.push": API,
    "sync_api.photos_missing": API,
    "sync_api.photo_put": API,
    "sync_api.own": API,
    "sync_api.photo_get": "U U U U U U H R",  # the world's photo is no photo of the device's own audits
    "field_api.field_package": API,
    "field_api.auditor": API,  # the device persona sends no body: refused as a bad request, not for who it is
    "fieldapp.shell": "O O O O O O O O",  # the installed app's page: it signs its auditors on itself
    "fieldapp.service_worker": "O O O O O O O O",  # and what installs it: its worker, manifest and icons
    "fieldapp.manifest": "O O O O O O O O",
    "fieldapp.icon": "O O O O O O O O",
    "facilities.index": SIGNED_IN,
    "facilities.show": OWN_VISIBLE,
    "facilities.new": "L O O O D O L L",
    "facilities.edit": REVIEWERS,
    "facilities.verify": REVIEWERS,
    "audits.start": OWN_AUDITOR,
    "audits.show": OWN_VISIBLE,
    "audits.review_page": OWN_VISIBLE,
    "audits.answer": OWN_AUDITOR,
    "audits.note": OWN_AUDITOR,
    "audits.add_photo": OWN_AUDITOR,
    "audits.remove_photo": OWN_AUDITOR,
    "audits.add_instance": OWN_AUDITOR,  # the world's checklists have no repeat: a refusal of the content (O)
    "audits.remove_instance": OWN_AUDITOR,
    "audits.position": OWN_AUDITOR,
    "audits.submit_audit": OWN_AUDITOR,
    "audits.revise_audit": OWN_AUDITOR,
    "audits.discard": OWN_AUDITOR,
    "audits.photo": OWN_VISIBLE,
    "sync.devices": REVIEWERS,
    "sync.register": REVIEWERS,
    "sync.revoke": REVIEWERS,
    "sync.restart_seen": REVIEWERS,
    "sync.review_list": REVIEWERS,
    "sync.decide": REVIEWERS,
    "sync.conflicts": REVIEWERS,
    "sync.resolve": REVIEWERS,
    "sync.first_run": "L L L L L L L L",  # the device has accounts: setup is closed
    "sync.status": SIGNED_IN,
    # On a hub the upstream link, the upstream bundle and syncing speak for the whole hub: admins only.
    "sync.enroll": ("L O O O D O L L", "L D D D D O L L"),
    "sync.export": (SIGNED_IN, ADMIN_ONLY),
    "sync.sync_now": (SIGNED_IN, ADMIN_ONLY),
    "sync.upload": ("L O O O D O L L", REVIEWERS),
    "sync.return_bundle": ("L D D H D H L L", REVIEWERS),
    "tiles.tile": "L H H H H H L L",  # no basemap configured
    "maps.maps_home": SIGNED_IN,
    "maps.show": OWN_REGION,
    "maps.boundary": OWN_REGION,
    "maps.map_page": OWN_REGION,
    "maps.map_card": OWN_REGION,
    "maps.table_page": OWN_REGION,
    "maps.facilities_geojson": OWN_REGION,
    "maps.layer_geojson": OWN_REGION,
    "maps.coverage_geojson": OWN_REGION,
    "maps.download": "L D D O O O L L",
    "indicators.index": VIEWERS,
    "indicators.dashboard": VIEWERS,
    "indicators.kecamatan": VIEWERS,
    "indicators.indicator": VIEWERS,
    "indicators.map_geojson": VIEWERS,
    "indicators.export": VIEWERS,
    "indicators.evidence_package": VIEWERS,
    "indicators.compute": VIEWERS,
    "indicators.entry": "L D D D O O L L",
    "indicators.points": ADMIN_ONLY,
    "indicators.evidence_file": "L D D H H H L L",  # no such evidence file
    # The checklist catalog exists on hubs only (devices receive published versions by sync).
    "catalog.index": ("L D D D D H L L", ADMIN_ONLY),
    "catalog.upload": ("L D D D D H L L", ADMIN_ONLY),
    "catalog.version": ("L D D D D H L L", ADMIN_ONLY),
    "catalog.preview": ("L D D D D H L L", ADMIN_ONLY),
    "catalog.download": ("L D D D D H L L", ADMIN_ONLY),
    "catalog.publish": ("L D D D D H L L", ADMIN_ONLY),
    "catalog.retire": ("L D D D D H L L", ADMIN_ONLY),
    # A field device's backup: saved by anyone signed in; restored only while nobody can sign in; no hub has them.
    "backup.download": ("L O O O O O L L", "H H H H H H H H"),
    "backup.restore": ("L L L L L L L L", "H H H H H H H H"),
}
# Run last: they end a persona's session or delete the resource other requests use.
LAST = ("audits.discard", "auth.logout")
API_PREFIX = "/api/"


def expected(endpoint: str, role: str) -> dict[str, str]:
    """The declared outcome of each persona on this route on a node of this role."""
    row = MATRIX[endpoint]
    if isinstance(row, tuple):
        row = row[0] if role == "field" else row[1]
    return dict(zip(PERSONAS, row.split(), strict=True))


def outcome(response) -> str:
    """The outcome letter of a response (see the module docstring)."""
    status = response.status_code
    if status in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return "L"
    if status == 400 and _code(response) == "request.csrf":
        return "C"
    return {401: "U", 403: "D", 404: "H"}.get(status, "O" if status < 500 else f"5xx:{status}")


def matches(letter: str, got: str, response) -> bool:
    """Whether the response is what the declared letter allows."""
    if letter == "R":
        return got in ("U", "D")
    if letter == "P":
        return got not in ("D",) and not got.startswith("5xx")
    return letter == got


def _code(response) -> str | None:
    """The stable error code of a refusal: from JSON, or the error page's `data-error-code`."""
    from tests.support import html

    if response.is_json:
        return ((response.get_json(silent=True) or {}).get("error") or {}).get("code")
    found = html(response).select_one("[data-error-code]")
    return found["data-error-code"] if found else None


def url_for_route(app, rule, side: str, world) -> str:
    """The rule with its parameters filled from the world: this side's (own or foreign) resources."""
    from flask import url_for

    endpoint = rule.endpoint
    draft_routes = {"audits.answer", "audits.note", "audits.add_photo", "audits.remove_photo", "audits.position",
                    "audits.submit_audit", "audits.discard", "audits.add_instance", "audits.remove_instance"}
    values = {
        "audit_id": world.draft[side] if endpoint in draft_routes else world.submitted[side],
        "item_id": PHOTO_ITEM if "photo" in endpoint else YNP_ITEM,
        "address": YNP_ITEM,
        "sha256": world.photo[side] if endpoint != "indicators.evidence_file" else "0" * 64,
        "variant": "thumb",
        "facility_id": world.facility[side],
        "user_id": world.user_ids["rina"],  # not a persona: an admin's empty form may change this account
        "device_id": world.victim_device,
        "conflict_id": world.conflict,
        "name": world.return_name or f"return-{'0' * 32}.zip",
        "code": _region_code(endpoint, side),
        "year": world.year,
        "number": 1,
        "fmt": "csv",
        "what": "facilities",
        "level": "kecamatan",
        "z": 0, "x": 0, "y": 0, "ext": "png",
        "entry_id": "00000000-0000-0000-0000-000000000000",
        "set_id": "kla-2022",
        "filename": "css/app.css",
        "px": 192,
        "key": "rbra@1",  # a shipped checklist version, in every catalog
    }
    with app.test_request_context():
        return url_for(endpoint, **{name: values[name] for name in rule.arguments})


def _region_code(endpoint: str, side: str) -> str:
    kecamatan = OWN_KECAMATAN if side == "own" else FOREIGN_KECAMATAN
    if endpoint.startswith("indicators.") and endpoint != "indicators.kecamatan":
        return KABKOTA
    return kecamatan


class Persona:
    """A browser signed in as a user, or a client that only holds a device token, or nobody."""

    def __init__(self, app, name: str, world):
        self.name = name
        self.side = "foreign" if name == "auditor_foreign" else "own"
        self.session = login(app, USERNAMES[name]) if name in USERNAMES else None
        self.client = self.session.client if self.session else app.test_client()
        token = {"device": world.token, "revoked": world.revoked_token}.get(name)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def csrf_token(self) -> str:
        from tests.support import html

        page = html(self.client.get("/login", follow_redirects=True))
        return page.find("input", {"name": "csrf_token"})["value"]

    def request(self, method: str, url: str, csrf: bool):
        data = {"csrf_token": self.csrf_token()} if csrf and not url.startswith(API_PREFIX) else {}
        return self.client.open(url, method=method, data=data, headers=self.headers)


def routes(app) -> list:
    """Every rule of the URL map, the ones that end a session or delete a resource last."""
    return sorted(app.url_map.iter_rules(), key=lambda r: (LAST.index(r.endpoint) if r.endpoint in LAST else -1, r.rule))


def methods(rule) -> list[str]:
    """The methods a rule was declared with (Flask adds HEAD and OPTIONS)."""
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def state(app) -> tuple:
    """The database, the photo store and the data folder's files."""
    data = Path(app.config["DATA_DIR"])
    with app.app_context(), write_transaction() as session:
        rows = snapshot(session, hashed=("audit", "answer", "answer_photo", "facility", "device", "sync_conflict",
                                          "user_account", "sync_change", "sync_peer"))
    files = {str(p.relative_to(data)) for p in data.rglob("*") if p.is_file() and "pantau.db" not in p.name}
    return rows, photo_files(data / "photos"), files


@pytest.fixture(params=["field", pytest.param("hub", marks=pytest.mark.postgres)])
def app_config(request, tmp_path):
    """A field device on SQLite, and a hub on its own PostgreSQL database."""
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": request.param, "DEMO": False,
              "SECRET_KEY": "access-matrix-" + "k" * 32, "SECURE_COOKIES": False}
    if request.param == "field":
        yield config
        return
    from tests.support import fresh_postgres_database

    for url in fresh_postgres_database():
        yield {**config, "DATABASE_URL": url}


def test_every_route_has_an_entry_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(MATRIX) == set(), "new routes: declare who may use them in MATRIX"
    assert set(MATRIX) - endpoints == set(), "MATRIX names routes the app no longer has"


def test_every_route_for_every_persona(app):
    started = time.monotonic()
    world = build(app)
    personas = {name: Persona(app, name, world) for name in ORDER}
    rules = routes(app)
    before = state(app)
    wrong = list(_without_csrf(app, world, personas, rules))
    assert state(app) == before, "a POST without CSRF token changed something"
    for reads in (True, False):
        wrong += _as_declared(app, world, personas, rules, reads)
    assert not wrong, "\n".join(wrong)
    assert time.monotonic() - started < 90, "the access matrix must stay quick"


# Personas in the order they act: those that change or end things last (the auditor discards their draft).
ORDER = ("anonymous", "device", "revoked", "planner", "supervisor", "admin", "auditor_foreign", "auditor_own")


def _without_csrf(app, world, personas, rules):
    """POST without a CSRF token on every cookie route: refused with request.csrf for everyone."""
    for name in ORDER:
        persona = personas[name]
        for rule in rules:
            if rule.rule.startswith(API_PREFIX) or "POST" not in rule.methods:
                continue
            response = persona.request("POST", url_for_route(app, rule, persona.side, world), csrf=False)
            if outcome(response) != "C":
                yield f"{name} POST {rule.rule} without CSRF: {response.status_code} ({outcome(response)})"


def _as_declared(app, world, personas, rules, reads: bool):
    """Every GET (reads) or every POST/PUT with a CSRF token, against MATRIX."""
    for name in ORDER:
        persona = personas[name]
        for rule in rules:
            for method in methods(rule):
                if (method == "GET") != reads:
                    continue
                response = persona.request(method, url_for_route(app, rule, persona.side, world), csrf=True)
                letter, got = expected(rule.endpoint, app.config["ROLE"])[name], outcome(response)
                if not matches(letter, got, response):
                    yield f"{name} {method} {rule.rule}: expected {letter}, got {response.status_code} ({got})"
