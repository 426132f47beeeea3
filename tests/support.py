"""Test helpers shared by the suites: loud skips, free ports, server processes, HTML parsing."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from urllib.request import urlopen

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip with a reason on a developer's machine; in CI a missing part is a failure, never a skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test, but: {reason}")
    pytest.skip(reason)


_MIGRATED_SQLITE: list[Path] = []


def migrate(application) -> None:
    """Bring the app's database to the newest schema (call inside its app context).

    A new SQLite file is a copy of one migrated once per test process: Alembic costs 0.14 s per test and
    every test starts from a fresh database. Other databases, and files that already hold data, are migrated.
    """
    from flask_migrate import upgrade

    from app.extensions import db

    url = db.engine.url
    target = Path(url.database) if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") else None
    if target is None or target.exists() or not _MIGRATED_SQLITE:
        upgrade()
        if target is not None and not _MIGRATED_SQLITE:
            db.engine.dispose()  # the last connection closed: the WAL is checkpointed into the file
            folder = Path(tempfile.mkdtemp(prefix="pantau-migrated-"))
            atexit.register(shutil.rmtree, folder, True)
            _MIGRATED_SQLITE.append(shutil.copyfile(target, folder / "head.db"))
        return
    db.engine.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_MIGRATED_SQLITE[0], target)


def flask_here(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`flask ARGS` as a process with environment `env` would run it, run in this test process instead.

    The same command on the same settings (read from `env` as a process reads them), without a process start:
    two to five seconds each on CI, and the tests run hundreds. Fault points (PANTAU_FAULT_POINT) kill their
    process, so commands that should die at one still run as processes of their own.
    """
    from app import create_app, settings
    from app.extensions import db

    assert "PANTAU_FAULT_POINT" not in env, "a command killed at a fault point needs its own process"
    application = create_app(settings.load(env["PANTAU_INSTANCE_PATH"], environ=env))
    try:
        with application.app_context():  # as `flask` pushes one for every command
            result = application.test_cli_runner().invoke(args=list(args), input=stdin)
    finally:
        with application.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()  # closed now: the test may move or remove the folder next
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(result.exception))
        return subprocess.CompletedProcess(["flask", *args], 1, result.stdout, result.stderr + trace)
    return subprocess.CompletedProcess(["flask", *args], result.exit_code, result.stdout, result.stderr)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def html(response) -> BeautifulSoup:
    """Parse a response body as HTML."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def postgres_url() -> str | None:
    """The admin URL of the local PostgreSQL server, or None when it does not answer."""
    url = os.environ.get("PANTAU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return url
    except Exception:  # any failure means: no usable server here
        return None


def fresh_postgres_database(migrated: bool = True):
    """Generator: the URL of a new PostgreSQL database (the test skips loudly without a server), dropped after.

    Migrated: a copy of a database this test process migrated once (CREATE DATABASE ... TEMPLATE), as a new
    SQLite file is a copy of one migrated once; `migrated=False` gives an empty one, as `flask init` meets it.
    """
    from tests.test_migrations import make_postgres_database

    admin_url = postgres_url()
    require(admin_url is not None, "PostgreSQL is not answering on 127.0.0.1:5432")
    databases = make_postgres_database(admin_url, template=_migrated_postgres(admin_url) if migrated else None)
    try:
        yield next(databases)
    finally:
        databases.close()


_MIGRATED_POSTGRES: list[str] = []


def _migrated_postgres(admin_url: str) -> str:
    """The name of this process's migrated template database, made on first use and dropped at exit."""
    if _MIGRATED_POSTGRES:
        return _MIGRATED_POSTGRES[0]
    import uuid

    import psycopg
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    name = f"pantau_head_{uuid.uuid4().hex[:12]}"
    plain = admin_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    folder = Path(tempfile.mkdtemp(prefix="pantau-migrated-pg-"))
    atexit.register(shutil.rmtree, folder, True)
    application = create_app({"INSTANCE_PATH": str(folder), "TESTING": True,
                              "DATABASE_URL": admin_url.rsplit("/", 1)[0] + f"/{name}"})
    with application.app_context():
        upgrade()
        db.engine.dispose()  # a template database takes no connections while it is copied
    _MIGRATED_POSTGRES.append(name)
    return name


class ServerProcess:
    """The real app under `flask serve` in a child process, as `make run` starts it (gunicorn on Linux: a master
    and its worker processes, in a process group of their own)."""

    # One worker (with its threads) unless a test asks for more: on CI's two cores every extra worker of every
    # test server compiles the templates and fills its caches again. tests/test_serve.py, test_deploy.py and
    # bench/load.py ask for several workers where that is what they test.
    def __init__(self, instance: Path, env: dict[str, str] | None = None, demo: bool = True,
                 serve_args: tuple[str, ...] = ("--workers", "1")):
        self.instance = instance
        self.serve_args = tuple(serve_args)
        self.port = free_port()
        self.env = {**os.environ, "PANTAU_INSTANCE_PATH": str(instance), "FLASK_APP": "app",
                    "PANTAU_DEMO": "1" if demo else "0", **(env or {})}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def init(self) -> None:
        """Migrate and seed, as `make run` does before serving (`flask init`, run in this process)."""
        done = flask_here(self.env, "init")
        assert done.returncode == 0, done.stderr + done.stdout

    def start(self) -> "ServerProcess":
        """Start serving and wait until the health check answers."""
        self.log = open(self.instance / "server.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "serve", "--port", str(self.port), *self.serve_args],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urlopen(f"{self.url}/healthz", timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {(self.instance / 'server.log').read_text()[-2000:]}")
                time.sleep(0.1)
        raise RuntimeError("server did not start in 30 s")

    def kill(self) -> None:
        """SIGKILL to the server and its workers at once: no cleanup, no flush, as when a machine loses power."""
        if self.process:
            self._signal_group(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """Stop gracefully (SIGTERM: running requests finish), then make sure no worker is left."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        if getattr(self, "log", None):
            self.log.close()

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)  # the group is the server's own (start_new_session)
        except ProcessLookupError:
            pass


def chromium_available() -> bool:
    """True when Debian's Chromium and Playwright are installed."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None


def make_jpeg(width: int = 640, height: int = 480, color=(40, 140, 60), exif_time: str | None = "2026:11:20 09:15:00",
              gps: tuple[float, float] | None = (-6.1151, 106.1602), exif_offset: str | None = None) -> bytes:
    """A real JPEG, as a tablet camera writes it: EXIF time (local, with its offset when given) and GPS when asked."""
    from io import BytesIO

    from PIL import Image

    image = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    if exif_time:
        exif[0x0132] = exif_time  # DateTime
        exif.get_ifd(0x8769)[0x9003] = exif_time  # DateTimeOriginal
    if exif_offset:
        exif.get_ifd(0x8769).update({0x9010: exif_offset, 0x9011: exif_offset})  # OffsetTime, OffsetTimeOriginal
    if gps:
        lat, lon = gps

        def dms(value: float):
            value = abs(value)
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
            return (degrees, minutes, seconds)

        exif.get_ifd(0x8825).update({1: "S" if lat < 0 else "N", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)})
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif)
    return buffer.getvalue()
