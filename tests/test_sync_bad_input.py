"""Bundles on a hub: a valid one is applied once; every bad one (tests/sync_corpus.py) is refused by its
stable code and changes nothing, neither in the database nor in the photo folder."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from app import create_app
from app.cli_support import write_transaction
from app.extensions import db
from app.problems import AppError
from survey.audits.models import Answer, AnswerPhoto, Audit, ChecklistVersion, GpsReading, Photo
from survey.photos import PhotoStore
from sync import publish, service
from app.node import Device
from sync.models import SyncChange
from tests.support import make_jpeg
from tests.sync_corpus import ValidBundle, build_corpus, mint_as, photo_files, snapshot

CASES = build_corpus(tmp_dir=None, valid_builder=None)  # lazy: listing the corpus builds nothing
@pytest.fixture
def app_config(tmp_path):
    """A kota hub."""
    return {"INSTANCE_PATH": str(tmp_path / "hub"), "ROLE": "hub", "SECRET_KEY": "x" * 32, "TESTING": True}


@dataclass(frozen=True)
class Enrolled:
    device_id: str
    token: str
    key: str
    hub_id: str


def enroll_device(app, name: str, scope: list[str], device_id: str) -> dict:
    """Register a device on the hub and spend its one-time code, as `flask sync enroll` does over HTTP."""
    with app.app_context(), write_transaction() as session:
        device, code = service.register_device(session, name, scope)
        mint_as(session, device, device_id)
        return service.enroll(session, code)


@pytest.fixture
def enrolled(app, kota_serang) -> Enrolled:
    """Tablet-1 works in Kecamatan Serang and is enrolled: the hub holds its token hash and key."""
    device_id = str(uuid.uuid4())
    answer = enroll_device(app, "tablet-1", ["36.73.01"], device_id)
    return Enrolled(device_id, answer["token"], answer["device_key"], answer["hub_id"])


@pytest.fixture
def valid(app, tmp_path, facility, auditor, enrolled) -> ValidBundle:
    """Tablet-1's push bundle: the KTR checklist text and Siti's KTR audit of the facility with one photo."""
    from survey.checklist import dump_checklist_yaml
    from survey.registry import installed

    with app.app_context():
        checklist = installed()["ktr@1"]
    folder = tmp_path / "bundles"
    folder.mkdir()
    return ValidBundle.for_checklist(
        folder, checklist, dump_checklist_yaml(checklist), device_id=enrolled.device_id, hub_id=enrolled.hub_id,
        key=enrolled.key, facility_id=facility, auditor=auditor, photo=make_jpeg(),
        max_photo_bytes=app.config["MAX_CONTENT_LENGTH"])


def photo_root(app) -> Path:
    return Path(app.config["DATA_DIR"]) / "photos"


def hub_import(app, data: bytes, return_path: Path):
    """`flask sync import` on the hub: one transaction; (ack, return manifest)."""
    with app.app_context(), write_transaction() as session:
        return service.import_push_bundle(session, data, PhotoStore(photo_root(app)),
                                          app.config["MAX_CONTENT_LENGTH"], return_path)


def device_import(app, data: bytes):
    """`flask sync import` on a device: a return bundle, one transaction."""
    with app.app_context(), write_transaction() as session:
        return service.import_return_bundle(session, data, PhotoStore(photo_root(app)), app.config["MAX_CONTENT_LENGTH"])


def state(app) -> dict:
    with app.app_context():
        return snapshot(db.session)


def count(app, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


class HubEnv:
    """The hub (and, made on first use, a device enrolled with it) that corpus cases act on."""

    def __init__(self, hub, tmp_path: Path, enrolled: Enrolled):
        self.hub, self.tmp_path, self.enrolled = hub, tmp_path, enrolled
        self.device_app = None
        self.returns = 0

    def revoke_device(self) -> None:
        with self.hub.app_context(), write_transaction() as session:
            service.revoke(session, session.get(Device, uuid.UUID(self.enrolled.device_id)))

    def hub_import(self, data: bytes) -> bytes:
        self.returns += 1
        out = self.tmp_path / f"return-{self.returns}.zip"
        hub_import(self.hub, data, out)
        return out.read_bytes()

    def device(self):
        """Tablet-2: a field app in its own folder, enrolled with the hub, which has published its state."""
        if self.device_app is None:
            with self.hub.app_context(), write_transaction() as session:
                publish.publish_state(session)
            app = create_app({"INSTANCE_PATH": str(self.tmp_path / "device"), "ROLE": "field", "TESTING": True})
            with app.app_context():
                upgrade()
                with write_transaction() as session:
                    me = service.ensure_self_device(session, "field")
                    me_id = str(me.id)
            answer = enroll_device(self.hub, "tablet-2", ["36.73.01"], me_id)
            with app.app_context(), write_transaction() as session:
                service.save_enrollment(session, "http://hub.invalid", answer)
            self.device_app = app
        return self.device_app

    def device_export(self) -> bytes:
        out = self.tmp_path / f"device-{uuid.uuid4().hex[:8]}.zip"
        with self.device().app_context(), write_transaction() as session:
            service.export_bundle(session, out, PhotoStore(photo_root(self.device_app)))
        return out.read_bytes()

    def device_import(self, data: bytes) -> None:
        device_import(self.device(), data)

    def hub_changes_scope(self) -> None:
        from tests.conftest import make_facility

        make_facility(self.hub, name="Puskesmas Serang Kota", kind="puskesmas")

    def close(self) -> None:
        if self.device_app is not None:
            with self.device_app.app_context():
                db.engine.dispose()


@pytest.fixture
def env(app, tmp_path, enrolled):
    environment = HubEnv(app, tmp_path, enrolled)
    yield environment
    environment.close()


# --- the valid bundle ------------------------------------------------------------------------------


def test_valid_bundle_imports_and_creates_the_audit(app, valid, enrolled, tmp_path):
    ack, returned = hub_import(app, valid(), tmp_path / "return.zip")
    assert (ack.acked_seq, ack.applied, ack.duplicates, ack.waiting, ack.conflicts) == (2, 2, 0, 0, 0)
    with app.app_context():
        audit = db.session.get(Audit, uuid.UUID(valid.audit_id))
        assert (audit.status, audit.checklist_key, audit.score, audit.result) == ("submitted", "ktr@1", 1.0, "memenuhi")
        assert audit.sync_source == f"{enrolled.device_id}:2"
        assert str(audit.device_id) == enrolled.device_id
        answers = db.session.execute(select(Answer.item_id, Answer.value).where(Answer.audit_id == audit.id)).all()
        assert sorted(answers) == sorted((item, "ya") for item in valid.answer_items)
        links = db.session.execute(select(AnswerPhoto.item_id, AnswerPhoto.sha256)).all()
        assert links == [(valid.photo_item, valid.photo_sha)]
        assert db.session.get(Photo, valid.photo_sha).mime == "image/jpeg"
        assert db.session.execute(select(func.count()).select_from(GpsReading)).scalar_one() == 1
        assert db.session.get(ChecklistVersion, "ktr@1").sha256 == valid.checklist["sha256"]
        rows = db.session.execute(select(SyncChange.origin_seq, SyncChange.kind, SyncChange.applied, SyncChange.via_id)
                                  .where(SyncChange.origin_id == uuid.UUID(enrolled.device_id))).all()
        assert sorted(rows) == [(1, "checklist", True, uuid.UUID(enrolled.device_id)),
                                (2, "audit", True, uuid.UUID(enrolled.device_id))]
        assert db.session.get(Device, uuid.UUID(enrolled.device_id)).acked_seq == 2
    assert PhotoStore(photo_root(app)).verify(valid.photo_sha)
    assert returned["direction"] == "return" and returned["acked_seq"] == 2


def test_valid_bundle_twice_changes_nothing_the_second_time(app, valid, tmp_path):
    data = valid()
    hub_import(app, data, tmp_path / "return-1.zip")
    before, files = state(app), photo_files(photo_root(app))
    ack, returned = hub_import(app, data, tmp_path / "return-2.zip")
    assert (ack.acked_seq, ack.applied, ack.waiting, ack.conflicts) == (2, 0, 0, 0)
    assert returned["acked_seq"] == 2
    assert state(app) == before
    assert photo_files(photo_root(app)) == files
    assert count(app, Audit) == 1


def test_valid_bundle_twice_says_its_changes_are_already_here(app, valid, tmp_path):
    data = valid()
    hub_import(app, data, tmp_path / "return-1.zip")
    ack, _ = hub_import(app, data, tmp_path / "return-2.zip")
    assert (ack.applied, ack.duplicates) == (0, 2)


# --- the corpus ------------------------------------------------------------------------------------


def corpus_params() -> list:
    return [pytest.param(case.name, id=case.name) for case in CASES]


@pytest.fixture
def corpus(tmp_path, valid) -> dict:
    folder = tmp_path / "corpus"
    folder.mkdir()
    return {case.name: case for case in build_corpus(folder, valid)}


def refuse(app, env: HubEnv, case, tmp_path: Path):
    """Make the case's bytes, import them where the case says; (error, state before, state after, files)."""
    data = case.bytes_for(env)
    target = env.device() if case.target == "device" else app
    before, files_before = state(target), photo_files(photo_root(target))
    return_path = tmp_path / "refused.return.zip"
    with pytest.raises(AppError) as refused:
        if case.target == "device":
            device_import(target, data)
        else:
            hub_import(target, data, return_path)
    assert not return_path.exists()  # no return bundle for a refused one
    return refused.value, before, state(target), (files_before, photo_files(photo_root(target)))


@pytest.mark.parametrize("name", corpus_params())
def test_bad_bundle_is_refused_by_its_code_and_changes_nothing(app, env, corpus, name, tmp_path):
    case = corpus[name]
    error, before, after, _ = refuse(app, env, case, tmp_path)
    assert error.code == case.code, str(error)
    assert after == before


@pytest.mark.parametrize("name", corpus_params())
def test_bad_bundle_leaves_no_photo_files(app, env, corpus, name, tmp_path):
    case = corpus[name]
    _, _, _, (files_before, files_after) = refuse(app, env, case, tmp_path)
    assert files_after == files_before


def test_the_corpus_covers_every_code_of_the_docs():
    documented = {"bundle.unreadable", "bundle.bad_manifest", "bundle.schema_version", "bundle.unsafe_path",
                  "bundle.too_large", "bundle.member_too_large", "bundle.member_mismatch", "bundle.bad_signature",
                  "sync.unknown_device", "sync.revoked_device", "bundle.replay", "sync.bad_change",
                  "sync.unknown_checklist", "photo.hash_mismatch", "sync.photo_missing", "sync.seq_reused"}
    assert documented <= {case.code for case in CASES}
    assert len({case.name for case in CASES}) == len(CASES)



@pytest.mark.parametrize("bad_hlc", ["zzzzzzzzzzzzzzzz.zzzz", "9999999999999999.9999"])
def test_a_bundle_cannot_break_the_hub_clock(app, valid, tmp_path, bad_hlc):
    """Whether the bundle is refused or applied, the hub must still record its own changes afterwards."""
    from dataclasses import replace

    from tests.conftest import make_facility

    data = valid(entries=[(1, replace(valid.checklist_change(1), hlc=bad_hlc))])
    try:
        hub_import(app, data, tmp_path / "return.zip")
    except AppError:
        pass  # refusing it is fine
    make_facility(app, name="Puskesmas Serang Kota")
    make_facility(app, name="Posyandu Melati")
    with app.app_context():
        clocks = db.session.execute(select(SyncChange.hlc).where(SyncChange.kind == "facility")).scalars().all()
    assert all(len(value) == 21 for value in clocks)
