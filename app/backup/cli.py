"""`flask backup` and `flask restore`: the commands an admin runs; the work is in app.backup.service."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.backup import service
from app.backup.target import restore_target
from app.cli_support import cli_errors
from app.db import Base, utcnow
from app.extensions import db


@click.command("backup")
@click.argument("destination", required=False, type=click.Path(path_type=Path), default=Path("."))
@with_appcontext
def backup_command(destination: Path):
    """Back up the database and the data folder's files into one file (a folder: a new file named by date)."""
    if destination.is_dir():
        destination = destination / service.backup_name(current_app.config["ROLE"], utcnow())
    with cli_errors():
        done = service.make_backup(db.engine, Base.metadata, Path(current_app.config["DATA_DIR"]), destination,
                                   role=current_app.config["ROLE"], now=utcnow())
    click.echo(f"backup written: {done.path} ({done.bytes / 1e6:.1f} MB): {done.tables} tables, {done.rows} rows, "
               f"{done.files} files")
    if done.missing_photos:
        click.echo(f"warning: {len(done.missing_photos)} photos the database names were not in the data folder "
                   f"(listed in the backup's manifest)", err=True)


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace the data this installation holds (all of it).")
@click.option("--check", "check_only", is_flag=True, help="Only prove the file whole; change nothing.")
@with_appcontext
def restore_command(source: Path, replace: bool, check_only: bool):
    """Restore a backup made by `flask backup`, verified row by row and file by file; devices sync on after it."""
    with cli_errors():
        if check_only:
            manifest = service.check_backup(source, Base.metadata)
            click.echo(f"backup whole: {len(manifest['members'])} members match the manifest")
            return
        done = service.restore_backup(source, restore_target(), replace=replace)
    click.echo(f"restored from {done.path}: {done.tables} tables, {done.rows} rows and {done.files} files, "
               f"each equal to the backup")
    click.echo(f"change numbering moved past the backup: next origin seq {done.next_numbers['origin_seq']}, "
               f"next log position {done.next_numbers['local_seq']}")
