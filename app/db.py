"""Database foundations: the declarative base, portable column types and the connection setup."""

from __future__ import annotations

import contextvars
import uuid
from datetime import datetime, timezone

from sqlalchemy import DateTime, Engine, MetaData, event
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic's batch mode can alter SQLite tables and migrations diff cleanly.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on SQLite (which stores naive values) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


def new_id() -> uuid.UUID:
    """A new record id, made where the record is created (device or hub)."""
    return uuid.uuid4()


# Set while a write transaction is wanted, so that SQLite takes the write lock at BEGIN
# (BEGIN IMMEDIATE) instead of failing with "database is locked" half-way through a request.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


def set_write_intent(value: bool) -> contextvars.Token:
    """Mark the current context as about to write."""
    return _write_intent.set(value)


def write_intent() -> bool:
    """Whether the current context is about to write (its next BEGIN takes the write lock on SQLite)."""
    return _write_intent.get()


def reset_write_intent(token: contextvars.Token) -> None:
    """Undo `set_write_intent`."""
    _write_intent.reset(token)


def configure_sqlite(busy_timeout_ms: int, cache_mb: int = 64) -> None:
    """Register the one place where every SQLite connection is set up."""
    configure_sqlite.busy_timeout_ms = busy_timeout_ms
    configure_sqlite.cache_mb = cache_mb
    if getattr(configure_sqlite, "_done", False):
        return
    configure_sqlite._done = True

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        if not _is_sqlite(dbapi_connection):
            return
        # pysqlite's own implicit transactions are switched off; SQLAlchemy's begin event below
        # issues BEGIN itself, so reads and writes are in real transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(configure_sqlite.busy_timeout_ms)}")
        # FULL: a committed answer survives a power cut (a flat tablet battery), not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        # SQLite's default page cache is 2 MB: a hub's merge writing 600,000 answers into an index of
        # millions spilled dirty pages to the WAL mid-transaction and wrote many twice (bench/sync.py: the
        # import took 1.7x as long). Pages are taken as needed, so an idle connection holds little.
        cursor.execute(f"PRAGMA cache_size={-1024 * int(configure_sqlite.cache_mb)}")
        cursor.close()

    @event.listens_for(Engine, "begin")
    def _on_begin(conn):
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")
