"""`flask serve` on every core, and the state several worker processes share only through the database.

gunicorn forks the app into several processes: anything a process keeps in memory is that worker's alone. Each
test here fails when such state lives in a process: throttling counts (app.throttle), the node's clock and
sequence (sync.outbox, first use included), SQLite's write lock across processes (app.db).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from urllib.request import urlopen

import pytest
import requests

from app import serving
from tests.support import ROOT, ServerProcess, free_port, require

pytestmark = pytest.mark.slow
HUB_ENV = {"PANTAU_ROLE": "hub", "PANTAU_SECRET_KEY": "serve-secret-for-tests-" + "x" * 32,
           "PANTAU_SECURE_COOKIES": "0"}


# --- choosing and running the server ----------------------------------------------------------------------------


def test_gunicorn_on_linux_waitress_on_windows(monkeypatch):
    assert serving.chosen_server("auto") == "gunicorn"
    assert serving.chosen_server("waitress") == "waitress"
    monkeypatch.setattr(sys, "platform", "win32")
    assert serving.chosen_server("auto") == "waitress"
    with pytest.raises(RuntimeError):
        serving.chosen_server("gunicorn")


def test_two_workers_per_core():
    assert serving.default_workers(1) == 2
    assert serving.default_workers(8) == 16


def _serve(instance: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """`flask serve --port 0 ARGS` on a new field install; the process and the URL it says it listens on."""
    env = {**os.environ, "PANTAU_INSTANCE_PATH": str(instance), "FLASK_APP": "app"}
    subprocess.run([sys.executable, "-m", "flask", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    process = subprocess.Popen([sys.executable, "-m", "flask", "serve", "--port", "0", *args], cwd=ROOT, env=env,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r" on (http://127\.0\.0\.1:(\d+)) ", line)
        if found:
            threading.Thread(target=process.stderr.read, daemon=True).start()  # keep the pipe drained
            return process, found.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"flask serve did not say where it listens: {process.stderr.read()[-2000:]}")


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def test_port_zero_several_workers_and_a_graceful_stop(tmp_path):
    """gunicorn binds a free port and says which; three worker processes answer; SIGTERM stops them all."""
    process, url = _serve(tmp_path, "--workers", "3", "--threads", "2")
    try:
        assert int(url.rsplit(":", 1)[1]) > 0
        with urlopen(f"{url}/healthz", timeout=5) as answer:
            assert answer.status == 200
        deadline = time.monotonic() + 10
        while len(_children(process.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _children(process.pid)
        assert len(workers) == 3
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        assert not any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
                       for pid in workers)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_waitress_when_asked(tmp_path):
    process, url = _serve(tmp_path, "--server", "waitress")
    try:
        with urlopen(f"{url}/healthz", timeout=5) as answer:
            assert answer.status == 200
        assert _children(process.pid) == set()  # one process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)


# --- throttling counts shared by the workers -------------------------------------------------------------------


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping())
    except Exception:  # any failure means: no usable server here
        return False


@pytest.fixture(params=["database-sqlite", "database-postgresql", "redis"])
def throttled_hub(request, tmp_path):
    """A hub served by four worker processes, its throttling counts in the database (or Redis)."""
    env, urls = dict(HUB_ENV), None
    if request.param == "database-postgresql":
        from tests.support import fresh_postgres_database

        urls = fresh_postgres_database()
        env["DATABASE_URL"] = next(urls)
    if request.param == "redis":
        require(_redis_answers(), "Redis is not answering on 127.0.0.1:6379")
        env["PANTAU_RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:6379/{free_port() % 16}"
    server = ServerProcess(tmp_path / "hub", env=env, demo=False, serve_args=("--workers", "4", "--threads", "2"))
    server.instance.mkdir()
    server.init()
    server.start()
    yield server
    server.stop()
    if request.param == "redis":
        import redis

        redis.Redis.from_url(env["PANTAU_RATELIMIT_STORAGE_URI"]).flushdb()
    if urls is not None:
        urls.close()


def test_enrollment_guesses_are_counted_across_workers(throttled_hub):
    """10 wrong codes a minute from one address, whichever worker takes them (memory:// would allow 10 per worker)."""
    statuses = []
    for _ in range(30):
        # A new connection each time: gunicorn hands each to whichever worker accepts it first.
        answer = requests.post(f"{throttled_hub.url}/api/v1/sync/enroll", json={"code": "AAAA-AAAA"},
                               headers={"Connection": "close"}, timeout=10)
        statuses.append(answer.status_code)
    assert statuses[:10] == [401] * 10  # sync.bad_code
    assert statuses[10:] == [429] * 20, statuses


# --- the node's clock and sequence across processes ------------------------------------------------------------


WRITER = textwrap.dedent('''
    import sys
    from app import create_app
    from app.cli_support import write_transaction
    from sync import outbox
    app = create_app({"INSTANCE_PATH": sys.argv[1], "ROLE": "hub", "SECRET_KEY": "w" * 40, "DATABASE_URL": sys.argv[2]})
    with app.app_context():
        for n in range(int(sys.argv[3])):
            with write_transaction() as session:
                outbox.emit(session, "review", f"{sys.argv[4]}-{n}", {"n": n}, None)
''')


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_database(request, tmp_path):
    """A migrated hub database (its clock and sequence never used yet) and its instance folder."""
    urls = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.db'}"
    else:
        from tests.support import fresh_postgres_database

        urls = fresh_postgres_database()
        url = next(urls)
    env = {**os.environ, **HUB_ENV, "PANTAU_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url, "FLASK_APP": "app"}
    subprocess.run([sys.executable, "-m", "flask", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    yield tmp_path, url
    if urls is not None:
        urls.close()


def test_two_processes_writing_at_once_share_one_clock_and_sequence(hub_database):
    """Four processes emit changes at once from a clock never used: no write fails (SQLite's lock is taken at BEGIN
    and waited for across processes; PostgreSQL's first clock row is made once), no sequence number is taken
    twice, and in sequence order the HLC only moves forward."""
    instance, url = hub_database
    per_process = 60
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(instance), url, str(per_process), f"w{i}"], cwd=ROOT,
                                stderr=subprocess.PIPE, text=True) for i in range(4)]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors[-3000:]
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT origin_seq, hlc FROM sync_change WHERE kind = 'review' "
                                       "ORDER BY origin_seq")).all()
    engine.dispose()
    assert len(rows) == 4 * per_process
    sequence = [seq for seq, _ in rows]
    assert len(set(sequence)) == len(sequence)
    stamps = [stamp for _, stamp in rows]
    assert all(a < b for a, b in zip(stamps, stamps[1:])), "the HLC went backwards between two processes"


def _first_use_race(url: str, use) -> tuple:
    """`use(session)` in two PostgreSQL transactions at once on rows neither has made yet: the first makes them
    and holds them uncommitted while the second runs into them. What each returned, and the second's error."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    import app.models  # noqa: F401 (every model, so the mappers configure)

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    first, second = Session(engine), Session(engine)
    try:
        mine = use(first)
        first.flush()  # the rows are inserted, not committed: the other transaction cannot see them yet
        found = {}

        def other():
            try:
                found["value"] = use(second)
                second.flush()
                second.commit()
            except Exception as error:  # the failure these tests are about: report it, do not hang
                found["error"] = error
                second.rollback()

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.5)  # the other transaction is now waiting on our uncommitted rows
        first.commit()
        thread.join(30)
        return mine, found.get("value"), found.get("error")
    finally:
        first.close()
        second.close()
        engine.dispose()


def test_first_use_of_the_clock_by_two_transactions_at_once(hub_database):
    """PostgreSQL: two transactions both find no clock row; the second waits for the first and reads its row
    instead of failing on the key (the row made in one, then locked in both)."""
    instance, url = hub_database
    if not url.startswith("postgresql"):
        pytest.skip("SQLite runs writers one at a time: the race needs PostgreSQL")
    from sync import outbox

    first_stamp, second_stamp, error = _first_use_race(url, outbox.now_hlc)
    assert error is None, error
    assert second_stamp > first_stamp


def test_a_new_hubs_first_two_pulls_at_once(hub_database):
    """PostgreSQL: the first two pulls a hub serves (two workers) both catch up and note the device's cursor,
    rows neither finds yet; the second waits for the first instead of failing on the key."""
    instance, url = hub_database
    if not url.startswith("postgresql"):
        pytest.skip("SQLite runs writers one at a time: the race needs PostgreSQL")
    from sync import publish

    device = uuid.uuid4()

    def pull(session):
        publish.catch_up(session)
        publish.note_pulled(session, device, 5)
        return True

    _, _, error = _first_use_race(url, pull)
    assert error is None, error


# --- the database storage itself -------------------------------------------------------------------------------


def test_throttle_counts_from_many_threads_add_up(hub_database):
    """The upsert is atomic: 8 threads x 25 hits on one key count 200, never fewer."""
    instance, url = hub_database
    from app import create_app
    from app.throttle import DatabaseStorage

    app = create_app({"INSTANCE_PATH": str(instance), "ROLE": "hub", "SECRET_KEY": "t" * 40, "DATABASE_URL": url})
    storage = DatabaseStorage("database://")
    errors = []

    def hit():
        try:
            with app.app_context():
                for _ in range(25):
                    storage.incr("login:siti", 60)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors[:1]
    with app.app_context():
        assert storage.get("login:siti") == 200
        assert 0 < storage.get_expiry("login:siti") - time.time() <= 60
        storage.clear("login:siti")
        assert storage.get("login:siti") == 0
        storage.incr("expired", -1)  # a window already over counts from one again
        assert storage.incr("expired", 60) == 1
        # A key holds what a client typed: a NUL (PostgreSQL's text refuses it) or a very long name still counts.
        for odd in ("login:si\x00ti", "login:" + "s" * 400):
            assert storage.incr(odd, 60) == 1 and storage.incr(odd, 60) == 2 and storage.get(odd) == 2
            assert storage.get_expiry(odd) > time.time()
            storage.clear(odd)
            assert storage.get(odd) == 0
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()


# --- what holds SQLite's one write lock, and for how long --------------------------------------------------------


def test_a_photo_is_checked_and_written_before_its_request_waits_for_the_write_lock(tmp_path):
    """Another process holds SQLite's write lock: a device's photo is already decoded and on disk (original and
    display copies) while its request waits, and only its row waits for the lock. (Done inside the lock, every
    worker's writes queued behind image work, past the busy timeout: 503 db.busy under load.)"""
    import hashlib
    import sqlite3

    from app import create_app
    from app.cli_support import write_transaction
    from sync import service
    from tests.support import make_jpeg, migrate

    app = create_app({"INSTANCE_PATH": str(tmp_path), "ROLE": "hub", "SECRET_KEY": "p" * 40, "TESTING": True})
    with app.app_context():
        migrate(app)
        with write_transaction() as session:
            service.ensure_self_device(session, "hub")
            _, code = service.register_device(session, "tablet-lock", ["36.73.01"])
            token = service.enroll(session, code)["token"]
    photo = make_jpeg()
    sha = hashlib.sha256(photo).hexdigest()
    files = [tmp_path / "photos" / variant / sha[:2] / f"{sha}.jpg" for variant in ("original", "display", "thumb")]
    other = sqlite3.connect(tmp_path / "pantau.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another worker's write transaction
    answer = {}
    thread = threading.Thread(target=lambda: answer.update(response=app.test_client().put(
        f"/api/v1/sync/photos/{sha}", data=photo, headers={"Authorization": f"Bearer {token}",
                                                            "Content-Type": "application/octet-stream"})))
    thread.start()
    try:
        deadline = time.monotonic() + 3
        while not all(f.exists() for f in files) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert all(f.exists() for f in files), "the photo's files waited for the write lock"
        assert "response" not in answer  # its row still waits
    finally:
        other.execute("COMMIT")
        other.close()
        thread.join(10)
    assert answer["response"].status_code == 201


def test_an_idle_connection_is_kept_between_a_devices_requests(tmp_path):
    """A client (or nginx's pool) reusing a connection after a few idle seconds finds it open: gunicorn's own
    2 s would close it as the next request is sent, and that request is lost."""
    import http.client

    process, url = _serve(tmp_path, "--workers", "2")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=10)
        connection.request("GET", "/healthz")
        assert connection.getresponse().read() is not None
        first = connection.sock
        time.sleep(3)
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
        assert connection.sock is first  # the same connection, not a new one
        connection.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
