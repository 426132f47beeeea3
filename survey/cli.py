"""`flask checklists ...`: import XLSForm workbooks as checklist files and list installed ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.cli_support import cli_errors, write_transaction
from app.files import write_atomic
from geo.cli import echo_located, geo
from survey.catalog import queries as catalog_queries
from survey.catalog.models import ChecklistRelease
from survey.checklist import (ALL_FACILITIES, FACILITY_KINDS, Checklist, ChecklistError, dump_checklist_yaml,
                              load_checklist, load_directory)
from survey.facilities.locating import relocate
from survey.registry import SHIPPED, imported_dir

if TYPE_CHECKING:
    from flask import Flask

checklists = AppGroup("checklists", help="Import XLSForm checklists and list installed checklists.")


def register(app: Flask) -> None:
    """Add the `checklists` command group to the app's CLI (`relocate` joins geo's group where it is defined)."""
    app.cli.add_command(checklists)


# Under `flask geo`, where users look for it beside `import` and `locate`; it moves facilities, so it lives here.
@geo.command("relocate")
def relocate_command():
    """Locate every facility again in the loaded boundaries; report those outside their registered kecamatan."""
    with cli_errors(), write_transaction() as session:
        report = relocate(session)
    echo_located(report)


@checklists.command("import")
@click.argument("form", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "checklist_id", metavar="ID", help="Checklist id; default: form_id in settings.")
@click.option("--version", type=click.IntRange(min=1), metavar="N",
              help="Version number; default: version in settings, else 1.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice((*FACILITY_KINDS, ALL_FACILITIES)),
              help="Facility kind the checklist is for (repeatable); default: all.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder to write to; default: DATA_DIR/checklists.")
@click.option("--attach", "attachments", multiple=True, metavar="FILE.csv",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A CSV the form names (select_one_from_file, pulldata, csv-external); repeatable.")
def import_command(form: Path, checklist_id, version, kinds, out, attachments):
    """Import XLSForm workbook FORM as <id>-v<version>.yaml, or refuse it changing nothing."""
    from survey.xlsform import XLSFormError, import_xlsform  # pyxform with it: not for every other command

    try:
        result = import_xlsform(form, checklist_id=checklist_id, version=version,
                                facility_kinds=kinds or None, attachments={p.name: p for p in attachments})
    except XLSFormError as error:
        raise click.ClickException(f"[{error.code}] {error.indonesian()} / {error.english()}") from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    checklist = result.checklist
    folder = out or imported_dir()
    name = f"{checklist.id}-v{checklist.version}.yaml"
    for existing in (SHIPPED / name, folder / name):
        if existing.is_file():
            if _holds(existing, checklist):
                click.echo(f"{checklist.key} already installed / sudah terpasang: {existing}")
                return
            raise click.ClickException(
                f"[checklist.version_exists] {checklist.key} sudah ada di {existing} dengan isi "
                f"berbeda; versi yang terpasang tidak pernah diubah, impor sebagai versi baru "
                f"(--version) / {checklist.key} already exists in {existing} with different "
                f"content; an installed version never changes, import it as a new version "
                f"(--version)")
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(folder / name, dump_checklist_yaml(checklist))
    click.echo(f"{checklist.key}: {_count(len(checklist.items), 'item')} in "
               f"{_count(len(checklist.sections), 'section')} written to {folder / name}")


@checklists.command("list")
def list_command():
    """List installed checklists: id@version, kinds, sections/items, title, origin (and catalog state)."""
    shipped_keys = set()
    for origin, folder in (("shipped", SHIPPED), ("imported", imported_dir())):
        for file_name, loaded in _load_folder(folder):
            if isinstance(loaded, ChecklistError):
                click.echo(f"{file_name}  BROKEN  {' '.join(str(loaded).split())}  {origin}")
                continue
            label = origin
            if origin == "shipped":
                shipped_keys.add(loaded.key)
            elif loaded.key in shipped_keys:
                label = "imported (shadowed by shipped)"
            click.echo(f"{loaded.key}  {','.join(loaded.facility_kinds)}  "
                       f"{len(loaded.sections)}/{len(loaded.items)}  {loaded.title.id}  {label}")
    _list_catalog(shipped_keys)


def _list_catalog(file_keys: set[str]) -> None:
    """The catalog's versions (survey.catalog): drafts imported on this hub, versions published or retired here or
    received from the hub, with their state; a file version the catalog published shows its state too."""
    with write_transaction() as session:
        releases = session.execute(select(ChecklistRelease).order_by(ChecklistRelease.checklist_id,
                                                                     ChecklistRelease.version)).scalars().all()
        for release in releases:
            checklist = catalog_queries.version_checklist(session, release.key)
            if checklist is None:
                click.echo(f"{release.key}  {release.state}  (text not held here)  catalog")
                continue
            origin = "catalog (shipped file)" if release.key in file_keys else "catalog"
            click.echo(f"{release.key}  {','.join(checklist.facility_kinds)}  "
                       f"{len(checklist.sections)}/{len(checklist.items)}  {checklist.title.id}  {origin}: {release.state}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _holds(path: Path, checklist: Checklist) -> bool:
    """Whether a checklist file holds exactly this checklist (comments and layout aside)."""
    try:
        return load_checklist(path) == checklist
    except ChecklistError:
        return False


def _write_atomically(path: Path, text: str) -> None:
    """Write a file whole or not at all: a temporary file in the same folder, then os.replace."""
    write_atomic(path, text.encode("utf-8"))


def _load_folder(folder: Path) -> list[tuple[str, Checklist | ChecklistError]]:
    """(file name, checklist or its error) for every checklist file in a folder."""
    if not folder.is_dir():
        return []
    try:
        return [(f"{c.id}-v{c.version}.yaml", c) for c in load_directory(folder).values()]
    except ChecklistError:
        pass  # load_directory stops at the first broken file; load one by one to show each
    entries: list[tuple[str, Checklist | ChecklistError]] = []
    for file in sorted(folder.glob("*.y*ml")):
        try:
            checklist = load_checklist(file)
            if file.name != f"{checklist.id}-v{checklist.version}.yaml":
                raise ChecklistError("checklist.filename_mismatch",
                                     f"file holds {checklist.key}, so it must be named "
                                     f"{checklist.id}-v{checklist.version}.yaml", file.name)
            entries.append((file.name, checklist))
        except ChecklistError as error:
            entries.append((file.name, error))
    return entries
