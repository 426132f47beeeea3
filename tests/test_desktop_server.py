"""The desktop app's server: waitress on a free loopback port, stopped after running requests, WAL checkpointed."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from urllib.request import urlopen

import pytest

from app.desktop import data_folder, main
from app.desktop.server import LocalServer
from tests.conftest import make_user


def test_stop_lets_a_running_request_finish_then_closes_the_port_and_checkpoints(app):
    started = threading.Event()

    def slow():
        started.set()
        time.sleep(1)
        return "finished"

    app.add_url_rule("/_slow", "slow_for_test", slow)
    make_user(app, "siti", "auditor")  # a write before the server stops: it must be in the database file
    server = LocalServer(app).start()
    assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith(":0")
    answers = []
    client = threading.Thread(target=lambda: answers.append(urlopen(server.url + "/_slow", timeout=10).read()))
    client.start()
    assert started.wait(5)
    result = server.stop()
    client.join(5)
    assert answers == [b"finished"]  # the request that was running when the window closed got its answer
    assert result is not None and result[0] == 0  # not busy: the whole WAL went into the database
    with pytest.raises(OSError):
        urlopen(server.url + "/healthz", timeout=2)
    db_file = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    wal = db_file + "-wal"
    assert not os.path.exists(wal) or os.path.getsize(wal) == 0
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM user_account WHERE username = 'siti'").fetchone()[0] == 1


def test_the_data_folder_is_the_instance_path_when_set_else_the_users_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("PANTAU_INSTANCE_PATH", str(tmp_path / "here"))
    assert data_folder() == tmp_path / "here"
    monkeypatch.delenv("PANTAU_INSTANCE_PATH")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_folder() == tmp_path / "xdg" / "PantauKLA"


def test_without_a_display_the_launcher_says_so_and_touches_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PANTAU_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main([]) == 2
    assert "desktop.no_display" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
