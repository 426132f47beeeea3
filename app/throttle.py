"""Throttling counts kept in the app's own database (`RATELIMIT_STORAGE_URI = "database://"`, the default).

Flask-Limiter's `memory://` counts per process: under gunicorn's several workers an address would get the
sign-in and enrollment limits once per worker, and a restart would forget them. Kept in the database, every
worker (and every app server in front of one database) counts the same attempts, with nothing else to run.
One row per limit key and window; an increment is one atomic upsert, so workers racing on one key never lose
a count. Fixed windows only (Flask-Limiter's default strategy).
"""

from __future__ import annotations

import hashlib
import time

from limits.storage import Storage
from sqlalchemy import Double, Integer, String, case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, reset_write_intent, set_write_intent
from app.extensions import db

# Expired windows are deleted now and then (one increment in PURGE_EVERY), not on every request.
PURGE_EVERY = 100


class ThrottleCount(Base):
    """Attempts counted under one limit key (e.g. failed enrollments from one address) until the window ends."""

    __tablename__ = "throttle_count"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Double, index=True)  # Unix time the window closes


def stored_key(key: str) -> str:
    """The key as stored: as given when it is short, printable text, else its SHA-256. A limit key holds what a
    client typed (the username of a sign-in), and PostgreSQL's text refuses a NUL."""
    if len(key) <= 200 and key.isprintable():
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class DatabaseStorage(Storage):
    """A `limits` storage in the app's database, on its own short transactions (never the request's)."""

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._increments = 0

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def _run(self, work):
        """Run `work(connection)` in a transaction of its own. SQLite: a plain BEGIN (the request's write
        intent is not ours to take): a read needs no lock, and an upsert takes it for its one statement."""
        token = set_write_intent(False)
        try:
            with db.engine.begin() as connection:  # the current app's database
                return work(connection)
        finally:
            reset_write_intent(token)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        key, now = stored_key(key), time.time()
        table = ThrottleCount.__table__
        self._increments += 1
        purge = self._increments % PURGE_EVERY == 0

        def work(connection) -> int:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            live = table.c.expires_at > now
            stmt = dialect.insert(table).values(key=key, hits=amount, expires_at=now + expiry)
            stmt = stmt.on_conflict_do_update(index_elements=[table.c.key], set_={
                "hits": case((live, table.c.hits + amount), else_=amount),
                "expires_at": case((live, table.c.expires_at), else_=now + expiry),
            }).returning(table.c.hits)
            hits = connection.execute(stmt).scalar_one()
            if purge:
                connection.execute(delete(table).where(table.c.expires_at <= now))
            return hits

        return self._run(work)

    def get(self, key: str) -> int:
        table = ThrottleCount.__table__
        stmt = select(table.c.hits).where(table.c.key == stored_key(key), table.c.expires_at > time.time())
        return self._run(lambda connection: connection.execute(stmt).scalar_one_or_none() or 0)

    def get_expiry(self, key: str) -> float:
        now = time.time()
        table = ThrottleCount.__table__
        stmt = select(table.c.expires_at).where(table.c.key == stored_key(key), table.c.expires_at > now)
        return self._run(lambda connection: connection.execute(stmt).scalar_one_or_none() or now)

    def check(self) -> bool:
        try:
            return self._run(lambda connection: connection.execute(text("SELECT 1")).scalar_one() == 1)
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        return self._run(lambda connection: connection.execute(delete(ThrottleCount.__table__)).rowcount)

    def clear(self, key: str) -> None:
        table = ThrottleCount.__table__
        self._run(lambda connection: connection.execute(delete(table).where(table.c.key == stored_key(key))))
