"""`flask indicators ...` and `flask evidence export`: compute a year, check a set file, export evidence."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli_support import bilingual, cli_errors, write_transaction
from app.extensions import db
from geo.problems import GEO_PROBLEMS
from geo.queries import kabkota_list, wilayah
from indicators.definitions import load_file, shipped_sets
from indicators.problems import INDICATOR_PROBLEMS, IndicatorSetError
from survey import demo as app_demo
from survey.photos import PhotoStore

if TYPE_CHECKING:
    from flask import Flask

indicators = AppGroup("indicators", help="Compute the KLA indicators and check indicator set files.")
evidence = AppGroup("evidence", help="Export evidence packages for the KLA evaluation.")


def register(app: Flask) -> None:
    """Add the `indicators` and `evidence` command groups."""
    app.cli.add_command(indicators)
    app.cli.add_command(evidence)


@contextlib.contextmanager
def set_errors():
    """A bad set file is printed with where it went wrong, in Indonesian and English."""
    try:
        yield
    except IndicatorSetError as error:
        raise click.ClickException(f"{error.location}: {bilingual(error)}") from None


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


@indicators.command("compute")
@click.option("--year", type=int, required=True, help="Evaluation year, e.g. 2026.")
@click.option("--set", "set_id", metavar="ID", help="Compute the year with this set (default: the set it has, else the newest that applies).")
def compute_command(year, set_id):
    """Recompute every indicator value of YEAR from approved audits and entered values."""
    from indicators.service import compute_year

    with set_errors(), cli_errors(), write_transaction() as session:
        summary = compute_year(session, year, zone(), set_id)
    click.echo(f"{summary.year}: set {summary.set_id}, {len(summary.kabkota)} kabupaten/kota, {summary.values} values")


@indicators.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_command(file):
    """Check an indicator set file; print its indicators or what is wrong with it."""
    with set_errors():
        loaded = load_file(file)
    click.echo(f"{loaded.id}: {len(loaded.indicators)} indicators, {sum(i.points for i in loaded.indicators)} points, "
               f"applies from {loaded.applies_from}")


@indicators.command("sets")
def sets_command():
    """List the shipped indicator sets."""
    with set_errors():
        for loaded in shipped_sets():
            click.echo(f"{loaded.id}\tfrom {loaded.applies_from}\t{len(loaded.indicators)} indicators\t{loaded.sha256[:12]}")


@evidence.command("export")
@click.option("--indicator", "number", type=int, required=True, help="Indicator number, e.g. 18 (SRA).")
@click.option("--year", type=int, required=True, help="Evaluation year.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The zip file to write.")
@click.option("--kabkota", metavar="CODE", help="Kabupaten/kota code (default: the only one loaded).")
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True, help="Language of the report.")
def export_command(number, year, out, kabkota, lang):
    """Write the evidence package (report and original photos) of indicator N in YEAR to FILE."""
    from indicators import package

    with cli_errors():
        if kabkota:
            region = wilayah(db.session, kabkota)
            if region is None or region.level != "kabkota":
                raise GEO_PROBLEMS("wilayah.not_found/cli")
        else:
            regions = kabkota_list(db.session)
            if len(regions) != 1:
                raise INDICATOR_PROBLEMS("evidence.kabkota_required", n=len(regions))
            region = regions[0]
        out = out.resolve()
        temp = out.with_name(f".{out.name}.tmp")
        try:
            with temp.open("wb") as stream:
                package.write(db.session, region, year, number, zone(),
                              PhotoStore(Path(current_app.config["DATA_DIR"]) / "photos"), stream, lang)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temp, out)  # the named file is whole or absent
        finally:
            temp.unlink(missing_ok=True)
    click.echo(f"{out}: {out.stat().st_size} bytes")


@indicators.command("demo")
@click.option("--if-missing", is_flag=True, help="Do nothing (and succeed) when the indicators are already computed.")
def demo_command(if_missing: bool):
    """In demo mode: add sample approved audits (this year and last) and entered values, and compute both years."""
    from sqlalchemy import func, select

    from indicators import demo as indicator_demo
    from indicators.models import IndicatorYear

    with cli_errors(), write_transaction() as session:
        if not current_app.config["DEMO"] or not app_demo.is_seeded(session):
            raise INDICATOR_PROBLEMS("indicators.demo_only")
        if session.execute(select(func.count()).select_from(IndicatorYear)).scalar():
            if if_missing:
                click.echo("demo: indicators already computed, nothing added")
                return
            raise INDICATOR_PROBLEMS("indicators.demo_loaded")
        added = indicator_demo.seed(session)
    click.echo(f"demo: {added} facilities audited and approved, indicators computed")
