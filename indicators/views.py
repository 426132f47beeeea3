"""Planner pages: the kabupaten/kota dashboard, a kecamatan, an indicator, entering values, points, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import role_required
from app.auth.scope import ADMINS, INDICATOR_EDITORS, PLANNERS
from app.errors import rerenders_too_large, upload_refusal
from app.extensions import db
from app.htmx import render_page
from app.node import self_device_id
from app.problems import AppError
from app.spreadsheets import safe_cell
from app.tx import transactional
from geo import layers, mapdata
from geo.problems import GEO_PROBLEMS
from geo.queries import kabkota_list, wilayah
from indicators import charts, messages, queries
from indicators import report as reports
from indicators.definitions import IndicatorSet, set_for_year, shipped_sets
from indicators.evidence import EvidenceStore
from indicators.models import EntryEvidence
from indicators.problems import INDICATOR_PROBLEMS
from indicators.service import EntryInput, compute_year, enter_value, set_points
from survey.kinds import KINDS
from survey.photos import PhotoStore

bp = Blueprint("indicators", __name__, url_prefix="/indicators")
ENTRY_FIELDS = ("value", "numerator", "denominator", "note", "files")


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def evidence_store() -> EvidenceStore:
    """Evidence files live in the data folder, content-addressed like photos."""
    return EvidenceStore(Path(current_app.config["DATA_DIR"]) / "evidence")


def this_year() -> int:
    return dt.datetime.now(zone()).year


def _region(code: str, level: str):
    region = wilayah(db.session, code)
    if region is None or region.level != level:
        raise GEO_PROBLEMS("wilayah.not_found")
    return region


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise INDICATOR_PROBLEMS("indicators.bad_year/not_found")
    return year


def _set_for_view(year: int) -> IndicatorSet | None:
    """The set a year is computed with, or the one it would be computed with (read-only)."""
    row = queries.year_row(db.session, year)
    return queries.stored_set(db.session, row.set_id) if row else set_for_year(shipped_sets(), year)


def _years() -> list[int]:
    return sorted(set(queries.years(db.session)) | {this_year()}, reverse=True)


@bp.get("/")
@role_required(*PLANNERS)
def index():
    """Straight to the dashboard of the (first) kabupaten/kota for the latest computed year."""
    regions = kabkota_list(db.session)
    if not regions:
        return render_page("indicators/none.html")
    computed = queries.years(db.session)
    return redirect(url_for("indicators.dashboard", code=regions[0].code, year=computed[0] if computed else this_year()))


@bp.get("/<code>/<int:year>")
@role_required(*PLANNERS)
def dashboard(code: str, year: int):
    """A kabupaten/kota's year: indicators by cluster, projected total and predicate, gains, coverage, last year."""
    region = _region(code, "kabkota")
    built = reports.build(db.session, region, _year(year), zone())
    context = {"region": region, "year": year, "years": _years(), "report": built, "kabkota": kabkota_list(db.session)}
    if built is not None:
        projection = built.projection
        previous_total = built.previous_projection.total if built.previous_projection else None
        context.update(
            scale=charts.band_scale(projection.total, previous_total),
            cluster_bars=charts.hbars([(_(messages.GROUP_SHORT[g.code]), g.earned, g.points) for g in built.groups]),
            coverage_bars=charts.hbars([(c.kecamatan.name, c.audited, c.facilities) for c in built.coverage], "coverage"),
            kecamatan_values=reports.kecamatan_values(db.session, built))
    return render_page("indicators/dashboard.html", **context)


@bp.get("/kecamatan/<code>/<int:year>")
@role_required(*PLANNERS)
def kecamatan(code: str, year: int):
    """One kecamatan's year: every indicator's value and its facilities with the audits that count."""
    region = _region(code, "kecamatan")
    built = reports.build(db.session, region, _year(year), zone())
    standing = reports.facility_standing(db.session, [region.code], year, zone()) if built else []
    return render_page("indicators/kecamatan.html", region=region, year=year, report=built, standing=standing,
                       years=_years(), kinds=KINDS)


@bp.get("/<code>/<int:year>/<int:number>")
@role_required(*PLANNERS)
def indicator(code: str, year: int, number: int):
    """One indicator in a kabupaten/kota: per kecamatan, its facilities or entries, the evidence package."""
    region = _region(code, "kabkota")
    built = reports.build(db.session, region, _year(year), zone())
    if built is None:
        return redirect(url_for("indicators.dashboard", code=code, year=year))
    try:
        row = built.row(number)
    except StopIteration:
        raise INDICATOR_PROBLEMS("indicators.unknown_indicator", number=number) from None
    kecamatan_values = reports.kecamatan_values(db.session, built)
    entries = queries.entries_of(db.session, built.indicator_set.id, year, [k.code for k in built.kecamatan])
    standing = []
    if row.indicator.is_facility:
        standing = reports.facility_standing(db.session, [k.code for k in built.kecamatan], year, zone(),
                                             row.indicator.formula.facility_kinds)
    bars = charts.hbars([(k.name, getattr(kecamatan_values.get((number, k.code)), "value", None),
                          row.indicator.target_for("kecamatan")) for k in built.kecamatan])
    per_kecamatan = "kecamatan" in row.indicator.levels  # entered for the kabupaten/kota only: no map
    has_map = per_kecamatan and layers.boundary_count(db.session, region.code, "kecamatan") > 0
    legend = mapdata.legend_data(charts.achievement_classes(), _, no_data=_("no value"))
    return render_page("indicators/indicator.html", region=region, year=year, report=built, row=row,
                       kecamatan_values=kecamatan_values, entries=entries, standing=standing, bars=bars,
                       has_map=has_map, map_legend=legend, per_kecamatan=per_kecamatan)


@bp.post("/compute")
@role_required(*PLANNERS)
@transactional
def compute():
    """Recompute a year now (the hub also recomputes by itself on every review)."""
    code = request.form.get("code", "")
    try:
        year = int(request.form.get("year", ""))
    except ValueError:
        raise INDICATOR_PROBLEMS("indicators.bad_year") from None
    summary = compute_year(db.session, year, zone())
    flash(_("Indicators for %(year)s recomputed.", year=summary.year), "success")
    return redirect(url_for("indicators.dashboard", code=code, year=year) if code else url_for("indicators.index"))


@bp.route("/entry/<code>/<int:year>/<int:number>", methods=["GET", "POST"])
@role_required(*INDICATOR_EDITORS)
@transactional(lock=("POST",))
@rerenders_too_large
def entry(code: str, year: int, number: int):
    """Enter or correct a value for a kecamatan or the kabupaten/kota, with a note and evidence files."""
    region = wilayah(db.session, code)
    if region is None or region.level not in ("kecamatan", "kabkota"):
        raise GEO_PROBLEMS("wilayah.not_found")
    indicator_set = _set_for_view(_year(year))
    if indicator_set is None:
        raise INDICATOR_PROBLEMS("indicators.no_set/not_found", year=year)
    try:
        indicator = indicator_set.indicator(number)
    except KeyError:
        raise INDICATOR_PROBLEMS("indicators.unknown_indicator", number=number) from None
    kabkota_code = region.code if region.level == "kabkota" else region.parent_code
    existing = queries.entries_of(db.session, indicator_set.id, year, [region.code]).get((number, region.code))
    form = {"value": "", "numerator": "", "denominator": "", "note": ""}
    if existing:
        form.update(value=_plain(existing.value), numerator=_plain(existing.numerator),
                    denominator=_plain(existing.denominator), note=existing.note)
    errors: dict[str, str] = {}
    too_large = upload_refusal() if request.method == "POST" else None
    if too_large:  # the body was refused unread: nothing typed came with it, the message goes beside the files
        errors["files"] = too_large
    elif request.method == "POST":
        form.update({k: request.form.get(k, "") for k in form})
        uploads = tuple((f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename)
        try:
            enter_value(db.session, EntryInput(year, number, region.code, form["value"], form["numerator"],
                                               form["denominator"], form["note"], uploads),
                        evidence_store(), current_app.config["MAX_CONTENT_LENGTH"], zone(),
                        user_id=current_user.id, device_id=self_device_id(db.session))
        except AppError as error:
            db.session.rollback()
            # Beside its field; a problem of the whole entry (level, indicator) beside the value.
            errors[error.field if error.field in ENTRY_FIELDS else "value"] = _(error.message, **error.params)
        else:
            flash(_("Value saved for %(region)s.", region=region.name), "success")
            return redirect(url_for("indicators.indicator", code=kabkota_code, year=year, number=number))
    return render_page("indicators/entry.html", region=region, year=year, indicator=indicator, form=form,
                       errors=errors, existing=existing, kabkota_code=kabkota_code), (
                           413 if too_large else 422 if errors else 200)


@bp.get("/evidence/<entry_id>/<sha256>")
@role_required(*PLANNERS)
def evidence_file(entry_id: str, sha256: str):
    """Download an evidence file under the name it was uploaded with."""
    found = queries.entry(db.session, entry_id)
    link = db.session.get(EntryEvidence, (found.id, sha256)) if found else None
    if link is None:
        raise INDICATOR_PROBLEMS("evidence.not_found")
    path = evidence_store().path(link.sha256, link.file.extension)
    return send_file(path, mimetype=link.file.mime, as_attachment=True, download_name=link.filename)


@bp.route("/points/<set_id>", methods=["GET", "POST"])
@role_required(*ADMINS)
@transactional(lock=("POST",))
def points(set_id: str):
    """An administrator edits the points of a set (they must total 1000); every change is audit-logged."""
    indicator_set = queries.stored_set(db.session, set_id)
    if indicator_set is None:
        raise INDICATOR_PROBLEMS("indicators.unknown_set", set_id=set_id)
    current = queries.points_of(db.session, set_id)
    values = {n: str(p) for n, p in current.items()}
    error = None
    if request.method == "POST":
        values = {i.number: request.form.get(f"points_{i.number}", "") for i in indicator_set.indicators}
        try:
            changed = set_points(db.session, set_id, values, user_id=current_user.id, device_id=self_device_id(db.session))
        except AppError as problem:
            db.session.rollback()
            error = _(problem.message, **problem.params)
        else:
            flash(_("Points saved (%(n)s changed).", n=changed), "success")
            return redirect(url_for("indicators.points", set_id=set_id))
    return render_page("indicators/points.html", indicator_set=indicator_set, values=values, error=error), (422 if error else 200)


@bp.get("/<code>/<int:year>/export.<fmt>")
@role_required(*PLANNERS)
def export(code: str, year: int, fmt: str):
    """The indicator table as CSV or XLSX: the kabupaten/kota and every kecamatan."""
    region = _region(code, "kabkota")
    built = reports.build(db.session, region, _year(year), zone())
    if built is None or fmt not in ("csv", "xlsx"):
        raise INDICATOR_PROBLEMS("indicators.not_computed")
    header, rows = export_table(built, reports.kecamatan_values(db.session, built))
    name = f"indikator-kla-{region.code}-{year}.{fmt}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        data = io.BytesIO(("\ufeff" + buffer.getvalue()).encode("utf-8"))  # BOM: Excel reads it as UTF-8
        return send_file(data, mimetype="text/csv", as_attachment=True, download_name=name)
    return send_file(io.BytesIO(xlsx_bytes(built, header, rows)), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def export_table(built: reports.Report, kecamatan_values: dict) -> tuple[list[str], list[list]]:
    """Header and rows of the indicator table, in the user's language; numbers stay numbers."""
    locale = _locale()
    header = [_("No."), _("Group"), _("Indicator"), _("Source"), _("Obtained"), _("Unit"), _("Target"), _("Points"),
              _("Value"), _("Numerator"), _("Denominator"), _("Points earned"), _("Value last year")]
    header = [safe_cell(cell) for cell in [*header, *(f"{k.name} ({k.code})" for k in built.kecamatan)]]
    rows = []
    for row in built.rows:
        indicator = row.indicator
        value = row.value
        line = [indicator.number, _(messages.GROUPS[indicator.group]), indicator.name.get(locale),
                _(messages.SOURCE_STATUSES[indicator.source_status]), _(messages.OBTAINED[indicator.obtained]),
                _(messages.UNITS[indicator.unit]), row.target, row.points, _cell(value and value.value),
                _cell(value and value.numerator), _cell(value and value.denominator), round(row.earned, 2),
                _cell(row.previous and row.previous.value)]
        line += [_cell(getattr(kecamatan_values.get((indicator.number, k.code)), "value", None)) for k in built.kecamatan]
        rows.append([safe_cell(cell) for cell in line])  # names come from files and hubs: never a formula
    return header, rows


def xlsx_bytes(built: reports.Report, header: list[str], rows: list[list]) -> bytes:
    """A workbook: the indicator table, and audit coverage per kecamatan."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Indicators")[:31]
    sheet.append([safe_cell(f"{built.region.name} {built.year} · {built.indicator_set.title.get(_locale())}")])
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for line in rows:
        sheet.append(line)
    sheet.append([])
    sheet.append([_("Projected total"), built.projection.total, _(messages.BANDS[built.projection.predicate])])
    sheet.column_dimensions["C"].width = 60
    coverage = book.create_sheet(_("Audit coverage")[:31])
    coverage.append([_("Kecamatan"), _("Code"), _("Facilities with an approved audit"), _("Facilities")])
    for row in built.coverage:
        coverage.append([safe_cell(cell) for cell in (row.kecamatan.name, row.kecamatan.code, row.audited, row.facilities)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value):
    return "" if value is None else round(value, 4)


def _plain(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "id")


@bp.get("/<code>/<int:year>/<int:number>/evidence.zip")
@role_required(*PLANNERS)
def evidence_package(code: str, year: int, number: int):
    """Download the evidence package of an indicator (report with original photos or evidence files)."""
    import tempfile

    from indicators import package

    region = _region(code, "kabkota")
    # Spooled: a package with many photos goes to a temporary file, not memory; it is gone when sent.
    spool = tempfile.SpooledTemporaryFile(max_size=32 << 20, dir=current_app.config["DATA_DIR"])
    try:
        package.write(db.session, region, _year(year), number, zone(),
                      PhotoStore(Path(current_app.config["DATA_DIR"]) / "photos"), spool, _locale())
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return send_file(spool, mimetype="application/zip", as_attachment=True,
                     download_name=f"bukti-kla-{region.code}-{year}-indikator-{number}.zip")


@bp.get("/<code>/<int:year>/<int:number>/map.geojson")
@role_required(*PLANNERS)
def map_geojson(code: str, year: int, number: int):
    """The indicator per kecamatan as a choropleth (geo.layers.choropleth_layer), classed by share of target."""
    import json

    from flask import Response
    from flask_babel import format_decimal

    from indicators.engine import achievement

    region = _region(code, "kabkota")
    built = reports.build(db.session, region, _year(year), zone())
    if built is None:
        raise INDICATOR_PROBLEMS("indicators.not_computed")
    try:
        indicator = built.row(number).indicator
    except StopIteration:
        raise INDICATOR_PROBLEMS("indicators.unknown_indicator", number=number) from None
    values = reports.kecamatan_values(db.session, built)
    names = {k.code: k.name for k in built.kecamatan}
    shares, numbers = {}, {}
    for k in built.kecamatan:
        value = values.get((number, k.code))
        numbers[k.code] = value
        shares[k.code] = None if value is None or value.value is None else achievement(indicator, value.value, "kecamatan")

    def label(kecamatan_code: str, share) -> str:
        value = numbers[kecamatan_code]
        if share is None:
            return f"{names[kecamatan_code]}: {_('no value')}"
        shown = format_decimal(value.value, "#,##0.#") + (" %" if indicator.unit == "percent" else "")
        counts = f" ({format_decimal(value.numerator, '#,##0')}/{format_decimal(value.denominator, '#,##0')})" \
            if value.denominator is not None else ""
        return f"{names[kecamatan_code]}: {shown}{counts}"

    collection = layers.choropleth_layer(db.session, region.code, mapdata.classed_values(shares, charts.achievement_classes(), label))
    response = Response(json.dumps(collection, separators=(",", ":"), ensure_ascii=False), mimetype="application/geo+json")
    response.headers["Cache-Control"] = "no-store"
    return response
