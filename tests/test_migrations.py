"""Migrations: a device with data at the first schema upgrades in place and loses nothing."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests.support import postgres_url, require

FIRST = "0001_core"


def fill_first_schema(connection) -> dict[str, int]:
    """Rows in every table of the first migration, written with plain SQL as that schema had them."""
    device = uuid.uuid4().hex
    user = uuid.uuid4().hex
    facility = uuid.uuid4().hex
    now = "2026-01-05 08:00:00"
    statements = [
        ("INSERT INTO wilayah (code, level, name, updated_at) VALUES ('36', 'provinsi', 'Banten', :now)", {}),
        ("INSERT INTO wilayah (code, level, name, kind, parent_code, updated_at) "
         "VALUES ('36.73', 'kabkota', 'Kota Serang', 'kota', '36', :now)", {}),
        ("INSERT INTO wilayah (code, level, name, parent_code, updated_at) "
         "VALUES ('36.73.01', 'kecamatan', 'Serang', '36.73', :now)", {}),
        ("INSERT INTO device (id, name, role, is_self, created_at) VALUES (:device, 'tablet-1', 'field', true, :now)", {}),
        ("INSERT INTO user_account (id, username, full_name, role, password_hash, active, is_demo, created_at) "
         "VALUES (:user, 'siti', 'Siti', 'auditor', 'x', true, false, :now)", {}),
        ("INSERT INTO user_kecamatan (user_id, kecamatan_code) VALUES (:user, '36.73.01')", {}),
        ("INSERT INTO facility (id, kind, name, official_id, lat, lon, kecamatan_code, status, verified, created_at, "
         "updated_at, created_by, origin_device_id) VALUES (:facility, 'sekolah', 'SD Negeri 1 Serang', '20600001', "
         "-6.12, 106.15, '36.73.01', 'active', false, :now, :now, :user, :device)", {}),
        ("INSERT INTO audit_log (id, at, user_id, device_id, action, entity, entity_id, changes) "
         "VALUES (:log, :now, :user, :device, 'create', 'facility', :facility, '{}')", {}),
    ]
    ids = {"device": device, "user": user, "facility": facility, "log": uuid.uuid4().hex, "now": now}
    if connection.dialect.name == "postgresql":  # native uuid columns take the dashed form
        ids = {k: (str(uuid.UUID(v)) if k != "now" else v) for k, v in ids.items()}
    for sql, _ in statements:
        connection.execute(text(sql), ids)
    return count_rows(connection)


def count_rows(connection) -> dict[str, int]:
    tables = ["wilayah", "device", "user_account", "user_kecamatan", "facility", "audit_log"]
    return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def check_upgrade_keeps_data(app) -> None:
    with app.app_context():
        upgrade(revision=FIRST)
        with db.engine.begin() as connection:
            before = fill_first_schema(connection)
        upgrade()
        with db.engine.connect() as connection:
            assert count_rows(connection) == before
            row = connection.execute(text("SELECT name, verified, official_id FROM facility")).one()
            assert tuple(row) == ("SD Negeri 1 Serang", False, "20600001")
            assert connection.execute(text("SELECT kecamatan_code FROM user_kecamatan")).scalar_one() == "36.73.01"


def test_upgrade_from_first_migration_keeps_every_row(tmp_path):
    check_upgrade_keeps_data(create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True}))


def test_models_and_migrations_agree(app):
    """A model change without a migration fails here, before it reaches a device."""
    with app.app_context(), db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_every_migration_downgrades_and_upgrades_again(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()


@pytest.mark.postgres
def test_upgrade_keeps_data_on_postgresql(postgres_database, tmp_path):
    check_upgrade_keeps_data(create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True,
                                         "DATABASE_URL": postgres_database}))


@pytest.fixture
def postgres_database():
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    admin_url = postgres_url()
    require(admin_url is not None, "PostgreSQL is not answering on 127.0.0.1:5432")
    yield from make_postgres_database(admin_url)


def make_postgres_database(admin_url: str, template: str | None = None):
    import psycopg

    name = f"pantau_test_{uuid.uuid4().hex[:12]}"
    plain = admin_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
