"""The field app under waitress on 127.0.0.1, in a background thread, stopped cleanly."""

from __future__ import annotations

import logging
import sqlite3
import threading

from flask import Flask
from waitress.server import create_server
from waitress import wasyncore

from app.extensions import db

log = logging.getLogger(__name__)


class LocalServer:
    """Waitress on a free loopback port; `stop` lets running requests finish, then checkpoints SQLite."""

    def __init__(self, app: Flask, threads: int = 4):
        self.app = app
        # port=0: the OS picks a free port, so two users or a `make run` never collide with the window.
        self.server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="pantau-kla",
                                    asyncore_loop_timeout=0.5)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self._thread = threading.Thread(target=self.server.run, name="waitress", daemon=True)

    def start(self) -> "LocalServer":
        """Serve in the background."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> tuple[int, int, int] | None:
        """Stop accepting, finish running requests, close connections, checkpoint; return the checkpoint."""
        server = self.server
        # Socket work happens in the server's own loop thread: the trigger runs these thunks there.
        server.trigger.pull_trigger(lambda: wasyncore.dispatcher.close(server))
        # Worker threads finish the request they are in (a commit completes or rolls back whole).
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=timeout)
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("desktop: the server loop did not stop in %s s", timeout)
        return checkpoint(self.app)


def checkpoint(app: Flask) -> tuple[int, int, int] | None:
    """Close the pool and fold the SQLite WAL into the database file (wal_checkpoint(TRUNCATE))."""
    with app.app_context():
        db.session.remove()
        url = db.engine.url
        db.engine.dispose()
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    connection = sqlite3.connect(url.database, timeout=10)
    try:
        busy, wal_pages, moved = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    if busy:
        # Another process (a `flask` command) has the database open: the WAL stays, still consistent.
        log.warning("desktop: checkpoint blocked by another connection; the WAL is kept")
    log.info("desktop: checkpoint busy=%s wal_pages=%s moved=%s", busy, wal_pages, moved)
    return busy, wal_pages, moved
