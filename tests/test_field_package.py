"""The field app's API on a hub (`/api/v1/field/`), on SQLite and PostgreSQL: the package that prepares a tablet
for the field holds its kecamatan's state as a pull would send it, in one query per collection; the auditor
sign-on answers one way for every refusal and is throttled on failures; both refuse anything but an enrolled
field device with the sync API's codes."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import sys
import types
import uuid

import pytest
import shapely
import yaml
from flask_babel import force_locale
from shapely.geometry import Polygon

from app.cli_support import write_transaction
from app.extensions import db
from app.node import Device
from geo.geofence import FAR_OUTSIDE_M
from geo.models import Wilayah
from survey import registry
from survey.audits.models import Audit
from survey.kinds import KIND_CODES
from sync import documents, reviews, service
from tests.conftest import make_facility, make_user
from tests.support import fresh_postgres_database
from tests.sync_corpus import snapshot
from tests.test_page_queries import counted_statements
from tests.test_sync_api import API, Tablet, error_code, push_body, tablet, valid  # noqa: F401  (fixtures)

FIELD = "/api/v1/field"
KEYS = {"format", "version", "generated_at", "hub", "device", "regions", "facilities", "checklists", "auditors",
        "audits", "limits"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app_config(request, tmp_path):
    """A kota hub, on SQLite and on its own fresh PostgreSQL database."""
    config = {"INSTANCE_PATH": str(tmp_path / "hub"), "ROLE": "hub", "SECRET_KEY": "x" * 32, "TESTING": True,
              "DEMO": False}
    if request.param == "sqlite":
        yield config
        return
    for url in fresh_postgres_database():
        yield {**config, "DATABASE_URL": url}


@pytest.fixture(autouse=True)
def markup(monkeypatch):
    """The checklist markup (fieldapp.markup, the audit page's templates), or a stand-in while it does not exist:
    the package carries whatever it renders."""
    import fieldapp

    try:
        from fieldapp import markup as module
    except ImportError:
        module = types.ModuleType("fieldapp.markup")
        module.render_sections = lambda checklist, locale: f'<section data-key="{checklist.key}" lang="{locale}"></section>'
        monkeypatch.setitem(sys.modules, "fieldapp.markup", module)
        monkeypatch.setattr(fieldapp, "markup", module, raising=False)
    return module


def package(client, tablet, **headers):
    return client.get(f"{FIELD}/package", headers={**tablet.auth, **headers})


def body(response) -> dict:
    data = response.get_data()
    return json.loads(gzip.decompress(data) if response.headers.get("Content-Encoding") == "gzip" else data)


def pushed(client, tablet, v, entries) -> None:
    """The tablet's photo and changes, sent as the app sends them."""
    assert client.put(f"{API}/photos/{v.photo_sha}", data=v.photo, headers=tablet.auth).status_code in (200, 201)
    response = client.post(f"{API}/push", json=push_body(entries), headers=tablet.auth)
    assert response.status_code == 200, response.get_data(as_text=True)


def decide(app, audit_id: str, decision: str, comment: str = "") -> None:
    with app.app_context(), write_transaction() as session:
        reviews.decide(session, session.get(Audit, uuid.UUID(audit_id)), decision, comment, "budi")


def enrolled(app, name: str, scope=("36.73.01",), role: str = "field") -> Tablet:
    """Another device registered and enrolled on the hub."""
    with app.app_context(), write_transaction() as session:
        code = service.register_device(session, name, list(scope), role)[1]
    with app.app_context(), write_transaction() as session:
        answer = service.enroll(session, code)
    return Tablet(answer["device_id"], answer["token"], answer["device_key"], answer["hub_id"])


@pytest.fixture
def world(app, client, kota_serang, facility, auditor, tablet, valid):
    """Kecamatan Serang (36.73.01) holds Taman Bermain RW 01, a school and a tombstoned facility; Kecamatan
    Kasemen one facility. Tablet-1 works in Serang: it sent two of Siti's audits, the hub returned the first for
    correction and approved the second. Tablet-2, in the same kecamatan, sent an audit of its own. Accounts:
    Siti (auditor, Serang), Rina (supervisor, Serang), Ali (auditor, Kasemen), Nur (inactive auditor, Serang),
    Dewi (planner, Serang) and Budi (supervisor, city-wide)."""
    school = make_facility(app, kind="sekolah", name="SD Negeri Serang 1", official_id="20601001")
    gone = make_facility(app, name="Taman Lama", status="deleted")
    make_facility(app, name="Taman Kasemen", kecamatan_code="36.73.03", lat=-6.05, lon=106.17)
    for username, role, kecamatan in (("rina", "supervisor", ["36.73.01"]), ("ali", "auditor", ["36.73.03"]),
                                      ("nur", "auditor", ["36.73.01"]), ("dewi", "planner", ["36.73.01"]),
                                      ("budi", "supervisor", [])):
        make_user(app, username, role, kecamatan)
    with app.app_context(), write_transaction() as session:
        from app.auth.queries import user_by_username

        user_by_username(session, "nur").active = False
    second = dataclasses.replace(valid, audit_id=str(uuid.uuid4()), reading_id=str(uuid.uuid4()))
    pushed(client, tablet, valid, [*valid.entries(), (3, second.audit_change(3))])
    decide(app, valid.audit_id, "returned", "Foto papan nama kurang jelas.")
    decide(app, second.audit_id, "approved")
    other = enrolled(app, "tablet-2")
    theirs = dataclasses.replace(valid, device_id=other.device_id, key=other.key, audit_id=str(uuid.uuid4()),
                                 reading_id=str(uuid.uuid4()))
    pushed(client, other, theirs, theirs.entries())
    return types.SimpleNamespace(facility=facility, school=school, gone=gone, returned=valid.audit_id,
                                 approved=second.audit_id, theirs=theirs.audit_id, other=other)


# --- what the package holds ----------------------------------------------------------------------------------


def test_the_package_is_shaped_as_the_app_reads_it(app, client, tablet, world):
    response = package(client, tablet)
    assert response.status_code == 200 and response.mimetype == "application/json"
    got = body(response)
    assert set(got) == KEYS
    assert (got["format"], got["version"]) == ("pantau-field-package", 1)
    with app.app_context():
        hub = db.session.get(Device, uuid.UUID(tablet.hub_id))
        assert got["hub"] == {"id": tablet.hub_id, "name": hub.name}
    assert got["device"] == {"id": tablet.device_id, "name": "tablet-1", "scope": ["36.73.01"]}
    assert got["limits"] == {"accuracy_m": app.config["GPS_ACCURACY_WARN_M"],
                             "distance_m": app.config["FACILITY_DISTANCE_WARN_M"], "far_m": FAR_OUTSIDE_M}
    assert "password" not in json.dumps(got) and "pbkdf2" not in json.dumps(got)


def test_facilities_are_those_of_the_scope_without_tombstones(app, client, tablet, world):
    got = body(package(client, tablet))["facilities"]
    assert {f["id"] for f in got} == {world.facility, world.school}
    school = next(f for f in got if f["id"] == world.school)
    assert school == {"id": world.school, "kind": "sekolah", "name": "SD Negeri Serang 1", "official_id": "20601001",
                      "address": None, "lat": -6.115, "lon": 106.16, "kecamatan_code": "36.73.01", "desa_code": None,
                      "status": "active", "verified": True}


@pytest.mark.parametrize(("username", "listed"), [
    ("siti", True),    # auditor of the kecamatan
    ("rina", True),    # supervisor of the kecamatan: may be named as an audit's auditor
    ("ali", False),    # auditor of another kecamatan
    ("nur", False),    # inactive
    ("dewi", False),   # a planner is never an audit's auditor
    ("budi", False),   # a supervisor without kecamatan: a pull never sends the account to a device
])
def test_auditors_are_the_active_auditors_of_the_scope(client, tablet, world, username, listed):
    got = body(package(client, tablet))["auditors"]
    assert (username in {a["username"] for a in got}) is listed
    assert all(set(a) == {"username", "full_name"} for a in got)


def test_demo_accounts_come_only_from_a_hub_in_demo_mode(app, client, tablet, world):
    with app.app_context(), write_transaction() as session:
        from app.auth.queries import user_by_username

        user_by_username(session, "siti").is_demo = True
    assert "siti" not in {a["username"] for a in body(package(client, tablet))["auditors"]}
    app.config["DEMO"] = True
    assert "siti" in {a["username"] for a in body(package(client, tablet))["auditors"]}


def test_audits_are_the_devices_own_with_their_review_and_a_document_when_returned(app, client, tablet, world):
    got = {a["id"]: a for a in body(package(client, tablet))["audits"]}
    assert set(got) == {world.returned, world.approved}  # not tablet-2's
    returned, approved = got[world.returned], got[world.approved]
    assert returned["review"]["decision"] == "returned" and returned["review"]["comment"] == "Foto papan nama kurang jelas."
    assert returned["review"]["reviewer"] == "budi" and returned["review"]["decided_at"]
    assert {k: returned[k] for k in ("facility_id", "checklist_key", "revision", "revision_of", "auditor", "score",
                                     "result")} == {"facility_id": world.facility, "checklist_key": "ktr@1",
                                                    "revision": 1, "revision_of": None, "auditor": "siti",
                                                    "score": 1.0, "result": "memenuhi"}
    with app.app_context():
        expected = documents.audit_document(db.session, db.session.get(Audit, uuid.UUID(world.returned)))
    assert returned["document"] == json.loads(json.dumps(expected))
    assert approved["review"]["decision"] == "approved" and "document" not in approved


def test_an_audit_not_yet_reviewed_has_no_review(app, client, tablet, valid, world):
    third = dataclasses.replace(valid, audit_id=str(uuid.uuid4()), reading_id=str(uuid.uuid4()))
    response = client.post(f"{API}/push", json=push_body([(4, third.audit_change(4))], after=3), headers=tablet.auth)
    assert response.status_code == 200
    got = {a["id"]: a for a in body(package(client, tablet))["audits"]}
    assert got[third.audit_id]["review"] is None and "document" not in got[third.audit_id]


def test_checklists_are_those_the_start_page_offers_with_their_stored_text(app, client, tablet, world, markup):
    got = {c["key"]: c for c in body(package(client, tablet))["checklists"]}
    with app.app_context():
        offered = {kind: registry.newest_for_kind(kind) for kind in KIND_CODES}
        from survey.audits.models import ChecklistVersion

        stored = db.session.get(ChecklistVersion, "ktr@1")
        stored_text, stored_sha = stored.content, stored.sha256
    assert set(got) == {c.key for versions in offered.values() for c in versions}
    for key, entry in got.items():
        assert entry["kinds"] == [kind for kind in KIND_CODES if key in {c.key for c in offered[kind]}]
        assert entry["key"] == f'{entry["id"]}@{entry["version"]}'
        assert entry["data"]["id"] == entry["id"] and entry["data"]["version"] == entry["version"]
        assert set(entry["title"]) == {"id", "en"} and entry["title"]["id"]
        assert set(entry["markup"]) == {"id", "en"}
    ktr = got["ktr@1"]  # the version tablet-1's audits used: its stored text, whatever the file says now
    assert (ktr["sha256"], ktr["data"]) == (stored_sha, yaml.safe_load(stored_text))
    assert hashlib.sha256(stored_text.encode()).hexdigest() == stored_sha
    with app.app_context(), app.test_request_context():
        checklist = registry.installed()["ktr@1"]
        for locale in ("id", "en"):
            with force_locale(locale):
                assert ktr["markup"][locale] == markup.render_sections(checklist, locale)


def test_a_retired_checklist_is_offered_no_more_but_a_returned_audit_still_opens_in_it(app, client, tablet, world):
    from survey.catalog.models import ChecklistRelease

    def offered(entries):
        return {c["key"] for c in entries if c["kinds"]}

    before = body(package(client, tablet))["checklists"]
    with app.app_context(), write_transaction() as session:
        session.add(ChecklistRelease(key="ktr@1", checklist_id="ktr", version=1, state="retired", notes=[]))
    after = body(package(client, tablet))["checklists"]
    assert offered(before) - offered(after) == {"ktr@1"}
    # Tablet-1's audit on ktr@1 was returned: its correction is filled in that version (as on the desktop), so the
    # version travels, offered for no facility kind, with the text the audit was filled with.
    kept = {c["key"]: c for c in after}["ktr@1"]
    assert kept["kinds"] == [] and kept == {**{c["key"]: c for c in before}["ktr@1"], "kinds": []}


def test_a_version_only_an_approved_audit_names_does_not_travel(app, client, tablet, world):
    from survey.catalog.models import ChecklistRelease

    decide(app, world.returned, "approved")
    with app.app_context(), write_transaction() as session:
        session.add(ChecklistRelease(key="ktr@1", checklist_id="ktr", version=1, state="retired", notes=[]))
    assert "ktr@1" not in {c["key"] for c in body(package(client, tablet))["checklists"]}


# --- regions and their outlines -----------------------------------------------------------------------------


def wiggly(center: tuple[float, float], radius: float, points: int) -> Polygon:
    """A detailed outline: a circle with a ragged edge, as surveyed boundaries are."""
    import math

    return Polygon([(center[0] + (radius + 0.002 * math.sin(i * 7)) * math.cos(2 * math.pi * i / points),
                     center[1] + (radius + 0.002 * math.sin(i * 7)) * math.sin(2 * math.pi * i / points))
                    for i in range(points)])


def points(geometry: dict) -> int:
    rings = geometry["coordinates"] if geometry["type"] == "Polygon" else [r for p in geometry["coordinates"] for r in p]
    return sum(len(ring) for ring in rings)


@pytest.fixture
def detailed(app, kota_serang):
    """Kecamatan Serang with a 4000-point boundary and two desa of 2000 points each that split it."""
    outline = wiggly((106.16, -6.12), 0.03, 4000)
    west = shapely.intersection(outline, shapely.box(100, -10, 106.16, 0))
    east = shapely.intersection(outline, shapely.box(106.16, -10, 110, 0))
    with app.app_context(), write_transaction() as session:
        session.get(Wilayah, "36.73.01").boundary = outline.wkb
        for code, name, shape in (("36.73.01.1001", "Cipare", west), ("36.73.01.1002", "Sumurpecung", east)):
            session.add(Wilayah(code=code, level="desa", name=name, kind="kelurahan", parent_code="36.73.01",
                                boundary=shape.wkb))
        session.add(Wilayah(code="36.73.03.1001", level="desa", name="Kasemen", kind="kelurahan",
                            parent_code="36.73.03", boundary=east.wkb))


def test_regions_are_the_scope_its_desa_and_what_it_lies_in_simplified_for_a_tablet(client, tablet, detailed):
    got = {r["code"]: r for r in body(package(client, tablet))["regions"]}
    assert set(got) == {"36", "36.73", "36.73.01", "36.73.01.1001", "36.73.01.1002"}
    assert [got[c]["level"] for c in ("36", "36.73", "36.73.01", "36.73.01.1001")] == [
        "provinsi", "kabkota", "kecamatan", "desa"]
    assert got["36.73.01.1001"]["parent_code"] == "36.73.01" and got["36.73.01"]["name"] == "Serang"
    assert got["36"]["geometry"] is None and got["36.73"]["geometry"] is None  # drawn from the kecamatan
    assert got["36.73.01"]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert 20 < points(got["36.73.01"]["geometry"]) <= 400  # "a few hundred points per kecamatan at most"
    assert sum(points(got[c]["geometry"]) for c in ("36.73.01.1001", "36.73.01.1002")) <= 1200


# --- the same as a pull -------------------------------------------------------------------------------------


def test_the_package_holds_what_a_pull_sends_the_device(app, client, tablet, world, detailed):
    """Facilities, accounts, kecamatan and desa and reviews: the package is the state the device's pull builds."""
    pulled, cursor = [], 0
    while True:
        page = client.get(f"{API}/pull?cursor={cursor}&limit=500", headers=tablet.auth).get_json()
        pulled += [entry["change"] for entry in page["entries"]]
        cursor = page["cursor"]
        if not page["more"]:
            break
    got = body(package(client, tablet))
    facilities: dict = {}
    for change in sorted((c for c in pulled if c["kind"] == "facility"), key=lambda c: c["hlc"]):
        facilities.setdefault(change["entity_id"], {}).update(change["payload"]["fields"])
    assert {f["id"] for f in got["facilities"]} == {i for i, f in facilities.items() if f.get("status") != "deleted"}
    accounts = {c["payload"]["username"]: c["payload"] for c in pulled if c["kind"] == "user"}
    assert {a["username"] for a in got["auditors"]} == {
        name for name, a in accounts.items() if a["active"] and a["role"] in ("auditor", "supervisor")}
    regions = {c["entity_id"] for c in pulled if c["kind"] == "wilayah" and c["scope"]}
    assert regions == {r["code"] for r in got["regions"] if r["level"] in ("kecamatan", "desa")}
    reviewed = {c["payload"]["audit_id"] for c in pulled if c["kind"] == "review"}
    assert reviewed == {a["id"] for a in got["audits"] if a["review"]}


# --- costs, caching and encoding ------------------------------------------------------------------------------


def test_the_package_costs_the_same_queries_for_many_facilities_and_audits(app, client, tablet, valid, world):
    package(client, tablet)  # first use: checklists parsed, outlines simplified
    with counted_statements(app) as few:
        assert package(client, tablet).status_code == 200
    for n in range(8):
        make_facility(app, name=f"Taman Tambahan {n}")
    more = [dataclasses.replace(valid, audit_id=str(uuid.uuid4()), reading_id=str(uuid.uuid4())) for _ in range(5)]
    entries = [(4 + n, audit.audit_change(4 + n)) for n, audit in enumerate(more)]
    assert client.post(f"{API}/push", json=push_body(entries, after=3), headers=tablet.auth).status_code == 200
    for audit in more:
        decide(app, audit.audit_id, "returned", "Ulangi.")
    with counted_statements(app) as many:
        got = body(package(client, tablet))
    assert len(got["facilities"]) == 10 and sum(1 for a in got["audits"] if "document" in a) == 6
    assert len(many) == len(few)


def test_the_package_stores_the_versions_it_hands_out_and_nothing_else(app, client, tablet, world):
    """An audit the tablet fills with a checklist on offer must find that version on the hub: the first package
    stores each one (as the hub's start page does) and notes what the tablet holds; the package writes nothing
    else, and nothing the second time."""
    tables = ("audit", "answer", "photo", "facility", "wilayah", "user_account", "audit_review")
    with app.app_context():
        before = snapshot(db.session, tables)
    first = package(client, tablet)
    assert first.status_code == 200
    # The versions stored, their changes published, and what the tablet now holds (sync.publish.note_packaged).
    written = ("count checklist_version", "count sync_change", "count sync_state")

    def unwritten(state: dict) -> dict:
        return {key: value for key, value in state.items() if key not in written}

    with app.app_context():
        assert unwritten(snapshot(db.session, tables)) == unwritten(before)
        stored = set(db.session.execute(db.select(registry.ChecklistVersion.key)).scalars())
        assert {c["key"] for c in body(first)["checklists"]} <= stored
        again = snapshot(db.session, (*tables, "sync_change", "checklist_version"))
    assert package(client, tablet).status_code == 200
    with app.app_context():
        assert snapshot(db.session, (*tables, "sync_change", "checklist_version")) == again
        assert db.session.get(Device, uuid.UUID(tablet.device_id)).last_seen_at is not None


def test_an_etag_names_the_state_and_answers_304_until_it_changes(app, client, tablet, world):
    first = package(client, tablet)
    etag = first.headers["ETag"]
    assert etag == f'"{hashlib.sha256(json.dumps({k: v for k, v in body(first).items() if k != "generated_at"}, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()}"'
    again = package(client, tablet, **{"If-None-Match": etag})
    assert (again.status_code, again.get_data(), again.headers["ETag"]) == (304, b"", etag)
    assert package(client, tablet, **{"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert package(client, tablet, **{"If-None-Match": "*"}).status_code == 304
    assert package(client, tablet, **{"If-None-Match": '"other"'}).status_code == 200
    make_facility(app, name="Taman Baru")
    changed = package(client, tablet, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Taman Baru" in {f["name"] for f in body(changed)["facilities"]}


def test_the_package_is_gzipped_when_accepted(client, tablet, world):
    plain, zipped = package(client, tablet), package(client, tablet, **{"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers and zipped.headers["Content-Encoding"] == "gzip"
    assert {k: v for k, v in body(zipped).items() if k != "generated_at"} == {
        k: v for k, v in plain.get_json().items() if k != "generated_at"}
    assert zipped.headers["ETag"] == plain.headers["ETag"]


# --- who may ask ----------------------------------------------------------------------------------------------


def _revoke(app, tablet: Tablet) -> dict:
    with app.app_context(), write_transaction() as session:
        service.revoke(session, session.get(Device, uuid.UUID(tablet.device_id)))
    return tablet.auth


def _lower_hub(app, tablet: Tablet) -> dict:
    return enrolled(app, "Hub Kecamatan", role="hub").auth


@pytest.mark.parametrize(("case", "headers", "status", "code"), [
    ("no token", lambda app, tablet: {}, 401, "sync.unauthorized"),
    ("a wrong token", lambda app, tablet: {"Authorization": "Bearer not-a-token"}, 401, "sync.unauthorized"),
    ("not a bearer token", lambda app, tablet: {"Authorization": f"Basic {tablet.token}"}, 401, "sync.unauthorized"),
    ("a revoked device", _revoke, 403, "sync.revoked_device"),
    ("a lower hub", _lower_hub, 403, "field.not_a_field_device"),
])
@pytest.mark.parametrize("path", ["package", "auditor"])
def test_only_an_enrolled_field_device_may_ask(app, client, tablet, kota_serang, auditor, case, headers, status, code,
                                               path):
    sent = headers(app, tablet)
    if path == "package":
        response = client.get(f"{FIELD}/package", headers=sent)
    else:
        response = client.post(f"{FIELD}/auditor", json={"username": "siti", "password": "rahasia-123"}, headers=sent)
    assert (response.status_code, error_code(response)) == (status, code)
    assert response.get_json()["error"]["message"]


# --- the auditor sign-on ------------------------------------------------------------------------------------------


@pytest.fixture
def accounts(app, kota_serang, auditor):
    """Siti audits Serang; Rina supervises it; Ali audits Kasemen; Nur's account is inactive; Dewi plans."""
    for username, role, kecamatan in (("rina", "supervisor", ["36.73.01"]), ("ali", "auditor", ["36.73.03"]),
                                      ("nur", "auditor", ["36.73.01"]), ("dewi", "planner", ["36.73.01"])):
        make_user(app, username, role, kecamatan)
    with app.app_context(), write_transaction() as session:
        from app.auth.queries import user_by_username

        user_by_username(session, "nur").active = False


def sign_on(client, tablet, body, **kwargs):
    return client.post(f"{FIELD}/auditor", headers=tablet.auth, **({"json": body} if body is not None else kwargs))


@pytest.mark.parametrize(("case", "body", "status", "code"), [
    ("Siti, right password", {"username": "siti", "password": "rahasia-123"}, 200, None),
    ("Rina, supervisor of the kecamatan", {"username": "rina", "password": "rahasia-123"}, 200, None),
    ("a wrong password", {"username": "siti", "password": "salah"}, 403, "field.bad_auditor"),
    ("an unknown account", {"username": "tono", "password": "rahasia-123"}, 403, "field.bad_auditor"),
    ("an auditor of another kecamatan", {"username": "ali", "password": "rahasia-123"}, 403, "field.bad_auditor"),
    ("an inactive account", {"username": "nur", "password": "rahasia-123"}, 403, "field.bad_auditor"),
    ("a planner", {"username": "dewi", "password": "rahasia-123"}, 403, "field.bad_auditor"),
    ("no password", {"username": "siti"}, 400, "sync.bad_request"),
    ("an unknown field", {"username": "siti", "password": "rahasia-123", "pin": "1234"}, 400, "sync.bad_request"),
    ("a number as username", {"username": 7, "password": "rahasia-123"}, 400, "sync.bad_request"),
    ("a username of 41 characters", {"username": "s" * 41, "password": "x"}, 400, "sync.bad_request"),
    ("a control character in the username", {"username": "siti\x00", "password": "x"}, 400, "sync.bad_request"),
    ("an empty password", {"username": "siti", "password": ""}, 400, "sync.bad_request"),
    ("a list", ["siti", "rahasia-123"], 400, "sync.bad_request"),
])
def test_an_auditor_signs_on_only_with_the_right_password_in_the_scope(app, client, tablet, accounts, case, body,
                                                                       status, code):
    response = sign_on(client, tablet, body)
    assert (response.status_code, error_code(response)) == (status, code), response.get_data(as_text=True)
    if status == 200:
        assert response.get_json() == {"username": body["username"], "full_name": body["username"].title()}


def test_a_refusal_says_the_same_whatever_was_wrong(client, tablet, accounts):
    answers = {sign_on(client, tablet, {"username": name, "password": password}).get_data()
               for name, password in (("siti", "salah"), ("tono", "x"), ("ali", "rahasia-123"), ("nur", "rahasia-123"))}
    assert len(answers) == 1


def test_a_refusal_is_worded_in_both_languages(app, client, tablet, accounts):
    """As every sync refusal: in the hub's language (the app branches on the code and words it itself)."""
    indonesian = sign_on(client, tablet, {"username": "siti", "password": "salah"}).get_json()["error"]["message"]
    app.config["DEFAULT_LOCALE"] = "en"
    english = sign_on(client, tablet, {"username": "siti", "password": "salah"}).get_json()["error"]["message"]
    assert indonesian.startswith("Nama pengguna atau kata sandi salah") and "auditor aktif" in indonesian
    assert english.startswith("Wrong username or password") and "active auditor" in english


def test_a_body_that_is_not_json_or_too_large_is_refused(client, tablet, accounts):
    response = client.post(f"{FIELD}/auditor", data=b"{not json", content_type="application/json", headers=tablet.auth)
    assert (response.status_code, error_code(response)) == (400, "sync.bad_request")
    response = client.post(f"{FIELD}/auditor", json={"username": "siti", "password": "x" * 5000}, headers=tablet.auth)
    assert (response.status_code, error_code(response)) == (413, "sync.too_large")


def test_a_sign_on_is_in_the_audit_log(app, client, tablet, accounts):
    from sqlalchemy import select

    from app.models import AuditLogEntry

    assert sign_on(client, tablet, {"username": "siti", "password": "rahasia-123"}).status_code == 200
    with app.app_context():
        entry = db.session.execute(select(AuditLogEntry).where(AuditLogEntry.action == "field_sign_on")).scalar_one()
        assert str(entry.device_id) == tablet.device_id


def test_failed_sign_ons_are_throttled_per_account_and_successes_are_not(client, tablet, accounts):
    for _ in range(6):
        assert sign_on(client, tablet, {"username": "rina", "password": "rahasia-123"}).status_code == 200
    codes = [sign_on(client, tablet, {"username": "siti", "password": "salah"}).status_code for _ in range(6)]
    assert codes == [403] * 5 + [429]
    throttled = sign_on(client, tablet, {"username": "siti", "password": "rahasia-123"})
    assert (throttled.status_code, error_code(throttled)) == (429, "request.too_many")
    assert sign_on(client, tablet, {"username": "rina", "password": "rahasia-123"}).status_code == 200


def test_failed_sign_ons_are_throttled_per_address(client, tablet, accounts):
    codes = [sign_on(client, tablet, {"username": f"tono{n}", "password": "x"}).status_code for n in range(11)]
    assert codes == [403] * 10 + [429]
