"""Backup and restore of one installation: `flask backup`, `flask restore` (the hub and the field device)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the commands."""
    from app.backup import cli, views

    app.register_blueprint(views.bp)
    # First of all request hooks, so CSRFProtect's reads the restore form with the backup's own size limit.
    app.before_request_funcs.setdefault(None, []).insert(0, views.allow_backup_upload)
    app.cli.add_command(cli.backup_command)
    app.cli.add_command(cli.restore_command)
