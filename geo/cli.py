"""`flask geo ...`: import kecamatan and desa/kelurahan boundaries, locate a point (survey adds `relocate`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from app.cli_support import cli_errors, write_transaction
from app.extensions import db
from geo.coordinates import check_position
from geo.problems import GEO_PROBLEMS
from geo.service import LOCATED_LEVELS, LocateReport, import_boundaries, locate_position

if TYPE_CHECKING:
    from flask import Flask

geo = AppGroup("geo", help="Import boundaries, locate points in kecamatan and desa/kelurahan.")


def register(app: Flask) -> None:
    """Add the `geo` command group to the app's CLI."""
    app.cli.add_command(geo)


@geo.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--level", type=click.Choice(LOCATED_LEVELS), required=True, help="What the file holds.")
@click.option("--code-field", metavar="F", help="Field with the Kemendagri code; default: kode_kec / kode_desa, "
                                                 "KDCPUM / KDEPUM, ... (see geo/boundaries.py).")
@click.option("--name-field", metavar="F", help="Field with the name; default: nama_kec / nama_desa, "
                                                 "WADMKC / WADMKD, ...")
@click.option("--parent-field", metavar="F", help="Field with the parent's code, checked against the codes; "
                                                   "default: kode_kabkota / kode_kec when present.")
@click.option("--layer", metavar="L", help="Layer of a GeoPackage, or Shapefile name inside a zip; default: the first.")
@click.option("--note", metavar="TEXT", help="Where the boundaries come from, stored with each one; "
                                             "default: 'imported from FILE'.")
def import_command(file: Path, level, code_field, name_field, parent_field, layer, note):
    """Import kecamatan or desa/kelurahan boundaries from FILE (GeoJSON, Shapefile, .zip, GeoPackage)."""
    # The GIS stack loads here, for this command only: never when the app starts or serves a request.
    from geo.boundaries import read_boundaries

    with cli_errors():
        boundary_file = read_boundaries(file, level, code_field=code_field, name_field=name_field,
                                        parent_field=parent_field, layer=layer)
        with write_transaction() as session:
            report = import_boundaries(session, boundary_file, level, note or f"imported from {file.name}")
    click.echo(f"{report.source}: {report.features} {level}, {report.area_km2:.1f} km²: {report.created} created, "
               f"{report.updated} updated, {report.unchanged} unchanged")
    if report.parents_created:
        click.echo(f"created above them: {', '.join(report.parents_created)}")
    for repair in report.repairs:
        click.echo(f"repaired: {repair}")
    for line in report.notes:
        click.echo(f"note: {line}")
    echo_located(report.located)


@geo.command("locate", context_settings={"ignore_unknown_options": True})  # so that -6.11 is a number
@click.argument("lon")
@click.argument("lat")
def locate_command(lon: str, lat: str):
    """Print the kecamatan and desa/kelurahan at longitude LON, latitude LAT (e.g. 106.1653 -6.1111)."""
    with cli_errors():
        lon_value, lat_value = _number(lon), _number(lat)
        check_position(lat_value, lon_value)
        found = locate_position(db.session, lon_value, lat_value)
        if not found:
            raise GEO_PROBLEMS("geo.no_boundaries")
    regions = [found[level] for level in LOCATED_LEVELS if found.get(level) is not None]
    for region in regions:
        click.echo(f"{region.code} {region.name}")
    if not regions:
        click.echo("outside")


def _number(text: str) -> float:
    """A finite decimal number typed on the command line (a comma is taken as the decimal point)."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise GEO_PROBLEMS("geo.bad_coordinates")
    return value


def echo_located(report: LocateReport) -> None:
    """One line on the facilities located."""
    click.echo(f"facilities: {report.facilities} with a position, {report.in_kecamatan} in a kecamatan, "
               f"{report.outside} outside every kecamatan, {report.mismatched} in another kecamatan than "
               f"registered, {report.changed} changed")
