"""One desktop app per data folder: the lock, the loopback handshake, and what it refuses. No Flask."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from app.desktop.single import STATE_FILE, HandshakeFailed, SingleInstance, ask_running, claim_or_reach


@pytest.fixture
def first(tmp_path):
    """A first launch holding the lock and answering on loopback; counts the show requests."""
    guard = SingleInstance(tmp_path)
    assert guard.acquire()
    guard.shown = []
    guard.listen("http://127.0.0.1:5555", on_show=lambda: guard.shown.append(True))
    yield guard
    guard.close()
    guard.release()


def test_a_second_launch_cannot_take_the_lock_and_reaches_the_first(first, tmp_path):
    second = SingleInstance(tmp_path)
    assert not second.acquire()
    assert claim_or_reach(second, wait=1) == "http://127.0.0.1:5555"
    assert first.shown == [True]


def test_the_state_file_is_private_and_never_holds_more_than_port_token_pid_url(first, tmp_path):
    path = tmp_path / STATE_FILE
    assert path.stat().st_mode & 0o077 == 0
    assert set(json.loads(path.read_text())) == {"port", "token", "pid", "url"}


def test_after_release_the_next_launch_is_first(first, tmp_path):
    first.close()
    first.release()
    assert not (tmp_path / STATE_FILE).exists()
    later = SingleInstance(tmp_path)
    assert claim_or_reach(later, wait=1) is None
    later.release()


def _raw(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)
        return conn.recv(4096)


@pytest.mark.parametrize("payload", [
    b"not json\n",
    b"[1, 2]\n",
    b'{"command": "show"}\n',
    b'{"command": "show", "nonce": "short", "mac": "00"}\n',
    b'{"command": "show", "nonce": "aaaaaaaaaaaaaaaaaaaa", "mac": "00"}\n',
    b'{"command": "show", "nonce": "aaaaaaaaaaaaaaaaaaaa", "token": "guessed"}\n',
    b"x" * 5000 + b"\n",
])
def test_bad_requests_raise_nothing_and_the_listener_keeps_answering(first, tmp_path, payload):
    port = json.loads((tmp_path / STATE_FILE).read_text())["port"]
    reply = _raw(port, payload)
    assert b'"ok": true' not in reply
    assert first.shown == []
    assert ask_running(tmp_path) == "http://127.0.0.1:5555"  # a good request still works
    assert first.shown == [True]


def test_a_left_over_state_file_with_nobody_listening_fails_the_handshake(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / STATE_FILE).write_text(json.dumps({"port": port, "token": "t", "pid": 1, "url": "u"}))
    with pytest.raises(HandshakeFailed, match="no answer"):
        ask_running(tmp_path, timeout=0.5)


@pytest.mark.parametrize("content", ["", "{", '{"port": "x", "token": "t"}', '{"token": "t"}'])
def test_an_unreadable_state_file_fails_the_handshake(tmp_path, content):
    (tmp_path / STATE_FILE).write_text(content)
    with pytest.raises(HandshakeFailed, match="no readable"):
        ask_running(tmp_path)


def test_an_impostor_on_the_port_is_not_believed(tmp_path):
    """A program that took the port after a crash answers ok, but cannot prove it knows the token."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    (tmp_path / STATE_FILE).write_text(json.dumps({"port": port, "token": "secret", "pid": 1, "url": "u"}))
    seen = []

    def impostor():
        conn, _ = listener.accept()
        with conn:
            seen.append(conn.recv(4096))
            conn.sendall(b'{"ok": true, "url": "http://evil", "mac": "00"}\n')

    thread = threading.Thread(target=impostor)
    thread.start()
    with pytest.raises(HandshakeFailed, match="did not answer as Pantau KLA"):
        ask_running(tmp_path)
    thread.join()
    listener.close()
    assert b"secret" not in seen[0]  # the token itself never goes over the wire


def test_a_running_but_silent_first_launch_fails_after_the_wait(tmp_path):
    holder = SingleInstance(tmp_path)
    assert holder.acquire()  # still migrating: holds the lock, not yet listening
    try:
        with pytest.raises(HandshakeFailed):
            claim_or_reach(SingleInstance(tmp_path), wait=0.5)
    finally:
        holder.release()
