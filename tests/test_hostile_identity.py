"""The hub trusts no one (issue #11): who is sending, and what they may send.

A table of hostile requests against a kota hub, each refused with its status and stable code and
leaving the database and the photo store exactly as they were, on SQLite and on PostgreSQL:
enrollment (codes spent, revoked, guessed), origins (a change in another node's name, the hub's
own among them; the origin tree of lower hubs), scope (kecamatan, auditors, facility fields),
clocks (far-future HLCs) and the bound on waiting changes. Then what hostile devices say that is
ignored rather than refused (the id, role and scope they ask for at enrollment), a code raced by
threads, reviews still working after refusals, the device adopting the id the hub minted, and
the HLC's range (Hypothesis).

The world: Kota Serang's kecamatan; Siti audits in Serang (36.73.01), Rina in Kasemen (36.73.02),
Adi is an admin; one facility in each of the two kecamatan; tablet-1 (field, Serang), tablet-2
(field, Serang), Hub Selatan (a lower hub for Serang and Kasemen) and Hub Utara (a lower hub for
Taktakan, 36.73.03), all enrolled here.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from app.cli_support import write_transaction
from app.db import utcnow
from app.extensions import db
from app.node import Device
from survey.audits.models import Audit
from sync import hlc, service, trust
from sync.changes import Change
from sync.models import AuditReview, SyncChange, SyncPeer
from sync.problems import SyncError
from tests.conftest import make_facility, make_user
from tests.support import fresh_postgres_database, make_jpeg
from tests.sync_corpus import ValidBundle, photo_files, snapshot

API = "/api/v1/sync"
SERANG, KASEMEN, TAKTAKAN = "36.73.01", "36.73.02", "36.73.03"
T = 1795000000000  # November 2026, in milliseconds


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app_config(request, tmp_path):
    """A kota hub, on SQLite or on a fresh PostgreSQL database."""
    config = {"INSTANCE_PATH": str(tmp_path / "hub"), "ROLE": "hub", "SECRET_KEY": "x" * 32, "TESTING": True}
    if request.param == "sqlite":
        yield config
        return
    for url in fresh_postgres_database():
        yield {**config, "DATABASE_URL": url}


@dataclass
class Node:
    """A device or lower hub enrolled here, as the hub knows it."""

    device_id: str
    token: str
    key: str
    hub_id: str

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def enroll(app, name: str, scope, role: str = "field") -> Node:
    """A supervisor registers a node and it spends its code."""
    with app.app_context(), write_transaction() as session:
        code = service.register_device(session, name, list(scope), role)[1]
        answer = service.enroll(session, code)
    return Node(answer["device_id"], answer["token"], answer["device_key"], answer["hub_id"])


@dataclass
class World:
    app: object
    client: object
    tablet: Node
    tablet2: Node
    south: Node
    north: Node
    ours: str  # the facility in Serang
    theirs: str  # the facility in Kasemen
    valid: ValidBundle
    values: dict = field(default_factory=dict)

    def seq(self, node: Node) -> int:
        with self.app.app_context():
            return db.session.get(Device, uuid.UUID(node.device_id)).acked_seq


@pytest.fixture
def world(app, client, kota_serang, tmp_path) -> World:
    from survey.checklist import dump_checklist_yaml
    from survey.registry import installed

    make_user(app, "siti", "auditor", [SERANG])
    make_user(app, "rina", "auditor", [KASEMEN])
    make_user(app, "adi", "admin")
    ours = make_facility(app)
    theirs = make_facility(app, name="Taman Bermain Kasemen", kecamatan_code=KASEMEN, lat=None, lon=None)
    tablet = enroll(app, "tablet-1", [SERANG])
    with app.app_context():
        checklist = installed()["ktr@1"]
    folder = tmp_path / "bundles"
    folder.mkdir()
    valid = ValidBundle.for_checklist(folder, checklist, dump_checklist_yaml(checklist), device_id=tablet.device_id,
                                      hub_id=tablet.hub_id, key=tablet.key, facility_id=ours, auditor="siti",
                                      photo=make_jpeg(), max_photo_bytes=app.config["MAX_CONTENT_LENGTH"])
    return World(app, client, tablet, enroll(app, "tablet-2", [SERANG]), enroll(app, "Hub Selatan", [SERANG, KASEMEN], "hub"),
                 enroll(app, "Hub Utara", [TAKTAKAN], "hub"), ours, theirs, valid)


def body(entries: list[Change], after: int = 0, first: int = 1) -> dict:
    """A push body: these changes at local positions first, first + 1, ..."""
    return {"after": after, "up_to": first + len(entries) - 1,
            "entries": [{"local_seq": first + i, "change": c.to_dict()} for i, c in enumerate(entries)]}


def hub_id(w: World) -> str:
    return w.tablet.hub_id


def next_hub_seq(w: World) -> int:
    with w.app.app_context():
        return (db.session.execute(select(SyncChange.origin_seq).where(SyncChange.origin_id == uuid.UUID(hub_id(w)))
                                   .order_by(SyncChange.origin_seq.desc()).limit(1)).scalar_one_or_none() or 0) + 1


def audit(w: World, origin: str, seq: int = 1, when: str | None = None, **overrides) -> Change:
    """An audit of the Serang facility by Siti (photos none), made on `origin`."""
    doc = w.valid.audit_document(**{"photos": {}, "readings": [], "device_id": origin, **overrides})
    doc["id"] = overrides.get("id", str(uuid.uuid4()))
    return Change(origin, seq, "audit", doc["id"], when or hlc.encode(T, seq), doc, SERANG)


def registration(origin: str, seq: int = 1, kecamatan: str = SERANG, when: str | None = None, **fields) -> Change:
    facility_id = str(uuid.uuid4())
    values = {"kind": "ruang_bermain", "name": "RPTRA Ceria", "official_id": None, "address": None, "lat": None,
              "lon": None, "kecamatan_code": kecamatan, "desa_code": None, "status": "active", **fields}
    return Change(origin, seq, "facility", facility_id, when or hlc.encode(T, seq),
                  {"facility_id": facility_id, "fields": values, "base": {}}, kecamatan)


def edit(origin: str, facility_id: str, fields: dict, seq: int = 1, scope: str = SERANG) -> Change:
    return Change(origin, seq, "facility", facility_id, hlc.encode(T, seq),
                  {"facility_id": facility_id, "fields": fields, "base": {}}, scope)


def account(origin: str, role: str, kecamatan: list[str], seq: int = 1) -> Change:
    user_id = str(uuid.uuid4())
    return Change(origin, seq, "user", user_id, hlc.encode(T, seq),
                  {"id": user_id, "username": "mallory", "full_name": "Mallory", "role": role,
                   "password_hash": "pbkdf2:sha256:1$x$y", "active": True, "is_demo": False, "kecamatan": kecamatan}, None)


# --- the table ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A hostile request: who sends it, what, and how it must be refused. `send` gets the World and returns
    the response (HTTP) or raises SyncError (a bundle or a pull, applied as the CLI applies them)."""

    name: str
    send: Callable
    status: int
    code: str
    setup: Callable | None = None


def push(who: str, entries: Callable[[World], list[Change]], after: Callable[[World], int] | None = None):
    def send(w: World):
        node = getattr(w, who)
        start = after(w) if after else w.seq(node)
        return w.client.post(f"{API}/push", json=body(entries(w), after=start, first=start + 1), headers=node.auth)
    return send


def enroll_request(code: Callable[[World], str], **extra):
    return lambda w: w.client.post(f"{API}/enroll", json={"code": code(w), **extra})


def bundle_of(entries: Callable[[World], list[Change]]):
    """The tablet's signed push bundle with these changes, imported on the hub."""
    def send(w: World):
        data = w.valid([(i + 1, c) for i, c in enumerate(entries(w))], photos={})
        with w.app.app_context(), write_transaction() as session:
            service.import_push_bundle(session, data, _store(w), w.app.config["MAX_CONTENT_LENGTH"],
                                       w.valid.folder / "return.zip")
    return send


def _bundle_with_a_photo_and_a_waiting_audit(w: World):
    """Tablet-1's bundle: a fifth correction waiting for its original, with its evidence photo."""
    change = audit(w, w.tablet.device_id, 5, revision=2, revision_of=str(uuid.uuid4()),
                   photos={w.valid.photo_item: [w.valid.photo_sha]})
    data = w.valid([(5, change)])
    with w.app.app_context(), write_transaction() as session:
        service.import_push_bundle(session, data, _store(w), w.app.config["MAX_CONTENT_LENGTH"],
                                   w.valid.folder / "return.zip")


def pulled(entries: Callable[[World], list[Change]]):
    """A page from an upper hub this hub enrolled with."""
    def send(w: World):
        page = [(i + 1, c) for i, c in enumerate(entries(w))]
        with w.app.app_context(), write_transaction() as session:
            upper = session.get(SyncPeer, uuid.UUID(w.values["upper"]))
            service.receive_pull(session, upper, page, 10, _store(w))
    return send


def _store(w: World):
    from pathlib import Path

    from survey.photos import PhotoStore

    return PhotoStore(Path(w.app.config["DATA_DIR"]) / "photos")


def _registered_code(w: World) -> None:
    with w.app.app_context(), write_transaction() as session:
        w.values["pending"], w.values["code"] = service.register_device(session, "tablet-3", [SERANG])
        w.values["pending"] = str(w.values["pending"].id)


def _spent_code(w: World) -> None:
    _registered_code(w)
    assert w.client.post(f"{API}/enroll", json={"code": w.values["code"]}).status_code == 201


def _revoked_registration(w: World) -> None:
    _registered_code(w)
    with w.app.app_context(), write_transaction() as session:
        service.revoke(session, session.get(Device, uuid.UUID(w.values["pending"])))


def _revoked_after_enrolling(w: World) -> None:
    _spent_code(w)
    _revoked_registration_again(w)


def _revoked_registration_again(w: World) -> None:
    with w.app.app_context(), write_transaction() as session:
        service.revoke(session, session.get(Device, uuid.UUID(w.values["pending"])))


def _expired_code(w: World) -> None:
    _registered_code(w)
    with w.app.app_context(), write_transaction() as session:
        session.execute(update(Device).where(Device.id == uuid.UUID(w.values["pending"]))
                        .values(enroll_expires_at=utcnow() - timedelta(seconds=1)))


def _guessed_ten_times(w: World) -> None:
    _registered_code(w)
    for n in range(10):
        assert w.client.post(f"{API}/enroll", json={"code": f"ZZZZ-ZZ{n:02d}"}).status_code == 401


def _south_relayed_a_device(w: World) -> None:
    """Hub Selatan relayed a change of a tablet enrolled beneath it: that origin is beneath Hub Selatan now."""
    w.values["beneath_south"] = str(uuid.uuid4())
    change = registration(w.values["beneath_south"])
    response = w.client.post(f"{API}/push", json=body([change]), headers=w.south.auth)
    assert response.status_code == 200, response.get_data(as_text=True)


def _upper_hub(w: World) -> None:
    w.values["upper"] = str(uuid.uuid4())
    with w.app.app_context(), write_transaction() as session:
        session.add(SyncPeer(hub_id=uuid.UUID(w.values["upper"]), url="http://upper", token="t", device_key="k" * 64))


def _three_waiting(w: World, monkeypatch=None) -> None:
    """Tablet-1 has three corrections waiting for the audits they correct (the bound is three here)."""
    waiting = [audit(w, w.tablet.device_id, n + 2, revision=2, revision_of=str(uuid.uuid4())) for n in range(3)]
    answer = w.client.post(f"{API}/push", json=body([w.valid.checklist_change(1)] + waiting), headers=w.tablet.auth)
    assert answer.status_code == 200 and answer.get_json()["waiting"] == 3, answer.get_data(as_text=True)


def _far(days: float) -> str:
    return hlc.encode(hlc.wall_ms() + int(days * 86_400_000), 0)


ROWS = [
    # enrollment
    Row("enroll with a code spent before", enroll_request(lambda w: w.values["code"]), 401, "sync.bad_code",
        _spent_code),
    Row("enroll with a code whose registration was revoked", enroll_request(lambda w: w.values["code"]), 401,
        "sync.bad_code", _revoked_registration),
    Row("enroll again with the code of a device revoked since", enroll_request(lambda w: w.values["code"]), 401,
        "sync.bad_code", _revoked_after_enrolling),
    Row("enroll with an expired code, asking for the hub's id", enroll_request(
        lambda w: w.values["code"], device_id="{hub}", role="hub"), 401, "sync.bad_code", _expired_code),
    Row("enroll with a wrong code", enroll_request(lambda w: "ABCD-EFGH"), 401, "sync.bad_code", _registered_code),
    Row("the 11th wrong code from one address is throttled, the right one too",
        enroll_request(lambda w: w.values["code"]), 429, "request.too_many", _guessed_ten_times),
    # origins
    Row("a tablet pushes a change in another tablet's name",
        push("tablet", lambda w: [registration(w.tablet2.device_id)]), 403, "sync.wrong_origin"),
    Row("a tablet pushes a change in the hub's name at its next sequence",
        push("tablet", lambda w: [registration(hub_id(w), next_hub_seq(w))]), 403, "sync.wrong_origin"),
    Row("a tablet pushes a change of an origin nobody knows",
        push("tablet", lambda w: [registration(str(uuid.uuid4()))]), 403, "sync.wrong_origin"),
    Row("a lower hub pushes a change in the hub's own name",
        push("south", lambda w: [registration(hub_id(w), next_hub_seq(w))]), 403, "sync.wrong_origin"),
    Row("a lower hub relays a tablet registered directly at the hub",
        push("south", lambda w: [registration(w.tablet.device_id, 50)]), 403, "sync.wrong_origin"),
    Row("a lower hub relays a tablet beneath another lower hub",
        push("north", lambda w: [registration(w.values["beneath_south"], 2, TAKTAKAN)]), 403, "sync.wrong_origin",
        _south_relayed_a_device),
    Row("a lower hub speaks for its sibling hub", push("north", lambda w: [registration(w.south.device_id, 9, TAKTAKAN)]),
        403, "sync.wrong_origin"),
    Row("an audit made on another device", push("tablet", lambda w: [
        audit(w, w.tablet.device_id, device_id=w.tablet2.device_id)]), 403, "sync.wrong_origin"),
    Row("a bundle carrying a change in the hub's name", bundle_of(lambda w: [registration(hub_id(w), next_hub_seq(w))]),
        403, "sync.wrong_origin"),
    Row("a page from the upper hub claiming this hub's origin with content it never made",
        pulled(lambda w: [registration(hub_id(w), next_hub_seq(w) + 5)]), 403, "sync.wrong_origin", _upper_hub),
    # scope
    Row("an audit of a facility in another kecamatan", push("tablet", lambda w: [
        audit(w, w.tablet.device_id, facility_id=w.theirs, auditor="rina")]), 403, "sync.out_of_scope"),
    Row("an audit of another kecamatan's facility labelled with our scope", push("tablet", lambda w: [
        replace(audit(w, w.tablet.device_id, facility_id=w.theirs), scope=SERANG)]), 403, "sync.out_of_scope"),
    Row("a registration in another kecamatan", push("tablet", lambda w: [registration(w.tablet.device_id,
                                                                                     kecamatan=KASEMEN)]),
        403, "sync.out_of_scope"),
    Row("an edit moving our facility to another kecamatan", push("tablet", lambda w: [
        edit(w.tablet.device_id, w.ours, {"kecamatan_code": KASEMEN})]), 403, "sync.out_of_scope"),
    Row("an edit of another kecamatan's facility", push("tablet", lambda w: [
        edit(w.tablet.device_id, w.theirs, {"name": "Diganti"})]), 403, "sync.out_of_scope"),
    Row("a tombstone of another kecamatan's facility", push("tablet", lambda w: [
        edit(w.tablet.device_id, w.theirs, {"status": "deleted"})]), 403, "sync.out_of_scope"),
    Row("an edit of a facility the hub never heard of", push("tablet", lambda w: [
        edit(w.tablet.device_id, str(uuid.uuid4()), {"name": "Hantu"})]), 403, "sync.out_of_scope"),
    Row("a lower hub's audit outside its kecamatan", push("north", lambda w: [
        audit(w, w.north.device_id)]), 403, "sync.out_of_scope"),
    Row("a lower hub sends an admin account", push("south", lambda w: [account(w.south.device_id, "admin", [SERANG])]),
        403, "sync.not_allowed"),
    Row("a lower hub sends an auditor of a kecamatan outside its scope",
        push("south", lambda w: [account(w.south.device_id, "auditor", [TAKTAKAN])]), 403, "sync.out_of_scope"),
    Row("an audit naming an auditor of another kecamatan", push("tablet", lambda w: [
        audit(w, w.tablet.device_id, auditor="rina")]), 403, "sync.bad_auditor"),
    Row("an audit naming an admin as its auditor", push("tablet", lambda w: [
        audit(w, w.tablet.device_id, auditor="adi")]), 403, "sync.bad_auditor"),
    Row("an audit naming an account the hub does not have", push("tablet", lambda w: [
        audit(w, w.tablet.device_id, auditor="hantu")]), 403, "sync.bad_auditor"),
    Row("a registration that verifies itself", push("tablet", lambda w: [
        registration(w.tablet.device_id, verified=True)]), 403, "sync.field_not_allowed"),
    Row("an edit setting verified", push("tablet", lambda w: [edit(w.tablet.device_id, w.ours, {"verified": True})]),
        403, "sync.field_not_allowed"),
    # Fields no facility syncs are refused by the door's schema first (sync.schemas); sync.trust refuses them
    # again for whatever reaches it (test_trust_refuses_fields_nobody_syncs).
    Row("an edit setting id", push("tablet", lambda w: [edit(w.tablet.device_id, w.ours, {"id": str(uuid.uuid4())})]),
        422, "sync.bad_change"),
    Row("an edit setting __class__", push("tablet", lambda w: [edit(w.tablet.device_id, w.ours, {"__class__": "x"})]),
        422, "sync.bad_change"),
    Row("an edit setting a field nobody syncs", push("tablet", lambda w: [
        edit(w.tablet.device_id, w.ours, {"located_kecamatan_code": KASEMEN})]), 422, "sync.bad_change"),
    Row("a lower hub setting id", push("south", lambda w: [edit(w.south.device_id, w.ours, {"id": str(uuid.uuid4())})]),
        422, "sync.bad_change"),
    # clocks
    Row("a change dated two days ahead", push("tablet", lambda w: [registration(w.tablet.device_id, when=_far(2))]),
        422, "sync.clock_ahead"),
    Row("a change dated in the year 9999", push("tablet", lambda w: [
        registration(w.tablet.device_id, when=hlc.encode(hlc.MAX_MS, 0))]), 422, "sync.clock_ahead"),
    Row("a lower hub relaying a change dated next year", push("south", lambda w: [
        registration(w.south.device_id, when=_far(365))]), 422, "sync.clock_ahead"),
    Row("a bundle with a change dated in the year 9999", bundle_of(lambda w: [
        registration(w.tablet.device_id, when=hlc.encode(hlc.MAX_MS, 9999))]), 422, "sync.clock_ahead"),
    Row("a page from the upper hub dated next year", pulled(lambda w: [registration(str(uuid.uuid4()), when=_far(365))]),
        422, "sync.clock_ahead", _upper_hub),
    # waiting changes
    Row("a fourth waiting change when three may wait", push("tablet", lambda w: [
        audit(w, w.tablet.device_id, 5, revision=2, revision_of=str(uuid.uuid4()))]), 422, "sync.too_many_waiting",
        _three_waiting),
    Row("a bundle whose photo comes with a fourth waiting change", _bundle_with_a_photo_and_a_waiting_audit, 422,
        "sync.too_many_waiting", _three_waiting),
]


def state(app) -> dict:
    with app.app_context():
        try:
            return snapshot(db.session)
        finally:
            db.session.rollback()


@pytest.mark.parametrize("row", [pytest.param(row, id=row.name) for row in ROWS])
def test_refused_with_its_code_and_nothing_changes(world, row, monkeypatch):
    monkeypatch.setattr(trust, "MAX_WAITING", 3)
    if row.setup:
        row.setup(world)
    before, files = state(world.app), photo_files(_store(world).root)
    try:
        response = row.send(world)
    except SyncError as error:
        status, code = error.status, error.code
    else:
        assert response is not None, "a bundle or page that should have been refused was applied"
        status, code = response.status_code, (response.get_json(silent=True) or {}).get("error", {}).get("code")
        assert response.get_json()["error"]["message"]
    assert (status, code) == (row.status, row.code)
    assert state(world.app) == before
    assert photo_files(_store(world).root) == files


# --- what a hostile device asks for at enrollment is ignored --------------------------------------------


@pytest.mark.parametrize("asks", ["hub", "tablet", "revoked", "role"])
def test_enrollment_ignores_the_id_and_role_a_device_asks_for(world, asks):
    """The answer names the registration's id, role and scope; the node whose id was asked for is untouched,
    and a revoked device stays revoked."""
    app, client = world.app, world.client
    revoked = enroll(app, "tablet-lost", [SERANG])
    with app.app_context(), write_transaction() as session:
        service.revoke(session, session.get(Device, uuid.UUID(revoked.device_id)))
    wanted = {"hub": hub_id(world), "tablet": world.tablet.device_id, "revoked": revoked.device_id,
              "role": str(uuid.uuid4())}[asks]
    with app.app_context(), write_transaction() as session:
        pending, code = service.register_device(session, "tablet-3", [SERANG])
        pending_id = str(pending.id)
    before = {d: _device_row(app, d) for d in (hub_id(world), world.tablet.device_id, revoked.device_id)}
    answer = client.post(f"{API}/enroll", json={"code": code, "device_id": wanted, "role": "hub", "name": "Admin",
                                                "scope": [KASEMEN, TAKTAKAN]})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    got = answer.get_json()
    assert (got["device_id"], got["role"], got["scope"], got["hub_id"]) == (pending_id, "field", [SERANG], hub_id(world))
    assert {d: _device_row(app, d) for d in before} == before
    with app.app_context():
        assert db.session.get(Device, uuid.UUID(revoked.device_id)).revoked_at is not None
        assert db.session.get(Device, uuid.UUID(pending_id)).role == "field"
    status = client.get(f"{API}/status", headers={"Authorization": f"Bearer {got['token']}"})
    assert status.get_json()["scope"] == [SERANG]
    lost = client.get(f"{API}/status", headers=revoked.auth)
    assert (lost.status_code, lost.get_json()["error"]["code"]) == (403, "sync.revoked_device")


def _device_row(app, device_id: str) -> tuple:
    with app.app_context():
        d = db.session.get(Device, uuid.UUID(device_id))
        return (d.name, d.role, d.is_self, d.token_hash, d.device_key, d.revoked_at, tuple(d.scope or ()), d.parent_id)


def test_a_code_raced_by_threads_enrolls_one_device(world):
    """Eight requests with one code at once (each its own connection and transaction): one wins."""
    app = world.app
    with app.app_context(), write_transaction() as session:
        code = service.register_device(session, "tablet-race", [SERANG])[1]
    start, results = threading.Barrier(8), []

    def attempt() -> None:
        start.wait()
        try:
            with app.app_context(), write_transaction() as session:
                results.append(service.enroll(session, code)["token"])
        except SyncError as error:
            results.append(error.code)
        except Exception as error:  # a lock timeout would be a failure of its own: show it
            results.append(repr(error))

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    tokens = [r for r in results if r != "sync.bad_code"]
    assert len(results) == 8 and len(tokens) == 1, results
    with app.app_context():
        rows = db.session.execute(select(Device).where(Device.name == "tablet-race")).scalars().all()
        assert len(rows) == 1 and rows[0].token_hash == service._hash(tokens[0])


def test_registering_a_lower_hub_is_for_admins(world, auth):
    """A supervisor registers field devices; the role choice (lower hub) is an admin's."""
    make_user(world.app, "budi", "supervisor")
    auth.login("budi")
    form = {"name": "Hub Palsu", "kecamatan": [SERANG], "role": "hub"}
    assert auth.post("/devices/register", form).status_code == 403
    with world.app.app_context():
        assert db.session.execute(select(Device).where(Device.name == "Hub Palsu")).first() is None
    assert auth.post("/devices/register", {**form, "role": "field", "name": "Tablet Budi"}).status_code == 200
    auth.post("/logout")
    auth.login("adi")
    assert auth.post("/devices/register", form).status_code == 200
    with world.app.app_context():
        roles = dict(db.session.execute(select(Device.name, Device.role).where(
            Device.name.in_(["Hub Palsu", "Tablet Budi"]))).all())
    assert roles == {"Hub Palsu": "hub", "Tablet Budi": "field"}


# --- what still works --------------------------------------------------------------------------------------


def test_reviews_still_work_after_a_push_in_the_hubs_name(world, auth):
    """Pushing under the hub's own origin at its next sequence used to make every later review a 409."""
    w = world
    assert w.client.put(f"{API}/photos/{w.valid.photo_sha}", data=w.valid.photo, headers=w.tablet.auth).status_code == 201
    assert w.client.post(f"{API}/push", json=body([c for _, c in w.valid.entries()]),
                         headers=w.tablet.auth).status_code == 200
    make_user(w.app, "budi", "supervisor")
    seq = next_hub_seq(w)
    hostile = w.client.post(f"{API}/push", json=body([registration(hub_id(w), seq)], after=2, first=3),
                            headers=w.tablet.auth)
    assert hostile.status_code == 403
    auth.login("budi")
    decided = auth.post(f"/reviews/{w.valid.audit_id}", {"decision": "approved", "comment": ""})
    assert decided.status_code == 302, decided.get_data(as_text=True)
    with w.app.app_context():
        assert db.session.get(Audit, uuid.UUID(w.valid.audit_id)).review_status == "approved"
        assert db.session.execute(select(AuditReview)).scalars().one().hlc
        held = db.session.execute(select(SyncChange.origin_seq, SyncChange.kind).where(
            SyncChange.origin_id == uuid.UUID(hub_id(w)), SyncChange.origin_seq >= seq)).all()
    assert [tuple(r) for r in held] == [(seq, "review")]


def test_a_lower_hub_speaks_for_the_nodes_beneath_it(world):
    """An origin first seen through Hub Selatan is recorded beneath it; Hub Selatan may speak for it again."""
    w = world
    beneath = str(uuid.uuid4())
    first = w.client.post(f"{API}/push", json=body([registration(beneath, 1)]), headers=w.south.auth)
    assert first.status_code == 200 and first.get_json()["applied"] == 1, first.get_data(as_text=True)
    again = w.client.post(f"{API}/push", json=body([registration(beneath, 2, KASEMEN)], after=1, first=2),
                          headers=w.south.auth)
    assert again.status_code == 200 and again.get_json()["applied"] == 1
    with w.app.app_context():
        row = db.session.get(Device, uuid.UUID(beneath))
        assert (str(row.parent_id), row.token_hash, row.role) == (w.south.device_id, None, "field")


def test_the_scope_a_change_carries_is_recomputed(world):
    """A registration in Serang labelled Kasemen is stored (and sent on) as Serang's."""
    w = world
    change = replace(registration(w.tablet.device_id), scope=KASEMEN)
    assert w.client.post(f"{API}/push", json=body([change]), headers=w.tablet.auth).status_code == 200
    with w.app.app_context():
        stored = db.session.execute(select(SyncChange.scope).where(
            SyncChange.origin_id == uuid.UUID(w.tablet.device_id))).scalar_one()
    assert stored == SERANG


def test_a_waiting_change_is_applied_when_its_dependency_arrives(world):
    """A correction that arrived before the audit it corrects waits, and is applied with it; a later push
    that unblocks nothing does not touch it."""
    w = world
    original = audit(w, w.tablet.device_id, 2)
    correction = audit(w, w.tablet.device_id, 3, revision=2, revision_of=original.entity_id)
    first = w.client.post(f"{API}/push", json=body([w.valid.checklist_change(1), correction]), headers=w.tablet.auth)
    assert first.get_json()["waiting"] == 1, first.get_data(as_text=True)
    other = w.client.post(f"{API}/push", json=body([registration(w.tablet2.device_id)]), headers=w.tablet2.auth)
    assert other.get_json() == {"acked_seq": 1, "applied": 1, "duplicates": 0, "waiting": 0, "conflicts": 0}
    with w.app.app_context():
        assert db.session.get(Audit, uuid.UUID(correction.entity_id)) is None
    late = w.client.post(f"{API}/push", json=body([original], after=1, first=2), headers=w.tablet2.auth)
    assert late.status_code == 403  # not tablet-2's to send
    done = w.client.post(f"{API}/push", json=body([original], after=2, first=3), headers=w.tablet.auth)
    assert done.get_json()["waiting"] == 0 and done.get_json()["applied"] == 2, done.get_data(as_text=True)
    with w.app.app_context():
        assert db.session.get(Audit, uuid.UUID(correction.entity_id)).revision_of == uuid.UUID(original.entity_id)
        assert not db.session.execute(select(SyncChange).where(SyncChange.applied.is_(False))).first()


# --- clocks --------------------------------------------------------------------------------------------------

HLCS = st.builds(hlc.encode, st.integers(0, hlc.MAX_MS), st.integers(0, hlc.MAX_COUNTER))
WALL = st.integers(0, hlc.MAX_MS + 10 ** 6)


@settings(max_examples=500, deadline=None)
@given(HLCS, WALL)
def test_every_hlc_a_node_issues_is_one_every_peer_parses(last, now):
    try:
        issued = hlc.tick(last, now)
    except ValueError:  # only at the very last timestamp there is
        assert hlc.decode(min(last, hlc.ceiling(now))) == (hlc.MAX_MS, hlc.MAX_COUNTER)
        return
    assert hlc.valid(issued)
    assert issued > min(last, hlc.ceiling(now))
    assert hlc.decode(issued)[0] <= hlc.decode(hlc.ceiling(now))[0] + 1  # + 1: a counter carry at the bound


@settings(max_examples=500, deadline=None)
@given(HLCS, HLCS, st.integers(0, hlc.MAX_MS))
def test_a_clock_never_moves_beyond_now_plus_the_skew(last, seen, now):
    moved = hlc.observe(last, seen, now)
    assert hlc.valid(moved) and moved <= hlc.ceiling(now)
    assert moved >= min(max(last, seen), hlc.ceiling(now))


def test_the_skew_is_a_day():
    now = hlc.wall_ms()
    assert hlc.MAX_SKEW_MS == 24 * 3600 * 1000
    assert not hlc.ahead(hlc.encode(now + hlc.MAX_SKEW_MS - 1000, 0), now)
    assert hlc.ahead(hlc.encode(now + hlc.MAX_SKEW_MS + 1, 0), now)
    assert hlc.ahead("9999999999999999.9999", now)


@pytest.mark.parametrize("role", ["field", "hub"])
@pytest.mark.parametrize("name", ["id", "__class__", "located_kecamatan_code", "verified_by"])
def test_trust_refuses_fields_nobody_syncs(role, name):
    facility_id = str(uuid.uuid4())
    change = Change(str(uuid.uuid4()), 1, "facility", facility_id, hlc.encode(T, 1),
                    {"facility_id": facility_id, "fields": {name: "x"}, "base": {}}, SERANG)
    sender = trust.Sender(change.origin_id, role, frozenset({SERANG}))
    facts = trust.Facts(receiver_id=str(uuid.uuid4()), now_ms=T, facility_kecamatan={facility_id: SERANG},
                        facility_exists={facility_id})
    with pytest.raises(SyncError) as refused:
        trust.vet([change], sender, facts)
    assert refused.value.code == "sync.field_not_allowed"


def test_the_facility_fields_trust_knows_are_those_that_sync():
    from survey.facilities.models import FACILITY_FIELDS

    assert trust.FACILITY_FIELDS == frozenset(FACILITY_FIELDS)
    assert trust.FIELD_EDITABLE < trust.FACILITY_FIELDS


# --- the device adopts the id the hub minted -------------------------------------------------------------


def _node(tmp_path, name: str, role: str):
    from flask_migrate import upgrade

    from app import create_app
    from survey import demo

    node = create_app({"INSTANCE_PATH": str(tmp_path / name), "ROLE": role, "SECRET_KEY": "y" * 32, "TESTING": True,
                       "DEMO": False})
    with node.app_context():
        upgrade()
        with write_transaction() as session:
            service.ensure_self_device(session, role)
            demo.seed_regions(session)
    return node


def _route_to(hub, monkeypatch) -> None:
    """The device's HTTP client talks to the hub app in this process."""
    from sync.client import Hub

    def call(self, method, path, body=None, content_type="application/json"):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        client = hub.test_client()
        if isinstance(body, dict):
            response = client.open(path, method=method, json=body, headers=headers)
        else:
            response = client.open(path, method=method, data=body, headers=headers, content_type=content_type)
        if response.status_code >= 400:
            raise SyncError(response.get_json()["error"]["code"], "%(reason)s", status=response.status_code,
                            reason=response.get_json()["error"]["message"])
        return response.get_json()

    monkeypatch.setattr(Hub, "call", call)


def test_a_device_takes_the_id_the_hub_minted_everywhere_it_named_itself(tmp_path, monkeypatch):
    """A tablet registered a facility before it was enrolled: after enrolling, every row that named its
    old id names the minted one, its change travels under that id, and it cannot enroll a second time."""
    from sqlalchemy import text

    from app.auditlog import AuditLogEntry
    from app.node import self_device_id
    from survey.facilities.models import Facility
    from survey.facilities.service import FacilityInput, create_facility
    from sync import run
    from sync.models import FacilityEdit

    hub, tablet = _node(tmp_path, "hub", "hub"), _node(tmp_path, "tablet", "field")
    _route_to(hub, monkeypatch)
    with tablet.app_context(), write_transaction() as session:
        old = self_device_id(session)
        facility = create_facility(session, FacilityInput(kind="ruang_bermain", name="RPTRA Baru", kecamatan_code=SERANG),
                                   verified=False, device_id=old).id
    with hub.app_context(), write_transaction() as session:
        code = service.register_device(session, "tablet-1", [SERANG])[1]
    with tablet.app_context():
        answer = run.enroll("http://hub", code)
        new = uuid.UUID(answer["device_id"])
        assert new != old and self_device_id(db.session) == new
        session = db.session
        assert session.get(Device, old) is None and session.get(Device, new).is_self
        assert session.get(Device, new).scope == [SERANG]
        assert session.get(Facility, facility).origin_device_id == new
        assert {e.device_id for e in session.execute(select(FacilityEdit)).scalars()} == {new}
        assert {e.device_id for e in session.execute(select(AuditLogEntry)).scalars()} == {new}
        assert {c.origin_id for c in session.execute(select(SyncChange)).scalars()} == {new}
        for table, column in service.DEVICE_COLUMNS:
            assert session.execute(text(f'SELECT count(*) FROM "{table}" WHERE "{column}" = :old'),
                                   {"old": old.hex}).scalar_one() == 0, (table, column)
        db.session.rollback()
        run.push()
    with hub.app_context():
        held = db.session.execute(select(SyncChange.origin_id, SyncChange.kind)).all()
        assert (new, "facility") in [tuple(r) for r in held]
        assert db.session.get(Facility, facility).name == "RPTRA Baru"
    with hub.app_context(), write_transaction() as session:
        second = service.register_device(session, "tablet-1 again", [SERANG])[1]
    with tablet.app_context():
        with pytest.raises(SyncError) as refused:
            run.enroll("http://hub", second)
        assert refused.value.code == "sync.identity_spent"
        assert self_device_id(db.session) == new
    with hub.app_context():  # refused before the code was spent
        again = db.session.execute(select(Device).where(Device.name == "tablet-1 again")).scalar_one()
        assert again.enroll_code_hash is not None and again.token_hash is None


def test_the_devices_page_shows_each_devices_waiting_changes(world, auth):
    from tests.support import html

    _three_waiting(world)
    auth.login("adi")
    page = html(world.client.get("/devices/"))
    shown = {row.find("code").get_text(strip=True)[:8]: row.find(attrs={"data-waiting": True})
             for row in page.select("tbody tr")}
    assert shown[world.tablet.device_id[:8]]["data-waiting"] == "3"
    assert shown[world.tablet2.device_id[:8]] is None
