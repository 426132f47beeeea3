"""One desktop app per data folder: an OS file lock, and a loopback handshake to reach the first one. Pure.

The first launch holds `desktop.lock` (flock/LockFileEx through filelock) for as long as it runs, and
answers on a loopback port written, with a random token, to `desktop.json` (mode 0600). A second
launch that cannot take the lock reads that file and asks the first one to show its window, then
exits: two servers never open the same database. The OS drops the lock when a process dies, so a
crash leaves no stale lock; a left-over `desktop.json` then only names a port nobody answers on.
The token is new for every launch, readable only by the user, and never sent: each side proves it
knows it with an HMAC over a fresh nonce, so another local program can neither raise the window nor,
having taken the port after a crash, pass for the app.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Callable

from filelock import FileLock, Timeout

from app.files import write_atomic

LOCK_FILE = "desktop.lock"
STATE_FILE = "desktop.json"
MAX_LINE = 4096
log = logging.getLogger(__name__)


class HandshakeFailed(Exception):
    """The running app could not be reached, or did not prove it is ours."""


class SingleInstance:
    """The lock on a data folder and, once serving, the loopback listener that answers later launches."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.lock = FileLock(self.folder / LOCK_FILE, thread_local=False, fallback_to_soft=False)
        self.token = secrets.token_urlsafe(32)
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._on_show: Callable[[], None] = lambda: None
        self.url = ""

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another launch holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def listen(self, url: str, on_show: Callable[[], None]) -> int:
        """Answer later launches on a free loopback port; `on_show` brings the window forward."""
        self.url, self._on_show = url, on_show
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.5)  # so `close` is noticed quickly
        port = self._listener.getsockname()[1]
        state = json.dumps({"port": port, "token": self.token, "pid": os.getpid(), "url": url})
        path = self.folder / STATE_FILE
        # write_atomic's temporary file comes from mkstemp, which creates it 0600: the token is never
        # readable by others, not even before this chmod (kept for a file a user copied over).
        write_atomic(path, state.encode())
        os.chmod(path, 0o600)
        self._thread = threading.Thread(target=self._serve, name="desktop-single-instance", daemon=True)
        self._thread.start()
        return port

    def _serve(self) -> None:
        listener = self._listener
        while listener is self._listener and listener is not None:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                try:
                    self._answer(conn)
                except (OSError, ValueError) as error:
                    log.warning("desktop: bad handshake: %s", error)
                except Exception:  # e.g. raising a window that is closing: the listener must live on
                    log.exception("desktop: answering a second launch failed")

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        request = json.loads(_read_line(conn))
        if not isinstance(request, dict):
            raise ValueError("not a JSON object")
        command, nonce = str(request.get("command", "")), str(request.get("nonce", ""))
        if len(nonce) < 16 or not hmac.compare_digest(str(request.get("mac", "")), _mac(self.token, command, nonce)):
            conn.sendall(b'{"ok": false}\n')
            return
        if command == "show":
            log.info("desktop: another launch asked for the window; bringing it forward")
            self._on_show()
        reply = {"ok": True, "url": self.url, "mac": _mac(self.token, "ok", nonce)}
        conn.sendall((json.dumps(reply) + "\n").encode())

    def close(self) -> None:
        """Stop answering and forget the port; the lock stays until `release`."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        (self.folder / STATE_FILE).unlink(missing_ok=True)

    def release(self) -> None:
        """Let the next launch start its own server."""
        if self.lock.is_locked:
            self.lock.release()


def ask_running(folder: Path, command: str = "show", timeout: float = 2.0) -> str:
    """Ask the app running on `folder` to run `command`; return its URL or raise HandshakeFailed."""
    try:
        state = json.loads((Path(folder) / STATE_FILE).read_text(encoding="utf-8"))
        port, token = int(state["port"]), str(state["token"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise HandshakeFailed(f"no readable {STATE_FILE}: {error}") from None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            nonce = secrets.token_urlsafe(16)
            request = {"command": command, "nonce": nonce, "mac": _mac(token, command, nonce)}
            conn.sendall((json.dumps(request) + "\n").encode())
            reply = json.loads(_read_line(conn))
    except (OSError, ValueError) as error:
        raise HandshakeFailed(f"no answer on port {port}: {error}") from None
    if not (isinstance(reply, dict) and reply.get("ok")
            and hmac.compare_digest(str(reply.get("mac", "")), _mac(token, "ok", nonce))):
        raise HandshakeFailed(f"port {port} did not answer as Pantau KLA")
    return str(reply.get("url", ""))


def claim_or_reach(guard: SingleInstance, wait: float = 60.0) -> str | None:
    """Take the lock (None: we are first) or get the running app's URL after it showed its window.

    A first launch that is still migrating, or one that is shutting down, holds the lock without
    answering yet; keep trying both for `wait` seconds before giving up (a minute: a slow laptop's
    first start migrates the database and starts Qt WebEngine before it can answer).
    """
    deadline = time.monotonic() + wait
    while True:
        if guard.acquire():
            return None
        try:
            return ask_running(guard.folder)
        except HandshakeFailed:
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.2)


def _mac(token: str, word: str, nonce: str) -> str:
    return hmac.new(token.encode(), f"{word}:{nonce}".encode(), "sha256").hexdigest()


def _read_line(conn: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(1024)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_LINE:
            raise ValueError("handshake line too long")
    return data.decode("utf-8")
