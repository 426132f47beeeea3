"""Backup and restore of one installation: `flask backup`, `flask restore` (the hub and the field device)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the commands."""
    from app.backup import cli, views

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.backup_command)
    app.cli.add_command(cli.restore_command)
