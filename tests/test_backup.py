"""`flask backup` / `flask restore`: equal row by row and file by file on both databases; bad files change nothing."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import uuid
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from app.backup import archive
from app.db import Base
from sync.outbox import RESTORE_GAP
from tests.support import ROOT, flask_here, fresh_postgres_database

pytestmark = pytest.mark.slow
HUB_ENV = {"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": "hub-secret-for-tests-" + "x" * 32, "PANTAU_SECURE_COOKIES": "0"}


def canonical(value):
    """A column value as text that reads the same from SQLite and PostgreSQL."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal, bytes)):
        return str(value)
    return value


class Install:
    """One installation's folder and settings, driven through `flask` as an admin would."""

    def __init__(self, folder: Path, database_url: str | None = None, role: str = "hub"):
        self.folder = folder
        self.env = {"PANTAU_INSTANCE_PATH": str(folder), "FLASK_APP": "app", "PANTAU_DEMO": "1",
                    **(HUB_ENV if role == "hub" else {"PANTAU_ROLE": "field"})}
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.url = database_url or f"sqlite:///{folder / 'pantau.db'}"

    def flask(self, *args: str, ok: bool = True, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        """`flask ARGS` here; in this test process unless it is to die at a fault point (then a process)."""
        import os

        environ = {**os.environ, **self.env, **(env or {})}
        if "PANTAU_FAULT_POINT" in environ:
            done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=environ,
                                  capture_output=True, text=True, input=stdin)
        else:
            done = flask_here(environ, *args, stdin=stdin)
        if ok:
            assert done.returncode == 0, done.stderr + done.stdout
        return done

    def rows(self, skip: tuple[str, ...] = ()) -> dict[str, list]:
        """Every table's rows, canonical and sorted: what 'equal row by row' means."""
        import app.models  # noqa: F401 (every table)
        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.connect() as connection:
                return {name: sorted(json.dumps([canonical(v) for v in row], sort_keys=True, default=str)
                                     for row in connection.execute(select(table)))
                        for name, table in Base.metadata.tables.items() if name not in skip}
        finally:
            engine.dispose()

    def files(self) -> dict[str, str]:
        return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in archive.data_files(self.folder)}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_urls(request):
    """Two empty databases of one kind (None: SQLite in each installation's folder)."""
    if request.param == "sqlite":
        yield None, None
        return
    first, second = fresh_postgres_database(migrated=False), fresh_postgres_database(migrated=False)
    try:
        yield next(first), next(second)
    finally:
        first.close()
        second.close()


def demo_hub(folder: Path, database_url: str | None) -> Install:
    """A hub with the demo: accounts, facilities, approved audits with photos, indicators."""
    hub = Install(folder, database_url)
    hub.flask("init")
    hub.flask("indicators", "demo", "--if-missing")
    return hub


def test_a_restored_hub_equals_its_backup_row_by_row_and_file_by_file(tmp_path, database_urls):
    source = demo_hub(tmp_path / "hub", database_urls[0])
    source.env["PGTZ"] = "UTC"
    made = source.flask("backup", str(tmp_path))
    backup = next(tmp_path.glob("pantau-kla-hub-*.zip"))
    assert "backup written" in made.stdout and source.files()  # photos among them

    target = Install(tmp_path / "new-hub", database_urls[1])
    target.env["PGTZ"] = "Asia/Jakarta"  # another server's zone: the digests must not care
    done = target.flask("restore", str(backup))
    assert "each equal to the backup" in done.stdout

    before, after = source.rows(skip=("sync_state",)), target.rows(skip=("sync_state",))
    assert before.keys() == after.keys() and all(before[t] == after[t] for t in before)
    assert sum(len(r) for r in before.values()) > 500 and before["audit"] and before["photo"]
    assert target.files() == source.files()
    # The one difference: the node numbers its next changes past anything it gave out after the backup.
    before_state, after_state = (dict(json.loads(r) for r in side.rows()["sync_state"]) for side in (source, target))
    assert int(after_state["origin_seq"]) == int(before_state["origin_seq"]) + RESTORE_GAP
    with zipfile.ZipFile(backup) as archive_file:
        assert json.loads(archive_file.read("manifest.json"))["database"] == ("postgresql" if database_urls[0] else "sqlite")


def tamper(backup: Path, out: Path, *, change: str | None = None, add: str | None = None, drop: str | None = None,
           manifest: dict | None = None, list_it: bool = False, member: dict | None = None,
           table: dict | None = None) -> Path:
    """A copy of a backup with one member altered, added (and listed, when asked) or dropped, or its manifest
    edited: top-level keys, the first photo's entry (`member`) or the audit table's entry (`table`)."""
    with zipfile.ZipFile(backup) as source, zipfile.ZipFile(out, "w") as copy:
        members = json.loads(source.read("manifest.json"))
        for info in source.infolist():
            if info.filename in ("manifest.json", drop):
                continue
            data = source.read(info)
            if info.filename == change:
                data = bytes([data[0] ^ 1]) + data[1:]
            copy.writestr(info.filename, data)
        if add:
            copy.writestr(add, b"extra")
            if list_it:
                members["members"][add] = {"size": 5, "sha256": hashlib.sha256(b"extra").hexdigest()}
        if member:
            photo = next(n for n in members["members"] if n.startswith("files/photos/original/"))
            members["members"][photo].update(member)
        if table:
            members["tables"]["audit"].update(table)
        copy.writestr("manifest.json", json.dumps({**members, **(manifest or {})}))
    return out


@pytest.fixture(scope="module")
def demo_backup(tmp_path_factory):
    """A demo hub (SQLite) and its backup, made once for the refusal cases."""
    folder = tmp_path_factory.mktemp("backup-source")
    hub = demo_hub(folder / "hub", None)
    hub.flask("backup", str(folder / "hub.zip"))
    return hub, folder / "hub.zip"


def first_photo(backup: Path) -> str:
    with zipfile.ZipFile(backup) as source:
        return next(n for n in source.namelist() if n.startswith("files/photos/original/"))


CASES = [  # (what is wrong, how to make it, the code refused with)
    ("plain text", lambda b, o: (o.write_text("not a backup"), o)[1], "backup.not_a_backup"),
    ("a sync bundle", lambda b, o: tamper(b, o, manifest={"format": "pantau-kla-bundle"}), "backup.not_a_backup"),
    ("format version 9", lambda b, o: tamper(b, o, manifest={"version": 9}), "backup.format"),
    ("a photo altered", lambda b, o: tamper(b, o, change=first_photo(b)), "backup.damaged"),
    ("the database altered", lambda b, o: tamper(b, o, change="database/pantau.sqlite"), "backup.damaged"),
    ("a member too many", lambda b, o: tamper(b, o, add="files/photos/extra.jpg"), "backup.unexpected"),
    ("a member missing", lambda b, o: tamper(b, o, drop=first_photo(b)), "backup.incomplete"),
    ("an escaping name", lambda b, o: tamper(b, o, add="files/../../etc/passwd"), "backup.unexpected"),
    ("of PostgreSQL", lambda b, o: tamper(b, o, manifest={"database": "postgresql"}), "backup.wrong_database"),
    ("of a field device", lambda b, o: tamper(b, o, manifest={"role": "field"}), "backup.wrong_role"),
    ("from a newer app", lambda b, o: tamper(b, o, manifest={"revision": "0999_future"}), "backup.newer_schema"),
    # Only the database copy and files of the data folders: never settings, the session key or pantau.db.
    ("a settings file", lambda b, o: tamper(b, o, add="files/settings.toml", list_it=True), "backup.unexpected"),
    ("a session key", lambda b, o: tamper(b, o, add="files/secret_key", list_it=True), "backup.unexpected"),
    ("a size that is text", lambda b, o: tamper(b, o, member={"size": "big"}), "backup.not_a_backup"),
    ("a table without columns", lambda b, o: tamper(b, o, table={"columns": []}), "backup.not_a_backup"),
    ("a column that is SQL", lambda b, o: tamper(b, o, table={"columns": ['id" FROM x; --']}), "backup.not_a_backup"),
    # Whole and well-formed, but its rows are not what the manifest says: found after loading, rolled back.
    ("rows unlike the manifest", lambda b, o: tamper(b, o, table={"digest": "0" * 64}), "backup.verify_failed"),
]


@pytest.mark.parametrize(("what", "make", "code"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_backup_is_refused_in_both_languages_and_changes_nothing(tmp_path, demo_backup, what, make, code):
    hub, backup = demo_backup
    target = Install(tmp_path / "other", None)
    target.flask("init")
    before_rows, before_files = target.rows(), target.files()
    done = target.flask("restore", "--replace", str(make(backup, tmp_path / "bad.zip")), ok=False)
    assert done.returncode == 1 and f"[{code}]" in done.stderr
    indonesian, english = done.stderr.split("] ", 1)[1].split(" / ", 1)
    assert indonesian.strip() != english.strip()  # said in both languages
    assert target.rows() == before_rows and target.files() == before_files


def test_restoring_over_data_needs_replace(tmp_path, demo_backup):
    hub, backup = demo_backup
    target = demo_hub(tmp_path / "busy", None)
    before = target.rows()
    done = target.flask("restore", str(backup), ok=False)
    assert done.returncode == 1 and "[backup.not_empty]" in done.stderr and "--replace" in done.stderr
    assert target.rows() == before
    assert target.flask("restore", "--check", str(backup)).stdout.startswith("backup whole")
    target.flask("restore", "--replace", str(backup))
    assert target.rows(skip=("sync_state",)) == hub.rows(skip=("sync_state",))


def test_a_backup_never_overwrites_a_file_and_is_whole_or_absent(tmp_path, demo_backup):
    hub, backup = demo_backup
    done = hub.flask("backup", str(backup), ok=False)
    assert "[backup.exists]" in done.stderr
    assert not list(backup.parent.glob(".*.partial"))


def test_skip_ahead_moves_the_log_and_the_origin_past_a_gap(tmp_path, database_urls):
    from app import create_app
    from app.cli import initialise
    from app.cli_support import write_transaction
    from sync.outbox import emit, skip_ahead

    config = {"INSTANCE_PATH": str(tmp_path / "n"), "TESTING": True}
    if database_urls[0]:
        config["DATABASE_URL"] = database_urls[0]
    app = create_app(config)
    with app.app_context():
        initialise(seed_demo=False)
        with write_transaction() as session:
            row = emit(session, "wilayah", "36", {"code": "36"}, None)
            first = (row.local_seq, row.origin_seq, row.origin_id)
        with write_transaction() as session:
            numbers = skip_ahead(session)
        with write_transaction() as session:
            row = emit(session, "wilayah", "36.73", {"code": "36.73"}, None)
            after = (row.local_seq, row.origin_seq, row.origin_id)
    assert after[0] == numbers["local_seq"] >= first[0] + RESTORE_GAP
    assert after[1] == numbers["origin_seq"] == first[1] + RESTORE_GAP + 1
    assert after[2] == first[2]  # the same node, numbered on


def test_a_restore_that_fails_its_check_leaves_the_old_data(tmp_path, database_urls):
    """Loaded, compared, refused: on PostgreSQL the one transaction rolls back, on SQLite the copy never goes live."""
    source = demo_hub(tmp_path / "hub", database_urls[0])
    source.flask("backup", str(tmp_path / "hub.zip"))
    bad = tamper(tmp_path / "hub.zip", tmp_path / "bad.zip", table={"rows": 1})
    target = Install(tmp_path / "busy", database_urls[1])
    target.flask("init")
    target.flask("users", "create", "rina", "--role", "admin", "--password-stdin", stdin="kata-sandi-rina\n")
    before = target.rows()
    done = target.flask("restore", "--replace", str(bad), ok=False)
    assert "[backup.verify_failed]" in done.stderr and "audit" in done.stderr
    assert target.rows() == before


def test_a_backup_killed_at_any_point_leaves_no_backup_file_and_runs_again(tmp_path, demo_backup):
    hub, _ = demo_backup
    for point in (1, 2):
        out = tmp_path / f"killed-{point}.zip"
        killed = hub.flask("backup", str(out), ok=False, env={"PANTAU_FAULT_POINT": str(point)})
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert not out.exists(), "never a file that looks whole and is not"
    hub.flask("backup", str(tmp_path / "whole.zip"))
    assert hub.flask("restore", "--check", str(tmp_path / "whole.zip")).stdout.startswith("backup whole")


def test_a_restore_killed_at_any_point_leaves_the_old_data_or_the_backup_and_runs_again(tmp_path, database_urls):
    """Killed after the files moved in, inside the database step, or after it: the old rows or the backup's,
    never a mix, and every file the rows name is there; the same restore then completes."""
    source = demo_hub(tmp_path / "hub", database_urls[0])
    source.flask("backup", str(tmp_path / "hub.zip"))
    wanted, wanted_files = source.rows(skip=("sync_state",)), source.files()
    databases = []
    outcomes = []
    try:
        for point in range(1, 6):
            url = None
            if database_urls[1] is not None:  # a fresh PostgreSQL database for each point
                databases.append(fresh_postgres_database(migrated=False))
                url = next(databases[-1])
            target = Install(tmp_path / f"target-{point}", url)
            target.flask("init")  # another office's data
            old_rows, old_files = target.rows(skip=("sync_state",)), target.files()
            killed = target.flask("restore", "--replace", str(tmp_path / "hub.zip"), ok=False,
                                  env={"PANTAU_FAULT_POINT": str(point)})
            if killed.returncode == 0:
                break
            assert killed.returncode == -signal.SIGKILL, killed.stderr
            rows, files = target.rows(skip=("sync_state",)), target.files()
            assert rows in (old_rows, wanted), f"killed at point {point}: a mix of the old data and the backup"
            assert old_files.items() <= files.items(), "a file the old rows name went missing"
            if rows == wanted:
                assert wanted_files.items() <= files.items(), "the backup's rows without their files"
            outcomes.append("old" if rows == old_rows else "restored")
            target.flask("restore", "--replace", str(tmp_path / "hub.zip"))  # run again: it completes
            assert target.rows(skip=("sync_state",)) == wanted and wanted_files.items() <= target.files().items()
    finally:
        for database in databases:
            database.close()
    assert "old" in outcomes and "restored" in outcomes, outcomes
