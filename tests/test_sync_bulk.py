"""The merge's bulk writes (sync.bulk): PostgreSQL's COPY, whose text the app makes itself, and SQLite's
executemany write the same rows, awkward values included, and importing the same bundle again adds nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli_support import write_transaction
from bench import sync as bench_sync
from survey.audits.models import Answer, Audit, GpsReading
from survey.photos import PhotoStore
from sync import bundle, documents, service
from sync.models import SyncChange
from tests.support import postgres_url, require
from tests.test_migrations import make_postgres_database

ANSWERS = 12
# Every kind of answer value, and text COPY must escape (tab, newline, carriage return, backslash, \N as text).
AWKWARD = ["tab\there", "line\nbreak", "carriage\rreturn", "back\\slash", "\\N", "", "Jalan Ā 😀 «kutip»", None,
           True, False, 0, -7, 2.5, 1e15, ["baik", "buruk"], [], {"lat": -6.11, "lon": 106.16, "accuracy": 4.5}]
NOTES = [None, "catatan\tdengan\ttab", "baris\r\nbaru", "\\", "<b>%s</b>", "N"]


def awkward_entries(device_id: str, facilities: list[str], count: int) -> list:
    """Audits whose answers, notes and readings hold every awkward value, each audit differently."""
    from sync.changes import Change

    out = []
    for seq, change in bench_sync.entries(device_id, facilities, count, ANSWERS):
        doc = dict(change.payload)
        doc["answers"] = {item: {"value": AWKWARD[(seq * 3 + n) % len(AWKWARD)], "note": NOTES[(seq + n) % len(NOTES)]}
                          for n, item in enumerate(doc["answers"])}
        doc["readings"] = [{"id": str(uuid.uuid4()), "lat": -6.11, "lon": 106.16 + seq / 1e4, "accuracy_m": None if seq % 2 else 8.0,
                            "source": "gps", "taken_at": doc["submitted_at"],
                            "warnings": ["gps.poor_accuracy"] if seq % 3 else []}]
        doc["position_warnings"] = ["gps.far_from_facility"] if seq % 2 else []
        out.append((seq, Change(change.origin_id, change.origin_seq, "audit", change.entity_id, change.hlc, doc,
                                change.scope)))
    return out


def import_on_a_hub(folder: Path, database_url: str | None) -> dict:
    """A hub (bench.sync's) imports one bundle of awkward audits twice; what it holds after each import."""
    app, facilities, device_id, credentials = bench_sync.prepare_hub(folder, database_url, ANSWERS)
    entries = awkward_entries(device_id, facilities, 40)
    path = folder / "bundle.zip"
    bundle.write(path, device_id=device_id, hub_id=credentials["hub_id"], direction="push",
                 key=credentials["device_key"], entries=entries, photos={}, cursor=0,
                 created_at="2026-11-22T00:00:00+00:00", extra={"after": 0, "up_to": entries[-1][0]})
    held = []
    for n in range(2):
        with app.app_context(), write_transaction() as session:
            service.import_push_bundle(session, path.read_bytes(), PhotoStore(folder / "photos"),
                                       25 * 1024 * 1024, folder / f"return-{n}.zip")
        with app.app_context(), write_transaction() as session:
            held.append(holdings(session, entries))
    return {"sent": {c.entity_id: c.payload for _, c in entries}, "first": held[0], "again": held[1]}


def holdings(session, entries) -> dict:
    """Each audit as its document read back from the rows, the rows per table, and the change log's payloads."""
    audits = {str(a.id): documents.audit_document(session, a) for a in session.execute(select(Audit)).scalars()}
    counts = {model.__tablename__: session.execute(select(func.count()).select_from(model)).scalar_one()
              for model in (Audit, Answer, GpsReading)}
    log = {row.entity_id: (row.payload, row.sha256, row.applied) for row in session.execute(
        select(SyncChange).where(SyncChange.kind == "audit")).scalars()}
    return {"audits": audits, "counts": counts, "log": log}


def comparable(held: dict, sent: dict) -> dict:
    """What a hub holds without the ids each hub makes its own (audit, device, facility, reading), in the order sent."""
    order = {audit_id: n for n, audit_id in enumerate(sent)}
    return {order[a]: {**doc, "id": None, "device_id": None, "facility_id": None,
                       "readings": [{**r, "id": None} for r in doc["readings"]]}
            for a, doc in held["audits"].items()}


@pytest.fixture(scope="module")
def on_sqlite(tmp_path_factory):
    return import_on_a_hub(tmp_path_factory.mktemp("sqlite-hub"), None)


@pytest.fixture(scope="module")
def on_postgres(tmp_path_factory):
    admin_url = postgres_url()
    require(admin_url is not None, "PostgreSQL is not answering on 127.0.0.1:5432")
    databases = make_postgres_database(admin_url)
    yield import_on_a_hub(tmp_path_factory.mktemp("postgres-hub"), next(databases))
    databases.close()


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_every_awkward_value_reads_back_as_sent(database, request):
    result = request.getfixturevalue("on_sqlite" if database == "sqlite" else "on_postgres")
    first = result["first"]
    assert first["counts"] == {"audit": 40, "answer": 40 * ANSWERS, "gps_reading": 40}
    for audit_id, doc in result["sent"].items():
        assert first["audits"][audit_id] == doc
        payload, sha, applied = first["log"][audit_id]
        assert payload == doc and applied


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_importing_the_same_bundle_again_adds_nothing(database, request):
    result = request.getfixturevalue("on_sqlite" if database == "sqlite" else "on_postgres")
    assert result["again"] == result["first"]


@pytest.mark.postgres
def test_copy_on_postgresql_writes_what_executemany_writes_on_sqlite(on_sqlite, on_postgres):
    assert on_postgres["first"]["counts"] == on_sqlite["first"]["counts"]
    assert comparable(on_postgres["first"], on_postgres["sent"]) == comparable(on_sqlite["first"], on_sqlite["sent"])
