"""The JSON sync API on a hub (`/api/v1/sync/`): a table of refusals, each by status and stable code with
the database unchanged, then the protocol's happy paths, each checked in the database."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import func, select

from app.cli_support import write_transaction
from app.db import utcnow
from app.extensions import db
from survey.audits.models import Answer, Audit, Photo
from survey.photos import PhotoStore
from sync import service
from app.node import Device
from sync.models import SyncChange
from tests.conftest import make_facility
from tests.support import make_jpeg
from tests.sync_corpus import ValidBundle, photo_files, snapshot

API = "/api/v1/sync"
# What a request is allowed to change even when refused: nothing. When accepted twice, `device` changes
# (last_seen_at), so a repeat is compared on the records only.
RECORDS = ("sync_change", "audit", "answer", "photo", "facility")


@pytest.fixture
def app_config(tmp_path):
    """A kota hub."""
    return {"INSTANCE_PATH": str(tmp_path / "hub"), "ROLE": "hub", "SECRET_KEY": "x" * 32, "TESTING": True}


@dataclass
class Tablet:
    """A device enrolled with the hub, as it is known on the hub."""

    device_id: str
    token: str
    key: str
    hub_id: str

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def register(app, name: str = "tablet-2", scope=("36.73.01",)) -> str:
    """A supervisor registers a device; its one-time code."""
    with app.app_context(), write_transaction() as session:
        return service.register_device(session, name, list(scope))[1]


@pytest.fixture
def tablet(app, kota_serang) -> Tablet:
    """Tablet-1 works in Kecamatan Serang and is enrolled."""
    code = register(app, "tablet-1")
    with app.app_context(), write_transaction() as session:
        answer = service.enroll(session, code)
    return Tablet(answer["device_id"], answer["token"], answer["device_key"], answer["hub_id"])


@pytest.fixture
def valid(app, tmp_path, facility, auditor, tablet) -> ValidBundle:
    """Tablet-1's changes: the KTR checklist text and Siti's KTR audit of the facility with one photo."""
    from survey.checklist import dump_checklist_yaml
    from survey.registry import installed

    with app.app_context():
        checklist = installed()["ktr@1"]
    folder = tmp_path / "bundles"
    folder.mkdir()
    return ValidBundle.for_checklist(
        folder, checklist, dump_checklist_yaml(checklist), device_id=tablet.device_id, hub_id=tablet.hub_id,
        key=tablet.key, facility_id=facility, auditor=auditor, photo=make_jpeg(),
        max_photo_bytes=app.config["MAX_CONTENT_LENGTH"])


def push_body(entries, after: int = 0, up_to: int | None = None) -> dict:
    return {"after": after, "up_to": entries[-1][0] if up_to is None else up_to,
            "entries": [{"local_seq": seq, "change": change.to_dict()} for seq, change in entries]}


def photo_root(app) -> Path:
    return Path(app.config["DATA_DIR"]) / "photos"


def state(app, hashed=("sync_change", "audit", "answer", "photo", "facility", "device")) -> dict:
    with app.app_context():
        return snapshot(db.session, hashed)


def error_code(response) -> str | None:
    return (response.get_json(silent=True) or {}).get("error", {}).get("code")


# --- the table of refusals ---------------------------------------------------------------------------


@dataclass
class Context:
    """What a row's placeholders and body may refer to."""

    app: object
    client: object
    tablet: Tablet
    valid: ValidBundle
    values: dict = field(default_factory=dict)

    def fill(self, text: str) -> str:
        return text.format(token=self.tablet.token, **self.values)


def _revoked(ctx: Context) -> None:
    with ctx.app.app_context(), write_transaction() as session:
        service.revoke(session, session.get(Device, uuid.UUID(ctx.tablet.device_id)))


def _code(ctx: Context) -> None:
    ctx.values["code"] = register(ctx.app)


def _expired_code(ctx: Context) -> None:
    _code(ctx)
    with ctx.app.app_context(), write_transaction() as session:
        pending = session.execute(select(Device).where(Device.name == "tablet-2")).scalar_one()
        pending.enroll_expires_at = utcnow() - timedelta(minutes=1)


def _used_code(ctx: Context) -> None:
    _code(ctx)
    first = ctx.client.post(f"{API}/enroll", json={"code": ctx.values["code"], "device_id": str(uuid.uuid4()),
                                                   "name": "tablet-2", "role": "field"})
    assert first.status_code == 201, first.get_data(as_text=True)


def _pushed(ctx: Context) -> None:
    """Tablet-1's photo and batch are already on the hub."""
    v = ctx.valid
    assert ctx.client.put(f"{API}/photos/{v.photo_sha}", data=v.photo, headers=ctx.tablet.auth).status_code == 201
    assert ctx.client.post(f"{API}/push", json=push_body(v.entries()), headers=ctx.tablet.auth).status_code == 200


def _photo_sha(ctx: Context) -> None:
    ctx.values["photo_sha"] = ctx.valid.photo_sha


def _enroll(code: str = "{code}") -> Callable[[Context], dict]:
    return lambda ctx: {"code": ctx.fill(code), "device_id": str(uuid.uuid4()), "name": "tablet-2", "role": "field"}


def _changed_audit(v: ValidBundle):
    return v.audit_change(2, score=0.5, result="tidak_memenuhi")


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str
    headers: dict
    body: object  # None, bytes as sent, or a function of the Context giving a dict (sent as JSON)
    status: int
    code: str
    setup: Callable[[Context], None] | None = None
    bug: str | None = None


AUTH = {"Authorization": "Bearer {token}"}
TEXT = b"not a photo, just some text from a chat app"
TEXT_SHA = hashlib.sha256(TEXT).hexdigest()
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
       b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")  # a 1x1 GIF

ROWS = [
    # who is asking
    Row("status without Authorization", "GET", f"{API}/status", {}, None, 401, "sync.unauthorized"),
    Row("status with a wrong token", "GET", f"{API}/status", {"Authorization": "Bearer not-the-token"}, None,
        401, "sync.unauthorized"),
    Row("status with the token but not as Bearer", "GET", f"{API}/status", {"Authorization": "Token {token}"}, None,
        401, "sync.unauthorized"),
    Row("push without Authorization", "POST", f"{API}/push", {}, lambda ctx: push_body(ctx.valid.entries()),
        401, "sync.unauthorized"),
    Row("pull with a wrong token", "GET", f"{API}/pull?cursor=0", {"Authorization": "Bearer x"}, None,
        401, "sync.unauthorized"),
    Row("photo PUT without Authorization", "PUT", f"{API}/photos/{TEXT_SHA}", {}, TEXT, 401, "sync.unauthorized"),
    Row("photos/missing with a wrong token", "POST", f"{API}/photos/missing", {"Authorization": "Bearer x"},
        lambda ctx: {"sha256": [TEXT_SHA]}, 401, "sync.unauthorized"),
    Row("status from a revoked device", "GET", f"{API}/status", AUTH, None, 403, "sync.revoked_device",
        setup=_revoked),
    Row("push from a revoked device", "POST", f"{API}/push", AUTH, lambda ctx: push_body(ctx.valid.entries()),
        403, "sync.revoked_device", setup=_revoked),
    # enrollment
    Row("enroll with a wrong code", "POST", f"{API}/enroll", {}, _enroll("AAAA-BBBB"), 401, "sync.bad_code",
        setup=_code),
    Row("enroll with an expired code", "POST", f"{API}/enroll", {}, _enroll(), 401, "sync.bad_code",
        setup=_expired_code),
    Row("enroll with a code used before", "POST", f"{API}/enroll", {}, _enroll(), 401, "sync.bad_code",
        setup=_used_code),
    Row("enroll with no code", "POST", f"{API}/enroll", {}, _enroll(""), 401, "sync.bad_code", setup=_code),
    Row("enroll with an empty body", "POST", f"{API}/enroll", {}, b"", 400, "sync.bad_request", setup=_code),
    # the body
    Row("push body not JSON", "POST", f"{API}/push", AUTH, b'{"after": 0, "entries": [', 400, "sync.bad_request"),
    Row("push body a JSON list", "POST", f"{API}/push", AUTH, b"[]", 400, "sync.bad_request"),
    Row("push gzip body that is not gzip", "POST", f"{API}/push", {**AUTH, "Content-Encoding": "gzip"},
        b'{"after": 0, "up_to": 0, "entries": []}', 400, "sync.bad_request"),
    Row("push after not a number", "POST", f"{API}/push", AUTH,
        lambda ctx: {**push_body(ctx.valid.entries()), "after": "0"}, 400, "sync.bad_request"),
    Row("push up_to below after", "POST", f"{API}/push", AUTH,
        lambda ctx: push_body(ctx.valid.entries(), after=0, up_to=-1), 400, "sync.bad_request"),
    # the entries
    Row("push entries not a list", "POST", f"{API}/push", AUTH,
        lambda ctx: {"after": 0, "up_to": 1, "entries": {"local_seq": 1}}, 422, "sync.bad_change"),
    Row("push entries missing", "POST", f"{API}/push", AUTH, lambda ctx: {"after": 0, "up_to": 1}, 422,
        "sync.bad_change"),
    Row("push entry without its change", "POST", f"{API}/push", AUTH,
        lambda ctx: {"after": 0, "up_to": 1, "entries": [{"local_seq": 1}]}, 422, "sync.bad_change"),
    Row("push entry of an unknown kind", "POST", f"{API}/push", AUTH,
        lambda ctx: {**push_body(ctx.valid.entries()), "entries": [
            {"local_seq": 1, "change": {**ctx.valid.checklist_change(1).to_dict(), "kind": "virus"}}]},
        422, "sync.bad_change"),
    Row("push entry with an origin that is not a uuid", "POST", f"{API}/push", AUTH,
        lambda ctx: {**push_body(ctx.valid.entries()), "entries": [
            {"local_seq": 1, "change": {**ctx.valid.checklist_change(1).to_dict(), "origin_id": "tablet-1"}}]},
        422, "sync.bad_change"),
    Row("push entry with local_seq 0", "POST", f"{API}/push", AUTH,
        lambda ctx: {**push_body(ctx.valid.entries()), "entries": [
            {"local_seq": 0, "change": ctx.valid.checklist_change(1).to_dict()}]}, 422, "sync.bad_change"),
    Row("push entry with origin_seq beyond 64 bits", "POST", f"{API}/push", AUTH,
        lambda ctx: {**push_body(ctx.valid.entries()), "entries": [
            {"local_seq": 1, "change": {**ctx.valid.checklist_change(1).to_dict(), "origin_seq": 2 ** 64}}]},
        422, "sync.bad_change"),
    Row("push entry with an hlc that is not a clock reading", "POST", f"{API}/push", AUTH,
        lambda ctx: {**push_body(ctx.valid.entries()), "entries": [
            {"local_seq": 1, "change": {**ctx.valid.checklist_change(1).to_dict(), "hlc": "zzzzzzzzzzzzzzzz.zzzz"}}]},
        422, "sync.bad_change"),
    Row("push an audit without facility_id", "POST", f"{API}/push", AUTH,
        lambda ctx: push_body([(1, ctx.valid.checklist_change(1)), (2, replace(ctx.valid.audit_change(2), payload={
            k: v for k, v in ctx.valid.audit_document(photos={}).items() if k != "facility_id"}))]),
        422, "sync.bad_change"),
    Row("push after beyond what the hub acknowledged", "POST", f"{API}/push", AUTH,
        lambda ctx: push_body([(6, ctx.valid.checklist_change(6))], after=5), 409, "sync.gap"),
    Row("push the same key twice, different content", "POST", f"{API}/push", AUTH,
        lambda ctx: push_body(ctx.valid.entries() + [(3, _changed_audit(ctx.valid))]), 422, "sync.seq_reused",
        setup=_photo_sha),
    Row("push a known key with new content", "POST", f"{API}/push", AUTH,
        lambda ctx: push_body([(1, ctx.valid.checklist_change(1)), (2, _changed_audit(ctx.valid))]), 422,
        "sync.seq_reused", setup=_pushed),
    Row("push an audit whose photo was not sent", "POST", f"{API}/push", AUTH,
        lambda ctx: push_body(ctx.valid.entries()), 422, "sync.photo_missing"),
    Row("push an audit of checklist nope@9", "POST", f"{API}/push", AUTH,
        lambda ctx: push_body([(1, ctx.valid.audit_change(1, checklist_key="nope@9"))]), 422,
        "sync.unknown_checklist"),
    # photos
    Row("PUT a photo whose bytes do not match the hash", "PUT", f"{API}/photos/{{photo_sha}}", AUTH,
        make_jpeg(color=(200, 30, 30)), 422, "photo.hash_mismatch", setup=_photo_sha),
    Row("PUT a photo under a name that is not a hash", "PUT", f"{API}/photos/not-a-sha256", AUTH,
        make_jpeg(), 422, "photo.hash_mismatch"),
    Row("PUT text, not an image", "PUT", f"{API}/photos/{TEXT_SHA}", AUTH, TEXT, 422, "photo.not_an_image"),
    Row("PUT a GIF", "PUT", f"{API}/photos/{hashlib.sha256(GIF).hexdigest()}", AUTH, GIF, 422,
        "photo.unsupported_format"),
    Row("PUT an empty photo", "PUT", f"{API}/photos/{hashlib.sha256(b'').hexdigest()}", AUTH, b"", 422,
        "photo.empty"),
    Row("photos/missing with sha256 not a list", "POST", f"{API}/photos/missing", AUTH,
        lambda ctx: {"sha256": TEXT_SHA}, 400, "sync.bad_request"),
    # pull
    Row("pull with a cursor that is not a number", "GET", f"{API}/pull?cursor=abc", AUTH, None, 400,
        "sync.bad_request"),
    Row("pull with a limit that is not a number", "GET", f"{API}/pull?cursor=0&limit=ten", AUTH, None, 400,
        "sync.bad_request"),
]


def send(ctx: Context, row: Row):
    headers = {name: ctx.fill(value) for name, value in row.headers.items()}
    path = ctx.fill(row.path)
    if callable(row.body):
        return ctx.client.open(path, method=row.method, headers=headers, json=row.body(ctx))
    return ctx.client.open(path, method=row.method, headers=headers, data=row.body,
                           content_type="application/octet-stream" if row.method == "PUT" else "application/json")


@pytest.mark.parametrize("row", [pytest.param(row, id=row.name) for row in ROWS])
def test_refused_with_its_status_and_code_and_nothing_changes(app, client, tablet, valid, row):
    ctx = Context(app, client, tablet, valid)
    if row.setup:
        row.setup(ctx)
    before, files = state(app), photo_files(photo_root(app))
    response = send(ctx, row)
    assert (response.status_code, error_code(response)) == (row.status, row.code), response.get_data(as_text=True)
    assert response.get_json()["error"]["message"]
    assert state(app) == before
    assert photo_files(photo_root(app)) == files


# --- the protocol working ------------------------------------------------------------------------------


def test_enroll_gives_a_token_that_works_and_spends_the_code(app, client, kota_serang):
    code = register(app, "tablet-2", ["36.73.02"])
    device_id = str(uuid.uuid4())
    typed = code.lower().replace("-", " ")  # as typed from the screen: case and separators do not matter
    response = client.post(f"{API}/enroll", json={"code": typed, "device_id": device_id, "name": "Tablet Dua",
                                                  "role": "field"})
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    assert set(answer) == {"device_id", "token", "device_key", "hub_id", "hub_name", "scope", "role"}
    assert (answer["scope"], answer["role"]) == (["36.73.02"], "field")
    with app.app_context():
        devices = db.session.execute(select(Device).where(Device.is_self.is_(False))).scalars().all()
        assert [str(d.id) for d in devices] == [answer["device_id"]] != [device_id]  # the hub minted the id
        device = devices[0]
        assert device.token_hash == hashlib.sha256(answer["token"].encode()).hexdigest()
        assert device.device_key == answer["device_key"] and len(answer["device_key"]) == 64
        assert (device.scope, device.enroll_code_hash, device.enroll_expires_at) == (["36.73.02"], None, None)
        assert answer["hub_id"] == str(db.session.execute(select(Device.id).where(Device.is_self)).scalar_one())
    status = client.get(f"{API}/status", headers={"Authorization": f"Bearer {answer['token']}"})
    assert status.status_code == 200 and status.get_json()["scope"] == ["36.73.02"]
    before = state(app)
    again = client.post(f"{API}/enroll", json={"code": code, "device_id": str(uuid.uuid4()), "name": "x"})
    assert (again.status_code, error_code(again)) == (401, "sync.bad_code")
    assert state(app) == before


def test_status_says_who_the_hub_is_and_what_it_acknowledged(app, client, tablet):
    response = client.get(f"{API}/status", headers=tablet.auth)
    assert response.status_code == 200
    assert response.get_json() == {"hub_id": tablet.hub_id, "acked_seq": 0, "schema_version": 1,
                                   "scope": ["36.73.01"], "restart": False}
    with app.app_context():
        assert db.session.get(Device, uuid.UUID(tablet.device_id)).last_seen_at is not None


def test_photos_missing_then_put_then_none_missing(app, client, tablet, valid):
    other = "0" * 64
    missing = client.post(f"{API}/photos/missing", json={"sha256": [valid.photo_sha, other]}, headers=tablet.auth)
    assert missing.status_code == 200 and missing.get_json() == {"missing": [valid.photo_sha, other]}
    put = client.put(f"{API}/photos/{valid.photo_sha}", data=valid.photo, headers=tablet.auth,
                     content_type="application/octet-stream")
    assert (put.status_code, put.get_json()) == (201, {"sha256": valid.photo_sha, "stored": True})
    with app.app_context():
        photo = db.session.get(Photo, valid.photo_sha)
        assert (photo.mime, photo.width, photo.height, photo.size_bytes) == ("image/jpeg", 640, 480, len(valid.photo))
    assert PhotoStore(photo_root(app)).verify(valid.photo_sha)
    missing = client.post(f"{API}/photos/missing", json={"sha256": [valid.photo_sha]}, headers=tablet.auth)
    assert missing.get_json() == {"missing": []}
    before = state(app, RECORDS)
    again = client.put(f"{API}/photos/{valid.photo_sha}", data=valid.photo, headers=tablet.auth)
    assert (again.status_code, again.get_json()["stored"]) == (200, False)
    assert state(app, RECORDS) == before


def test_push_applies_a_batch_once_and_a_repeat_is_all_duplicates(app, client, tablet, valid):
    assert client.put(f"{API}/photos/{valid.photo_sha}", data=valid.photo, headers=tablet.auth).status_code == 201
    body = push_body(valid.entries())
    first = client.post(f"{API}/push", json=body, headers=tablet.auth)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json() == {"acked_seq": 2, "applied": 2, "duplicates": 0, "waiting": 0, "conflicts": 0}
    with app.app_context():
        audit = db.session.get(Audit, uuid.UUID(valid.audit_id))
        assert (audit.status, audit.result, audit.sync_source) == ("submitted", "memenuhi", f"{tablet.device_id}:2")
        answers = db.session.execute(select(func.count()).select_from(Answer)).scalar_one()
        assert answers == len(valid.answer_items)
        origin = db.session.execute(select(SyncChange.origin_seq).where(
            SyncChange.origin_id == uuid.UUID(tablet.device_id)).order_by(SyncChange.origin_seq)).scalars().all()
        assert origin == [1, 2]
        assert db.session.get(Device, uuid.UUID(tablet.device_id)).acked_seq == 2
    before = state(app, RECORDS)
    again = client.post(f"{API}/push", json=body, headers=tablet.auth)
    assert again.status_code == 200
    assert again.get_json() == {"acked_seq": 2, "applied": 0, "duplicates": 2, "waiting": 0, "conflicts": 0}
    assert state(app, RECORDS) == before
    assert client.get(f"{API}/status", headers=tablet.auth).get_json()["acked_seq"] == 2


def test_push_body_may_be_gzip(app, client, tablet, valid):
    body = gzip.compress(json.dumps(push_body([(1, valid.checklist_change(1))])).encode())
    response = client.post(f"{API}/push", data=body, content_type="application/json",
                           headers={**tablet.auth, "Content-Encoding": "gzip"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["acked_seq"] == 1
    with app.app_context():
        assert db.session.execute(select(SyncChange.kind).where(
            SyncChange.origin_id == uuid.UUID(tablet.device_id))).scalars().all() == ["checklist"]


def test_pull_gives_only_the_device_kecamatan_gzipped_when_asked(app, client, tablet):
    def facility(name: str, kecamatan: str) -> str:
        return make_facility(app, name=name, kecamatan_code=kecamatan, lat=None, lon=None)

    ours = {facility(f"SD Negeri Serang {n}", "36.73.01") for n in (1, 2, 3)}
    theirs = {facility(f"SD Negeri Kasemen {n}", "36.73.02") for n in (1, 2)}
    plain = client.get(f"{API}/pull?cursor=0", headers=tablet.auth)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    response = client.get(f"{API}/pull?cursor=0", headers={**tablet.auth, "Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    page = json.loads(gzip.decompress(response.data))
    assert page == plain.get_json()
    facilities = [entry["change"] for entry in page["entries"] if entry["change"]["kind"] == "facility"]
    assert {change["entity_id"] for change in facilities} == ours
    assert not {change["entity_id"] for change in facilities} & theirs
    assert all(entry["change"]["scope"] in (None, "36.73.01") for entry in page["entries"])
    with app.app_context():
        last = db.session.execute(select(func.max(SyncChange.local_seq))).scalar_one()
    assert (page["cursor"], page["more"]) == (last, False)
    rest = client.get(f"{API}/pull?cursor={page['cursor']}", headers=tablet.auth).get_json()
    assert rest == {"entries": [], "cursor": last, "more": False}


def test_pull_pages_with_a_limit(app, client, tablet):
    for n in range(3):
        make_facility(app, name=f"Posyandu Melati {n}", lat=None, lon=None)
    first = client.get(f"{API}/pull?cursor=0&limit=2", headers=tablet.auth).get_json()
    assert first["more"] is True and len(first["entries"]) <= 2
    second = client.get(f"{API}/pull?cursor={first['cursor']}&limit=2000", headers=tablet.auth).get_json()
    seqs = [e["local_seq"] for e in first["entries"] + second["entries"]]
    assert seqs == sorted(set(seqs)) and all(s > first["cursor"] for s in (e["local_seq"] for e in second["entries"]))


def test_openapi_describes_every_sync_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes[path] = {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes, "no sync routes found"
    for path, methods in routes.items():
        assert path in document["paths"], f"{path} is not in openapi.json"
        assert methods <= set(document["paths"][path]), f"{path}: {methods} vs {set(document['paths'][path])}"
    described = {p for p in document["paths"] if p.startswith(API + "/")}
    assert described == set(routes)



def test_a_field_device_cannot_create_an_account_on_the_hub(app, client, tablet):
    from werkzeug.security import generate_password_hash

    from app.auth.models import User
    from sync import hlc
    from sync.changes import Change

    user_id = str(uuid.uuid4())
    change = Change(origin_id=tablet.device_id, origin_seq=1, kind="user", entity_id=user_id,
                    hlc=hlc.encode(1795000000000, 1), scope=None,
                    payload={"id": user_id, "username": "mallory", "full_name": "Mallory", "role": "admin",
                             "password_hash": generate_password_hash("rahasia-mallory"), "active": True,
                             "is_demo": False, "kecamatan": []})
    client.post(f"{API}/push", json=push_body([(1, change)]), headers=tablet.auth)  # refused or ignored
    with app.app_context():
        assert db.session.execute(select(User).where(User.username == "mallory")).scalar_one_or_none() is None


def test_a_field_device_cannot_approve_its_own_audit(app, client, tablet, valid):
    from sync import hlc
    from sync.changes import Change

    assert client.put(f"{API}/photos/{valid.photo_sha}", data=valid.photo, headers=tablet.auth).status_code == 201
    assert client.post(f"{API}/push", json=push_body(valid.entries()), headers=tablet.auth).status_code == 200
    review = Change(origin_id=tablet.device_id, origin_seq=3, kind="review", entity_id=valid.audit_id,
                    hlc=hlc.encode(1795000000000, 900), scope="36.73.01",
                    payload={"id": str(uuid.uuid4()), "audit_id": valid.audit_id, "decision": "approved",
                             "comment": "", "reviewer": "siti", "decided_at": "2026-11-20T03:00:00+00:00",
                             "device_id": tablet.device_id})
    client.post(f"{API}/push", json=push_body([(3, review)], after=2), headers=tablet.auth)  # refused or ignored
    with app.app_context():
        assert db.session.get(Audit, uuid.UUID(valid.audit_id)).review_status is None
