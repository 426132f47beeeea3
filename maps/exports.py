"""Exports for planners and the yearly KLA evaluation: facilities with their latest audit, audits with their answers.

Formats: GeoJSON and CSV (standard library), XLSX (openpyxl), GeoPackage (geopandas with pyogrio, one layer
per facility kind, for QGIS). geopandas is imported only inside the GeoPackage writer: a field device
never loads it on a request path. Never commits; reads only.

Repeats, as ODK Central exports them: the audit table keeps one row per audit with the items outside repeats
and a `KEY` (the audit id); each repeat of an exported checklist is a child table with one row per instance,
`KEY` (audit id + `/alat[2]`, nested `/trees[1]/stems[3]`) and `PARENT_KEY` (the audit's KEY, or the KEY of
the instance it sits in). XLSX: one sheet per table; CSV: a ZIP of one CSV per table (only when there are
child tables, so a plain CSV stays a plain CSV); GeoPackage: child tables as attribute tables without
geometry (join them to the audit layers by KEY); GeoJSON: one feature per audit, each child table's rows of
that audit as an array property named after the table.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from app.auth.models import User
from app.spreadsheets import clean_value, safe_cell
from geo.mapdata import year_period
from geo.models import Wilayah
from maps.problems import MAP_PROBLEMS
from survey import registry
from survey.audits.models import Answer, AnswerPhoto, Audit
from survey.audits.queries import awaiting_review, latest_results
from survey.checklist import Checklist, Container, Item
from survey.facilities.models import Facility
from survey.form import FormState, address_of, compute, instance_key
from survey.kinds import KIND_CODES, kind_label

FORMATS = ("geojson", "gpkg", "csv", "xlsx")


def available_formats() -> tuple[str, ...]:
    """The formats this installation can write: GeoPackage needs the GIS stack, which the desktop build leaves out."""
    import importlib.util

    return FORMATS if importlib.util.find_spec("geopandas") is not None else tuple(f for f in FORMATS if f != "gpkg")
WHATS = ("facilities", "audits")
MIMETYPES = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3", "csv": "text/csv",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FIRST_YEAR, LAST_YEAR = 2000, 2100

FACILITY_COLUMNS = (
    "facility_id", "name", "kind", "kind_label", "official_id", "address", "kecamatan_code", "kecamatan_name",
    "desa_code", "desa_name", "located_kecamatan_code", "kecamatan_mismatch", "verified", "lat", "lon",
    "latest_result", "latest_score", "latest_checklist", "latest_audit_id", "latest_audit_date", "latest_auditor",
    "latest_review_status", "results_by_checklist", "audits_awaiting_review",
)
AUDIT_COLUMNS = (
    "audit_id", "facility_id", "facility_name", "kind", "kecamatan_code", "kecamatan_name", "checklist",
    "checklist_version", "revision", "revision_of", "auditor", "auditor_username", "audit_date", "submitted_at",
    "score", "result", "review_status", "review_comment", "lat", "lon", "position_source", "accuracy_m",
)
# A repeat instance's row starts with these, then one column per item of the repeat (`checklist.item`).
CHILD_COLUMNS = ("KEY", "PARENT_KEY", "audit_id", "checklist", "instance")
SHEET_TITLE_MAX = 31  # Excel's limit on a sheet name


@dataclass(frozen=True)
class ExportFilter:
    """Which rows to export: a region (kabupaten/kota or kecamatan codes), facility kinds, a year of audits."""

    regions: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    year: int | None = None
    results: tuple[str, ...] = ()  # facilities only: memenuhi, belum_memenuhi, none


@dataclass
class Table:
    """Rows to write: every row has every column, plus lat/lon for the geometry and kind for GeoPackage layers.

    An audit table has a child table per repeat (`children`): rows of repeat instances, without position.
    """

    name: str
    columns: list[str]
    rows: list[dict] = field(default_factory=list)
    children: list[Table] = field(default_factory=list)
    checklist: str | None = None  # a child table: the checklist whose repeat it holds


def child_name(checklist_id: str, repeat_id: str) -> str:
    """A child table's name, as ODK names a repeat's CSV: ids hold no '-', so the name is unambiguous."""
    return f"audits-{checklist_id}-{repeat_id}"


def is_zipped(table: Table, fmt: str) -> bool:
    """Whether the file is a ZIP of tables: a CSV export with child tables."""
    return fmt == "csv" and bool(table.children)


def extension(table: Table, fmt: str) -> str:
    """The file name's extension for this table in this format (`csv.zip` as ODK Central names its CSV ZIP)."""
    return "csv.zip" if is_zipped(table, fmt) else fmt


def mimetype(table: Table, fmt: str) -> str:
    """The Content-Type of this table's file in this format."""
    return "application/zip" if is_zipped(table, fmt) else MIMETYPES[fmt]


def check_filter(session: Session, flt: ExportFilter) -> None:
    """Refuse unknown region codes, kinds and years with a clear message."""
    for code in flt.regions:
        region = session.get(Wilayah, code)
        if region is None or region.level not in ("kabkota", "kecamatan"):
            raise MAP_PROBLEMS("export.unknown_region", region=code)
    for kind in flt.kinds:
        if kind not in KIND_CODES:
            raise MAP_PROBLEMS("export.bad_kind", kind=kind, kinds=", ".join(KIND_CODES))
    if flt.year is not None and not FIRST_YEAR <= flt.year <= LAST_YEAR:
        raise MAP_PROBLEMS("export.bad_year", first=FIRST_YEAR, last=LAST_YEAR)


def check_format(fmt: str, what: str = "facilities") -> None:
    """Refuse an unknown format or export."""
    if what not in WHATS:
        raise MAP_PROBLEMS("export.bad_what", what=what)
    if fmt == "gpkg" and fmt not in available_formats():
        raise MAP_PROBLEMS("export.gpkg_unavailable")
    if fmt not in FORMATS:
        raise MAP_PROBLEMS("export.bad_format", format=fmt, formats=", ".join(FORMATS))


def facility_table(session: Session, flt: ExportFilter, counted: str, tz: str) -> Table:
    """Active facilities with their latest counted audit (within the year, when one is given)."""
    facilities = list(session.execute(_facility_select(flt).options(
        joinedload(Facility.kecamatan), joinedload(Facility.desa))).scalars())
    ids = [f.id for f in facilities]
    period = year_period(flt.year, tz) if flt.year else None
    latest = latest_results(session, ids, counted, period) if ids else {}
    waiting = awaiting_review(session, ids) if ids else {}
    audits = _audits_by_id(session, [r.audit_id for r in latest.values() if r.audit_id])
    table = Table("facilities", list(FACILITY_COLUMNS))
    zone = ZoneInfo(tz)
    for f in facilities:
        result = latest.get(f.id)
        if flt.results and (result.result if result else "none") not in flt.results:
            continue
        audit = audits.get(result.audit_id) if result else None
        table.rows.append({
            "facility_id": str(f.id), "name": f.name, "kind": f.kind, "kind_label": kind_label(f.kind),
            "official_id": f.official_id, "address": f.address, "kecamatan_code": f.kecamatan_code,
            "kecamatan_name": f.kecamatan.name, "desa_code": f.desa_code, "desa_name": f.desa.name if f.desa else None,
            "located_kecamatan_code": f.located_kecamatan_code, "kecamatan_mismatch": f.kecamatan_mismatch,
            "verified": f.verified, "lat": f.lat, "lon": f.lon,
            "latest_result": result.result if result else None,
            "latest_score": _round(result.score) if result else None,
            "latest_checklist": audit.checklist_id if audit else None,
            "latest_audit_id": str(audit.id) if audit else None,
            "latest_audit_date": _local_date(audit.submitted_at, zone) if audit else None,
            "latest_auditor": _person(audit.auditor) if audit else None,
            "latest_review_status": result.review_status if result else None,
            "results_by_checklist": "; ".join(f"{cid}: {r or '-'}" for cid, r in sorted(result.checklists.items()))
            if result else None,
            "audits_awaiting_review": waiting.get(f.id, 0),
        })
    return table


def audit_table(session: Session, flt: ExportFilter, tz: str) -> Table:
    """Submitted audits with their answers, one column per checklist item outside repeats (`checklist.item`), in
    checklist order; a child table per repeat with a row per instance."""
    stmt = (select(Audit).join(Facility, Facility.id == Audit.facility_id).where(Audit.status == "submitted")
            .options(joinedload(Audit.facility).joinedload(Facility.kecamatan), joinedload(Audit.auditor))
            .where(*_facility_conditions(flt)).order_by(Audit.submitted_at, Audit.id))
    if flt.year:
        start, end = year_period(flt.year, tz)
        stmt = stmt.where(Audit.submitted_at >= start, Audit.submitted_at < end)
    audits = list(session.execute(stmt).unique().scalars())
    values, photos = _answers(session, [a.id for a in audits])
    checklists = {key: registry.for_audit(session, key) for key in sorted({a.checklist_key for a in audits})}
    item_columns: dict[str, None] = {}
    children: dict[str, Table] = {}
    for checklist in checklists.values():
        for item in checklist.items:
            if item.type != "note" and not checklist.repeats_of(item):
                item_columns.setdefault(f"{checklist.id}.{item.id}")
        _add_child_tables(checklist, children)
    table = Table("audits", [*AUDIT_COLUMNS, *item_columns, "KEY"], children=list(children.values()))
    zone = ZoneInfo(tz)
    for a in audits:
        f = a.facility
        row = {
            "audit_id": str(a.id), "facility_id": str(f.id), "facility_name": f.name, "kind": f.kind,
            "kecamatan_code": f.kecamatan_code, "kecamatan_name": f.kecamatan.name, "checklist": a.checklist_id,
            "checklist_version": int(a.checklist_key.split("@")[1]), "revision": a.revision,
            "revision_of": str(a.revision_of) if a.revision_of else None, "auditor": _person(a.auditor),
            "auditor_username": a.auditor.username if a.auditor else None,
            "audit_date": _local_date(a.submitted_at, zone), "submitted_at": _local_time(a.submitted_at, zone),
            "score": _round(a.score), "result": a.result, "review_status": a.review_status,
            "review_comment": a.review_comment,
            # Where the audit was made; the facility's registered position when none was recorded.
            "lat": a.lat if a.lat is not None else f.lat, "lon": a.lon if a.lon is not None else f.lon,
            "position_source": a.position_source if a.lat is not None else ("facility" if f.lat is not None else None),
            "accuracy_m": a.accuracy_m, "KEY": str(a.id),
        }
        row.update(dict.fromkeys(item_columns))
        answers = {**values.get(a.id, {}), **photos.get(a.id, {})}
        for address, value in answers.items():
            column = f"{a.checklist_id}.{address}"
            if column in item_columns:  # not a repeat's count, nor an answer inside a repeat instance
                row[column] = _cell(value)
        table.rows.append(row)
        checklist = checklists[a.checklist_key]
        if checklist.repeats:
            state = compute(checklist, values.get(a.id, {}))
            for name, child_row in _instance_rows(checklist, str(a.id), state, answers):
                children[name].rows.append(child_row)
    return table


def _add_child_tables(checklist: Checklist, children: dict[str, Table]) -> None:
    """A child table per repeat of the checklist; versions of one checklist share it (their columns joined)."""
    for repeat in checklist.repeats:
        name = child_name(checklist.id, repeat.id)
        child = children.setdefault(name, Table(name, list(CHILD_COLUMNS), checklist=checklist.id))
        for item in _repeat_items(checklist, repeat):
            if f"{checklist.id}.{item.id}" not in child.columns:
                child.columns.append(f"{checklist.id}.{item.id}")


def _repeat_items(checklist: Checklist, repeat: Container) -> list[Item]:
    """The items answered once per instance of this repeat (in groups inside it too, not in repeats nested in it)."""
    chain = checklist.repeats_of(repeat)
    return [item for item in checklist.items if item.type != "note" and checklist.repeats_of(item) == chain]


def _instance_rows(checklist: Checklist, audit_id: str, state: FormState,
                   answers: dict[str, object]) -> list[tuple[str, dict]]:
    """(table name, row) of every repeat instance of an audit, as the form counts them; each repeat in file order."""
    rows = []
    for repeat in checklist.repeats:
        chain = checklist.repeats_of(repeat)
        name, items = child_name(checklist.id, repeat.id), _repeat_items(checklist, repeat)
        for instance in _instances(state, chain):
            parent = instance_key(chain[:-1], instance[:-1])
            row = {"KEY": f"{audit_id}/{instance_key(chain, instance)}",
                   "PARENT_KEY": f"{audit_id}/{parent}" if parent else audit_id,
                   "audit_id": audit_id, "checklist": checklist.id, "instance": instance[-1]}
            for item in items:
                row[f"{checklist.id}.{item.id}"] = _cell(answers.get(address_of(item.id, chain, instance)))
            rows.append((name, row))
    return rows


def _instances(state: FormState, chain: tuple[str, ...]) -> list[tuple[int, ...]]:
    """Every instance of the innermost repeat of a chain, parents first, numbers in order."""
    instances: list[tuple[int, ...]] = [()]
    for depth, repeat_id in enumerate(chain):
        instances = [(*instance, number) for instance in instances
                     for number in range(1, state.counts.get(address_of(repeat_id, chain[:depth], instance), 0) + 1)]
    return instances


def write(table: Table, fmt: str, path: Path) -> int:
    """Write the table in a format to path (whole or not at all); the number of rows written."""
    check_format(fmt)
    path = Path(path)
    if not path.parent.is_dir():
        raise MAP_PROBLEMS("export.bad_out", folder=str(path.parent))
    # The temporary name keeps the real extension: GDAL checks that a GeoPackage ends in .gpkg.
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".part.{fmt}")
    os.close(handle)
    temp = Path(temp_name)
    table = _cleaned(table)
    try:
        temp.unlink()  # the writers create the file themselves (GeoPackage refuses an empty one)
        writers = {"geojson": _geojson, "csv": _csv, "xlsx": _xlsx, "gpkg": _gpkg}
        (_csv_zip if is_zipped(table, fmt) else writers[fmt])(table, temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return len(table.rows)


def _cleaned(table: Table) -> Table:
    """The table with every value one each format can write (app.spreadsheets): what a device sent never fails a file.

    Every row gets every column: a child table joins the columns of several versions of its checklist.
    """
    columns = [clean_value(c) for c in table.columns]
    rows = [{clean_value(c): clean_value(row.get(c)) for c in table.columns} for row in table.rows]
    return Table(table.name, columns, rows, [_cleaned(child) for child in table.children], table.checklist)


def file_name(what: str, region: str, ext: str, when: datetime) -> str:
    """pantau-kla_facilities_36.73_2026-12-01.gpkg (`ext` from `extension`: csv.zip for a CSV with child tables)"""
    return f"pantau-kla_{what}_{region or 'all'}_{when:%Y-%m-%d}.{ext}"


# -- writers ---------------------------------------------------------------------------------------------

def _features(table: Table) -> list[dict]:
    nested = {child.name: _rows_by_audit(child) for child in table.children}
    features = []
    for row in table.rows:
        properties = {c: row[c] for c in table.columns}
        for child in table.children:
            if child.checklist == row["checklist"]:
                properties[child.name] = nested[child.name].get(row["audit_id"], [])
        features.append({"type": "Feature", "properties": properties,
                         "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
                         if row["lat"] is not None and row["lon"] is not None else None})
    return features


def _rows_by_audit(child: Table) -> dict[str, list[dict]]:
    """A child table's rows by audit id, in their order."""
    found: dict[str, list[dict]] = {}
    for row in child.rows:
        found.setdefault(row["audit_id"], []).append(row)
    return found


def _geojson(table: Table, path: Path) -> None:
    collection = {"type": "FeatureCollection", "name": table.name, "features": _features(table)}
    path.write_text(json.dumps(collection, ensure_ascii=False, indent=1), encoding="utf-8")


def _csv(table: Table, path: Path) -> None:
    path.write_bytes(_csv_bytes(table))


def _csv_bytes(table: Table) -> bytes:
    # UTF-8 with a byte-order mark: Excel on a dinas laptop then reads the Indonesian names right.
    stream = io.StringIO(newline="")
    writer = csv.DictWriter(stream, fieldnames=table.columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({c: ("" if row[c] is None else safe_cell(row[c])) for c in table.columns} for row in table.rows)
    return stream.getvalue().encode("utf-8-sig")


def _csv_zip(table: Table, path: Path) -> None:
    """The main table and each child table as `<table name>.csv` in one ZIP, as ODK Central's CSV export."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for each in (table, *table.children):
            archive.writestr(f"{each.name}.csv", _csv_bytes(each))


def _xlsx(table: Table, path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    tables = [table, *table.children]
    for each, title in zip(tables, sheet_titles([t.name for t in tables])):
        sheet = workbook.active if each is table else workbook.create_sheet()
        sheet.title = title
        _fill_sheet(sheet, each)
    workbook.save(path)


def sheet_titles(names: list[str]) -> list[str]:
    """Sheet names for tables: at most 31 characters and unique (Excel compares them ignoring case)."""
    titles: list[str] = []
    taken: set[str] = set()
    for name in names:
        title, number = name[:SHEET_TITLE_MAX], 1
        while title.lower() in taken:
            number += 1
            suffix = f"~{number}"
            title = name[:SHEET_TITLE_MAX - len(suffix)] + suffix
        titles.append(title)
        taken.add(title.lower())
    return titles


def _fill_sheet(sheet, table: Table) -> None:
    from openpyxl.styles import Font

    sheet.append([safe_cell(c) for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([safe_cell(row[c]) for c in table.columns])
    sheet.freeze_panes = "B2"
    if table.rows:
        sheet.auto_filter.ref = sheet.dimensions
    for index, column in enumerate(table.columns, start=1):
        width = max([len(column)] + [len(str(row[column] or "")) for row in table.rows[:200]])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(max(width + 2, 8), 48)


def _gpkg(table: Table, path: Path) -> None:
    """One layer per facility kind (QGIS lists them); an empty export still makes a valid file with one layer.

    Child tables are attribute tables (no geometry: an instance is where its audit is); QGIS joins them by KEY.
    """
    import geopandas  # lazily: only an export loads the GIS stack
    import pandas
    import pyogrio
    import shapely

    kinds = sorted({row["kind"] for row in table.rows}) or [None]
    for kind in kinds:
        rows = [row for row in table.rows if row["kind"] == kind] if kind else []
        frame = geopandas.GeoDataFrame(
            {c: [row[c] for row in rows] for c in table.columns},
            geometry=[shapely.Point(row["lon"], row["lat"]) if row["lat"] is not None and row["lon"] is not None
                      else None for row in rows], crs="EPSG:4326")
        layer = f"{table.name}_{kind}" if kind else table.name
        frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    for child in table.children:
        frame = pandas.DataFrame({c: [row[c] for row in child.rows] for c in child.columns})
        pyogrio.write_dataframe(frame, path, layer=child.name, driver="GPKG")


# -- helpers ---------------------------------------------------------------------------------------------

def _facility_conditions(flt: ExportFilter) -> list:
    conditions = [Facility.status == "active"]
    if flt.regions:
        conditions.append(or_(*[Facility.kecamatan_code == code if code.count(".") == 2
                                else Facility.kecamatan_code.like(f"{code}.%") for code in flt.regions]))
    if flt.kinds:
        conditions.append(Facility.kind.in_(flt.kinds))
    return conditions


def _facility_select(flt: ExportFilter):
    return select(Facility).where(*_facility_conditions(flt)).order_by(Facility.kecamatan_code, Facility.kind,
                                                                       Facility.name)


def _audits_by_id(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Audit]:
    found = {}
    for start in range(0, len(ids), 500):
        stmt = select(Audit).options(joinedload(Audit.auditor)).where(Audit.id.in_(ids[start:start + 500]))
        found.update((a.id, a) for a in session.execute(stmt).scalars())
    return found


def _answers(session: Session, audit_ids: list[uuid.UUID]) -> tuple[dict[uuid.UUID, dict[str, object]],
                                                                  dict[uuid.UUID, dict[str, list[str]]]]:
    """Stored answers and photos (their SHA-256 hashes) by audit and address."""
    values: dict[uuid.UUID, dict[str, object]] = {}
    photos: dict[uuid.UUID, dict[str, list[str]]] = {}
    for start in range(0, len(audit_ids), 500):
        chunk = audit_ids[start:start + 500]
        for audit_id, address, value in session.execute(
                select(Answer.audit_id, Answer.item_id, Answer.value).where(Answer.audit_id.in_(chunk))):
            if value is not None:
                values.setdefault(audit_id, {})[address] = value
        for audit_id, address, sha256 in session.execute(
                select(AnswerPhoto.audit_id, AnswerPhoto.item_id, AnswerPhoto.sha256)
                .where(AnswerPhoto.audit_id.in_(chunk)).order_by(AnswerPhoto.added_at, AnswerPhoto.sha256)):
            photos.setdefault(audit_id, {}).setdefault(address, []).append(sha256)
    return values, photos


def _cell(value: object) -> object:
    """An answer as one cell: lists joined with "; ", other JSON as text."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _person(user: User | None) -> str | None:
    return (user.full_name or user.username) if user else None


def _round(score: float | None) -> float | None:
    return round(score, 4) if score is not None else None


def _local_date(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).date().isoformat() if moment else None


def _local_time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else None
