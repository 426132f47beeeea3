"""`flask export ...`: facilities or audits to GeoJSON, GeoPackage, CSV or XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli_support import cli_errors
from app.extensions import db
from geo.mapdata import RESULT_CLASSES, counted_for_role
from geo.problems import GEO_PROBLEMS
from maps import exports
from maps.problems import MAP_PROBLEMS

if TYPE_CHECKING:
    from flask import Flask

export = AppGroup("export", help="Export facilities or audits to GeoJSON, GeoPackage, CSV or XLSX.")


def register(app: Flask) -> None:
    """Add the `export` command group to the app's CLI."""
    app.cli.add_command(export)

def _export_options(command):
    """The options `flask export facilities` and `flask export audits` share."""
    options = [
        click.option("--format", "fmt", metavar="FORMAT", required=True, help="geojson, gpkg, csv or xlsx."),
        click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
                     help="File to write. A CSV of audits with repeats is a ZIP of tables: .zip is added to the name."),
        click.option("--kecamatan", "regions", metavar="CODE", multiple=True,
                     help="Only this kecamatan (or kabupaten/kota) code; repeat for more. Default: all."),
        click.option("--kind", "kinds", metavar="KIND", multiple=True, help="Only this facility kind; repeat for more."),
        click.option("--year", metavar="YEAR", help="Only audits submitted in this year (local time)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@export.command("facilities")
@_export_options
@click.option("--result", "results", metavar="RESULT", multiple=True,
              help="Only facilities whose latest result is memenuhi, belum_memenuhi or none.")
def export_facilities(fmt, out, regions, kinds, year, results):
    """Write active facilities with their latest audit (approved ones on a hub) to OUT."""
    _export("facilities", fmt, out, regions, kinds, year, results)


@export.command("audits")
@_export_options
def export_audits(fmt, out, regions, kinds, year):
    """Write submitted audits with their answers, one column per checklist item, to OUT; repeats as child tables."""
    _export("audits", fmt, out, regions, kinds, year, ())


def _export(what: str, fmt: str, out: Path, regions, kinds, year, results) -> None:
    """Check the arguments, build the table and write it; refusals are bilingual and write nothing."""
    with cli_errors():
        exports.check_format(fmt.lower(), what)
        bad = [r for r in results if r not in RESULT_CLASSES]
        if bad:
            raise GEO_PROBLEMS("export.bad_result", result=bad[0])
        flt = exports.ExportFilter(regions=tuple(regions), kinds=tuple(kinds), year=_year(year), results=tuple(results))
        exports.check_filter(db.session, flt)
        tz = current_app.config["TIMEZONE"]
        if what == "facilities":
            table = exports.facility_table(db.session, flt, counted_for_role(current_app.config["ROLE"]), tz)
        else:
            table = exports.audit_table(db.session, flt, tz)
        out = _out_path(table, fmt.lower(), out)
        written = exports.write(table, fmt.lower(), out)
    children = "".join(f", {len(child.rows)} rows in {child.name}" for child in table.children)
    kind = exports.extension(table, fmt.lower())
    click.echo(f"{out}: {written} {what}, {len(table.columns)} columns{children} ({kind})")


def _out_path(table: exports.Table, fmt: str, out: Path) -> Path:
    """Where the file goes: a CSV that is a ZIP of tables (audits with repeats) gets `.zip` added to its name."""
    if exports.is_zipped(table, fmt) and out.suffix.lower() != ".zip":
        return out.with_name(out.name + ".zip")
    return out


def _year(text: str | None) -> int | None:
    """A year typed on the command line; maps.exports checks its range."""
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise MAP_PROBLEMS("export.bad_year", first=2000, last=2100) from None
