"""A small world for page tests: two kecamatan, every persona, audits, photos, devices, a conflict.

Siti audits in Kecamatan Serang (36.73.01), Rina in Kasemen (36.73.02). Each has a facility, a
submitted audit with a photo and a draft of their own. On the node there is an enrolled device (its
token), a revoked one, one only registered, an open facility conflict, and (on a hub) a return bundle.
`text` is put into every place a device or a user can write, so the hostile suite can fill it with markup.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.auth.models import User
from app.cli_support import write_transaction
from tests.conftest import PASSWORD, make_facility, make_user

OWN_KECAMATAN, FOREIGN_KECAMATAN = "36.73.01", "36.73.02"
KABKOTA = "36.73"
CHECKLIST = "rbra@1"
PHOTO_ITEM = "foto_area_bermain"
YNP_ITEM = "jauh_dari_sumber_bahaya"
PERSONAS = {"auditor": "siti", "supervisor": "budi", "planner": "dewi", "admin": "adi"}


@dataclass
class World:
    """Ids of what the world holds, by name."""

    facility: dict[str, str] = field(default_factory=dict)  # own, foreign
    submitted: dict[str, str] = field(default_factory=dict)
    draft: dict[str, str] = field(default_factory=dict)
    photo: dict[str, str] = field(default_factory=dict)
    token: str = ""
    revoked_token: str = ""
    victim_device: str = ""
    conflict: str = ""
    return_name: str = ""
    year: int = 0
    user_ids: dict[str, str] = field(default_factory=dict)


def build(app, text: str = "", warnings: tuple[str, ...] = (), answer: object = "ya", peer: bool = False) -> World:
    """Every record the page tests need, on this app's database (text: what devices and users wrote)."""
    from survey import demo

    world = World(year=dt.datetime.now(ZoneInfo("Asia/Jakarta")).year)
    with app.app_context(), write_transaction() as session:
        demo.seed_regions(session)
    make_user(app, "siti", "auditor", [OWN_KECAMATAN])
    make_user(app, "rina", "auditor", [FOREIGN_KECAMATAN])
    for role, username in PERSONAS.items():
        if role != "auditor":
            make_user(app, username, role)
    with app.app_context(), write_transaction() as session:
        for user in session.execute(select(User)).scalars():
            user.full_name = f"{user.username.title()} {text}".strip()
            world.user_ids[user.username] = str(user.id)
    for side, kecamatan, username, lat in (("own", OWN_KECAMATAN, "siti", -6.115), ("foreign", FOREIGN_KECAMATAN, "rina", -6.06)):
        world.facility[side] = make_facility(app, name=f"Taman {side} {text}".strip(), kecamatan_code=kecamatan,
                                             lat=lat, lon=106.16)
        world.submitted[side], world.photo[side] = _submitted(app, world.facility[side], username, text, warnings, answer)
        world.draft[side] = _draft(app, world.facility[side], username)
    world.token, world.revoked_token, world.victim_device = _devices(app)
    world.conflict = _conflict(app, world.facility["own"], text)
    if app.config["ROLE"] == "hub":
        world.return_name = _return_bundle(app)
    if peer:
        _peer(app)
    _compute(app, world.year)
    return world


def _peer(app) -> None:
    """An upstream hub this node is enrolled with (at an address nobody answers)."""
    from sync.models import SyncPeer

    with app.app_context(), write_transaction() as session:
        session.add(SyncPeer(hub_id=uuid.uuid4(), url="http://127.0.0.1:9", token="t" * 40, device_key="k" * 64))


def _submitted(app, facility_id: str, username: str, text: str, warnings, answer) -> tuple[str, str]:
    """A submitted, scored audit with an answer, a note, GPS warnings and a photo; (audit id, photo sha256)."""
    from survey import registry
    from survey.audits.models import Answer, Audit
    from tests.indicator_scenario import attach_photo

    colour = (30, 120, 200) if username == "siti" else (200, 60, 30)
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    with app.app_context(), write_transaction() as session:
        registry.store_version(session, registry.installed()[CHECKLIST])
        auditor = session.execute(select(User).where(User.username == username)).scalar_one()
        audit = Audit(facility_id=uuid.UUID(facility_id), checklist_key=CHECKLIST, status="submitted",
                      auditor_id=auditor.id, started_at=when - dt.timedelta(hours=1), submitted_at=when, score=0.8,
                      result="memenuhi", lat=-6.115, lon=106.16, accuracy_m=12.0, position_source="gps",
                      position_at=when, position_warnings=list(warnings), review_comment=text or None)
        session.add(audit)
        session.flush()
        session.add(Answer(audit_id=audit.id, item_id=YNP_ITEM, value=answer, note=text or None))
        sha = attach_photo(app, session, audit, PHOTO_ITEM, colour)
        return str(audit.id), sha


def _draft(app, facility_id: str, username: str) -> str:
    """A draft with no answers (so submitting it is refused)."""
    from survey.audits.models import Audit

    with app.app_context(), write_transaction() as session:
        auditor = session.execute(select(User).where(User.username == username)).scalar_one()
        audit = Audit(facility_id=uuid.UUID(facility_id), checklist_key=CHECKLIST, status="draft", auditor_id=auditor.id)
        session.add(audit)
        session.flush()
        return str(audit.id)


def _devices(app) -> tuple[str, str, str]:
    """An enrolled device's token, a revoked device's token, and the id of a device only registered."""
    from app.db import utcnow
    from sync import service
    from app.node import Device

    tokens = []
    for name in ("tablet-serang", "tablet-lost"):
        with app.app_context(), write_transaction() as session:
            _device, code = service.register_device(session, name, [OWN_KECAMATAN], "field")
        tokens.append(_enroll(app, code, name))
    with app.app_context(), write_transaction() as session:
        lost = session.execute(select(Device).where(Device.name == "tablet-lost")).scalar_one()
        lost.revoked_at = utcnow()
        victim, _code = service.register_device(session, "tablet-spare", [OWN_KECAMATAN], "field")
        victim_id = str(victim.id)
    return tokens[0] or "not-a-token", tokens[1] or "not-a-token-either", victim_id


def _enroll(app, code: str, name: str) -> str:
    """Enroll through the API as a tablet does; the body the hub wants first, the older one with a device id next."""
    client = app.test_client()
    for body in ({"code": code, "name": name}, {"code": code, "name": name, "device_id": str(uuid.uuid4())}):
        response = client.post("/api/v1/sync/enroll", json=body)
        if response.status_code == 201:
            return response.get_json()["token"]
    return ""


def _conflict(app, facility_id: str, text: str) -> str:
    """An open facility conflict: two devices set the name at once."""
    from sync.models import SyncConflict

    with app.app_context(), write_transaction() as session:
        conflict = SyncConflict(kind="facility", entity_id=facility_id, detail_key="name",
                                detail={"field": "name", "versions": [{"value": f"A {text}", "device": "aaaaaaaa"},
                                                                      {"value": f"B {text}", "device": "bbbbbbbb"}]})
        session.add(conflict)
        session.flush()
        return str(conflict.id)


def _return_bundle(app) -> str:
    """A return bundle an earlier upload left for download."""
    folder = Path(app.config["DATA_DIR"]) / "returns"
    folder.mkdir(exist_ok=True)
    name = f"return-{uuid.uuid4().hex}.zip"
    (folder / name).write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    return name


def _compute(app, year: int) -> None:
    """Indicator values of this year, so the planner pages have something to show."""
    from indicators import service

    with app.app_context(), write_transaction() as session:
        service.compute_year(session, year, ZoneInfo(app.config["TIMEZONE"]))


def login(app, username: str):
    """A test client signed in as this user (one sign-in per client: throttling counts failures only)."""
    from tests.conftest import Session

    session = Session(app.test_client())
    response = session.login(username, PASSWORD)
    assert response.status_code == 302, f"{username} could not sign in"
    return session
