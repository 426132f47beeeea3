"""Backing up and restoring one installation (hub or field device): the database, its files, proven equal.

SQLite is copied with its online backup API (a consistent copy while the app keeps serving); PostgreSQL
with `pg_dump` inside the snapshot that the row digests are read in, so manifest and dump agree. A
restore proves every member of the file before it changes anything; then, in one step that either
happens whole or not at all, it brings the database back, compares every table with the manifest and
moves the node's change numbering past whatever it gave out after the backup (sync.outbox.skip_ahead),
so its devices sync on: on SQLite all that happens on the copy before the backup API writes it into the
live file, on PostgreSQL in one transaction. The files follow, and the schema is upgraded if older.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine, MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import faults
from app.backup import archive
from app.backup.problems import BACKUP_PROBLEMS
from sync.outbox import skip_ahead

# Tables whose rows mean an installation holds someone's work; a restore will not silently replace them.
DATA_TABLES = ("user_account", "facility", "audit", "sync_change", "sync_peer")


@dataclass
class Summary:
    """What a backup or restore covered."""

    path: Path
    tables: int = 0
    rows: int = 0
    files: int = 0
    bytes: int = 0
    missing_photos: list[str] = field(default_factory=list)
    next_numbers: dict[str, int] = field(default_factory=dict)


def backup_name(role: str, now: datetime) -> str:
    """pantau-kla-hub-20261206-1830.zip"""
    return f"pantau-kla-{role}-{now:%Y%m%d-%H%M%S}.zip"


def make_backup(engine: Engine, metadata: MetaData, data_dir: Path, dest: Path, *, role: str, now: datetime) -> Summary:
    """Write a backup of the database and the data folder's files to `dest` (a new file)."""
    if dest.exists():
        raise BACKUP_PROBLEMS("backup.exists", path=str(dest))
    dialect = engine.dialect.name
    writer = archive.Writer(dest)
    try:
        with tempfile.TemporaryDirectory(prefix=".backup-", dir=data_dir) as scratch:
            copy = Path(scratch) / "database"
            if dialect == "postgresql":
                tables, revision, photos = _dump_postgres(engine, metadata, copy)
            else:
                tables, revision, photos = _copy_sqlite(engine, metadata, copy)
            writer.add(archive.DATABASE_MEMBERS[dialect], copy, compress=True)
        faults.point("backup: database saved")
        for name, path in archive.data_files(data_dir):
            writer.add(name, path, compress=not name.startswith(("files/photos/", "files/evidence/")))
        faults.point("backup: files saved")
        held = {Path(n).stem for n in writer.members if n.startswith("files/photos/original/")}
        missing = sorted(photos - held)
        writer.finish({"format": archive.FORMAT, "version": archive.VERSION, "created_at": now.isoformat(),
                       "role": role, "database": dialect, "revision": revision, "tables": tables,
                       "missing_photos": missing})
    except BaseException:
        writer.abandon()
        raise
    files = [m for n, m in writer.members.items() if n.startswith("files/")]
    return Summary(dest, len(tables), sum(t["rows"] for t in tables.values()), len(files),
                   dest.stat().st_size, missing)


def _copy_sqlite(engine: Engine, metadata: MetaData, copy: Path) -> tuple[dict, str | None, set[str]]:
    """SQLite's online backup into `copy`; the digests, revision and photo hashes read from the copy."""
    source = sqlite3.connect(engine.url.database)
    target = sqlite3.connect(copy)
    try:
        with target:
            source.backup(target)
    finally:
        source.close()
        target.close()
    copied = create_engine(f"sqlite:///{copy}")
    try:
        with copied.connect() as connection:
            return _read_state(connection, metadata)
    finally:
        copied.dispose()


def _dump_postgres(engine: Engine, metadata: MetaData, copy: Path) -> tuple[dict, str | None, set[str]]:
    """pg_dump in the snapshot of a repeatable-read transaction, whose digests describe exactly that dump."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            _run_tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                       f"--file={copy}"], engine)
            return _read_state(connection, metadata)


def _read_state(connection, metadata: MetaData) -> tuple[dict, str | None, set[str]]:
    tables = archive.table_digests(connection, metadata)
    revision = _revision(connection)
    photos = set()
    if "photo" in tables:
        photos = set(connection.execute(select(metadata.tables["photo"].c.sha256)).scalars())
    return tables, revision, photos


def _revision(connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@dataclass
class Target:
    """Where a restore goes, and what this code can do with it."""

    engine: Engine
    metadata: MetaData
    data_dir: Path
    role: str
    known_revisions: set[str]
    upgrade: Callable[[], None]  # brings the restored schema to this code's newest


def check_backup(source: Path, metadata: MetaData) -> dict:
    """Prove every member of a backup against its manifest (and, for SQLite, every table); its manifest."""
    reader = archive.Reader(source)
    try:
        with tempfile.TemporaryDirectory(prefix=".restore-check-") as scratch:
            for name in reader.manifest["members"]:
                reader.extract(name, Path(scratch) / "member")
                if name == archive.DATABASE_MEMBERS["sqlite"]:
                    _verify(reader.manifest, Path(scratch) / "member", metadata)
    finally:
        reader.close()
    return reader.manifest


def restore_backup(source: Path, target: Target, *, replace: bool = False) -> Summary:
    """Bring an installation back to the backup's state, verified row by row and file by file.

    Nothing of the installation changes until every member is proven. The files move in first, then the
    database is replaced, checked and renumbered in one step; when that step fails, the files it brought are
    taken out again. A process killed in between leaves the old database with some of the backup's files
    beside it (content-addressed or the same: nothing refers to them), and the restore can simply run again.
    """
    reader = archive.Reader(source)
    try:
        manifest = reader.manifest
        _check_fits(manifest, target, replace)
        free = shutil.disk_usage(target.data_dir).free
        if free < 2 * reader.unpacked_size():  # the scratch copies, then the restored database beside them
            raise BACKUP_PROBLEMS("backup.no_space", need=2 * reader.unpacked_size() // 10 ** 6, free=free // 10 ** 6)
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=target.data_dir) as scratch:
            copy, staged = Path(scratch) / "database", Path(scratch) / "files"
            reader.extract(archive.DATABASE_MEMBERS[manifest["database"]], copy)
            for name in reader.files():
                reader.extract(name, staged / name.removeprefix("files/"))
            if manifest["database"] == "sqlite":
                numbers = _prepare_sqlite(copy, manifest, target.metadata)  # a copy that fails its check changes nothing
            placed = _place_files(reader.files(), staged, target.data_dir)
            faults.point("restore: files placed")
            target.engine.dispose()  # no pooled connection may hold the old database open
            try:
                if manifest["database"] == "postgresql":
                    numbers = _restore_postgres(target.engine, copy, manifest, target.metadata)
                else:
                    _replace_sqlite(target.engine, copy)
            except BaseException:
                for path in placed:
                    path.unlink(missing_ok=True)
                raise
            faults.point("restore: database replaced")
        target.upgrade()
    finally:
        reader.close()
    rows = sum(t["rows"] or 0 for t in manifest["tables"].values())
    return Summary(source, len(manifest["tables"]), rows, len(reader.files()), source.stat().st_size,
                   list(manifest.get("missing_photos") or []), numbers)


def _check_fits(manifest: dict, target: Target, replace: bool) -> None:
    """Refuse a backup of another kind of installation, of a newer app, or one that would replace data unasked."""
    dialect = target.engine.dialect.name
    if manifest["database"] != dialect:
        raise BACKUP_PROBLEMS("backup.wrong_database", theirs=manifest["database"], ours=dialect)
    if manifest["role"] != target.role:
        raise BACKUP_PROBLEMS("backup.wrong_role", theirs=manifest["role"], ours=target.role)
    if manifest["revision"] is not None and manifest["revision"] not in target.known_revisions:
        raise BACKUP_PROBLEMS("backup.newer_schema", revision=manifest["revision"])
    held = data_held(target.engine)
    if held and not replace:
        raise BACKUP_PROBLEMS("backup.not_empty", what=", ".join(held))


def data_held(engine: Engine) -> list[str]:
    """The data tables that hold rows."""
    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        return [name for name in DATA_TABLES
                if name in present and connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()]


def _verify(manifest: dict, connection_or_file, metadata: MetaData) -> None:
    """Every table of the manifest read back equal, or the restore stops."""
    if isinstance(connection_or_file, Path):
        engine = create_engine(f"sqlite:///{connection_or_file}")
        try:
            with engine.connect() as connection:
                return _verify(manifest, connection, metadata)
        finally:
            engine.dispose()
    found = archive.table_digests(connection_or_file, metadata,
                                  {n: t["columns"] for n, t in manifest["tables"].items()})
    differs = archive.compare_digests(manifest["tables"], found)
    if differs:
        raise BACKUP_PROBLEMS("backup.verify_failed", table=differs[0], saved=differs[1], found=differs[2])


def _renumber(connection) -> dict[str, int]:
    """The node's next change numbers moved past the backup, in the restore's own transaction."""
    # Joined to the connection's transaction: this commit() only flushes; the restore's own commit decides.
    with Session(bind=connection) as session:
        numbers = skip_ahead(session)
        session.commit()
    return numbers


def _place_files(names: list[str], staged: Path, data_dir: Path) -> list[Path]:
    """Move the backup's files into the data folder; the paths that were not there before."""
    placed = []
    for name in names:  # content-addressed or whole files: one already there is the same or older
        final = data_dir / name.removeprefix("files/")
        final.parent.mkdir(parents=True, exist_ok=True)
        if not final.exists():
            placed.append(final)
        os.replace(staged / name.removeprefix("files/"), final)
    return placed


def _prepare_sqlite(copy: Path, manifest: dict, metadata: MetaData) -> dict[str, int]:
    """Verify and renumber the restored copy before it goes anywhere near the live file; its next numbers."""
    copied = create_engine(f"sqlite:///{copy}")
    try:
        with copied.begin() as connection:
            _verify(manifest, connection, metadata)
            return _renumber(connection)
    finally:
        copied.dispose()


def _replace_sqlite(engine: Engine, copy: Path) -> None:
    """SQLite's backup API from the prepared copy into the live file: whole, or not at all."""
    Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    source, live = sqlite3.connect(copy), sqlite3.connect(engine.url.database, timeout=30)
    try:
        source.backup(live)
    finally:
        source.close()
        live.close()


def _restore_postgres(engine: Engine, dump: Path, manifest: dict, metadata: MetaData) -> dict[str, int]:
    """Empty the schema, load the dump, verify every table and renumber, in one transaction: the old data
    or the verified new data, never half."""
    script = _run_tool(["pg_restore", "--no-owner", "--no-privileges", "--file=-", str(dump)], engine, dbname=False)
    with engine.connect() as connection:
        with connection.begin():
            cursor = connection.connection.driver_connection.cursor()
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            _load_sql(cursor, script)
            faults.point("restore: dump loaded")  # killed here, PostgreSQL rolls the whole load back
            cursor.execute("RESET search_path")  # the script empties it for the session
            _verify(manifest, connection, metadata)
            numbers = _renumber(connection)
    engine.dispose()  # the script's other session settings leave with its connection
    return numbers


_COPY = re.compile(rb"^COPY .+ FROM stdin;$")


def _load_sql(cursor, script: bytes) -> None:
    """Run pg_restore's SQL output on one connection: statements as they come, COPY blocks through COPY."""
    statements: list[bytes] = []
    lines = iter(script.split(b"\n"))
    for line in lines:
        if line.startswith(b"\\"):  # psql's own commands (\restrict since PostgreSQL 15.14): not SQL
            continue
        if not _COPY.match(line):
            statements.append(line)
            continue
        if b"".join(statements).strip():
            cursor.execute(b"\n".join(statements))
        statements = []
        with cursor.copy(line[:-1]) as copy:  # the data lines up to "\\."
            for data in lines:
                if data == b"\\.":
                    break
                copy.write(data + b"\n")
    if b"".join(statements).strip():
        cursor.execute(b"\n".join(statements))


def _run_tool(argv: list[str], engine: Engine, *, dbname: bool = True) -> bytes:
    """Run a PostgreSQL client tool on this database (the password through the environment, never argv)."""
    url = make_url(engine.url)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    if dbname:
        argv = [*argv, f"--dbname={url.set(drivername='postgresql', password=None).render_as_string(hide_password=False)}"]
    try:
        done = subprocess.run(argv, capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise BACKUP_PROBLEMS("backup.tool_missing", tool=argv[0]) from None
    if done.returncode != 0:
        raise BACKUP_PROBLEMS("backup.tool_failed", tool=argv[0], detail=done.stderr.decode(errors="replace")[-500:])
    return done.stdout
