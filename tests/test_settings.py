"""The settings registry: every setting documented, secrets per install, a hub refusing to start without one."""

from __future__ import annotations

import pytest

from app import create_app, settings
from tests.support import ROOT


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- settings:start", 1)[1].split("-->", 1)[1].split("<!-- settings:end -->")[0]
    assert table.strip() == settings.markdown_table(), "README settings table is stale: paste `python -m app.settings`"


def test_every_cli_command_is_documented_in_the_readme(app):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, command in app.cli.commands.items():
        if name in ("shell", "routes", "run", "db"):
            continue  # Flask's and Flask-Migrate's own
        subcommands = getattr(command, "commands", None)
        for sub in (subcommands or {None: None}):
            text = f"flask {name}" + (f" {sub}" if sub else "")
            assert text in readme, f"`{text}` is not in the README"


def test_field_device_generates_and_keeps_its_secret_key(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    second = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    assert len(first) == 64 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_hub_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path), "ROLE": "hub"})


def test_settings_come_from_file_then_environment(tmp_path):
    (tmp_path / "settings.toml").write_text('ROLE = "hub"\nSECRET_KEY = "from-file"\nMAX_UPLOAD_MB = 7\n')
    values = settings.load(str(tmp_path), environ={"PANTAU_MAX_UPLOAD_MB": "9"})
    assert values["ROLE"] == "hub" and values["SECRET_KEY"] == "from-file" and values["MAX_UPLOAD_MB"] == 9


def test_unknown_setting_in_file_is_refused(tmp_path):
    (tmp_path / "settings.toml").write_text('ROLL = "hub"\n')
    with pytest.raises(ValueError, match="ROLL"):
        settings.load(str(tmp_path))


def test_bad_role_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ROLE"):
        settings.load(str(tmp_path), environ={"PANTAU_ROLE": "server"})


def test_database_defaults_to_sqlite_in_the_data_folder(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "i"), "DATA_DIR": str(tmp_path / "data")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'data' / 'pantau.db'}"


def test_sqlite_connections_are_set_up(app, db):
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
