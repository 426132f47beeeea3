"""`flask serve`: gunicorn with several worker processes on Linux and macOS, waitress on Windows.

A hub uses every core: Python runs one thread of a process at a time, so the workers are processes; each
worker runs a few threads for the time a request waits on the database, the disk or a slow client. The app
the command was given (already built by the Flask CLI, its settings and secret key read once) is forked into
every worker; each worker opens its own database connections. Waitress (one process, threads) stays for
Windows, where gunicorn does not run, and for the desktop window (app/desktop/server.py).
"""

from __future__ import annotations

import os
import sys
from typing import Callable

from flask import Flask

from app.extensions import db

SERVERS = ("auto", "gunicorn", "waitress")
# A worker stopping on SIGTERM finishes the requests it is in (a push is one transaction) for up to this long.
GRACEFUL_SECONDS = 30
# The master restarts a worker that has not reported for this long (a worker stuck outside Python). gthread
# workers report from their main loop, so a long request (a big export) is not cut by it.
WORKER_TIMEOUT_SECONDS = 120
KEEPALIVE_SECONDS = 75


def default_workers(cores: int | None = None) -> int:
    """Two worker processes per core (at least 2): while one waits on PostgreSQL or fsync, the other has the core."""
    cores = cores or os.cpu_count() or 1
    return max(2, 2 * cores)


def gunicorn_available() -> bool:
    """gunicorn runs on Linux and macOS; it is not installed on Windows (requirements.txt marker)."""
    if sys.platform == "win32":
        return False
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def chosen_server(requested: str) -> str:
    """The server `flask serve` uses: gunicorn where it runs, else waitress; `--server` forces one."""
    if requested == "auto":
        return "gunicorn" if gunicorn_available() else "waitress"
    if requested == "gunicorn" and not gunicorn_available():
        raise RuntimeError("gunicorn does not run here (Windows, or not installed): use --server waitress")
    return requested


def serve_waitress(app: Flask, host: str, port: int, threads: int, announce: Callable[[str], None]) -> None:
    """One process, `threads` threads (the desktop window's server too)."""
    from waitress.server import create_server

    server = create_server(app, host=host, port=port, threads=threads, ident="pantau-kla")
    announce(f"http://{_url_host(host)}:{server.effective_port} (waitress, {threads} threads)")
    server.run()


def serve_gunicorn(app: Flask, host: str, port: int, workers: int, threads: int,
                   announce: Callable[[str], None]) -> None:
    """`workers` processes of `threads` threads each; SIGTERM stops them after their running requests."""
    from gunicorn.app.base import BaseApplication

    _close_connections(app)  # nothing opened here may be shared by the forked workers

    def when_ready(server) -> None:
        # Port 0: the master has bound a free port; say which one.
        bound_port = server.LISTENERS[0].sock.getsockname()[1]
        announce(f"http://{_url_host(host)}:{bound_port} (gunicorn, {workers} workers x {threads} threads)")

    def post_fork(server, worker) -> None:
        # A pooled connection made before the fork would be shared by two processes: drop them unclosed.
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)

    options = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "graceful_timeout": GRACEFUL_SECONDS,
        "timeout": WORKER_TIMEOUT_SECONDS,
        # Idle keep-alive connections stay open longer than a client (or nginx's upstream pool, 60 s) keeps
        # them: with gunicorn's 2 s, a request sent as the hub closes the connection is lost (a reset).
        "keepalive": KEEPALIVE_SECONDS,
        "accesslog": None,  # as under waitress: no access log; errors go to stderr
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "pantau-kla",
        # gunicorn would take X-Forwarded-Proto from any local client by itself; the app alone decides which
        # proxy headers to believe (PROXY_COUNT, werkzeug's ProxyFix).
        "forwarded_allow_ips": "",
        "when_ready": when_ready,
        "post_fork": post_fork,
    }

    class Hub(BaseApplication):
        """gunicorn as a library: our options, the app we were given."""

        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Hub().run()


def _close_connections(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
