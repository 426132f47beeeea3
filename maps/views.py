"""Region pages and maps: outlines, facility markers, the facility card, audit coverage, the table view, downloads.

Everything the maps draw comes from this app (JSON under /wilayah, tiles under /tiles): no other host.
Permissions follow the facility list: an auditor sees the map of their own kecamatan only; exports are
for supervisors, planners and admins.
"""

from __future__ import annotations

import io
import json
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, jsonify, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from shapely import wkb
from shapely.geometry import mapping

from app.auth import role_required
from app.auth.scope import NOWHERE, PLANNERS, kecamatan_scope
from app.extensions import db
from app.htmx import is_htmx, render_page
from app.problems import AppError
from geo import layers, mapdata
from geo.problems import GEO_PROBLEMS
from geo.queries import children, kabkota_list, kabkota_of, wilayah
from geo.tiles import open_basemap
from geo.tiles import tile as read_tile
from maps import exports
from maps.problems import MAP_PROBLEMS
from maps.queries import MapFacility, MapFilter, region_facilities, registered_by_kecamatan
from survey.audits.queries import audited_by_kecamatan, awaiting_review, history_of, latest_results
from survey.facilities.queries import counts_by_kecamatan_and_kind
from survey.facilities.service import visible_facility
from survey.kinds import KIND_CODES, KINDS
from survey.problems import SURVEY_PROBLEMS

bp = Blueprint("maps", __name__, url_prefix="/wilayah")
tiles_bp = Blueprint("tiles", __name__, url_prefix="/tiles")


@bp.get("/<code>")
@login_required
def show(code: str):
    """A kabupaten/kota or kecamatan: the regions under it and their facilities by kind."""
    region = _map_region(code)
    counts = counts_by_kecamatan_and_kind(db.session)
    subregions = children(db.session, code)
    return render_page("maps/show.html", region=region, subregions=subregions, counts=counts, kinds=KINDS)


@bp.get("/<code>/boundary.geojson")
@login_required
def boundary(code: str):
    """A region's boundary as GeoJSON, for the map (served by the app: no external host)."""
    region = wilayah(db.session, code)
    if region is not None:
        # A kecamatan or its desa: within the auditor's scope; a kabupaten/kota or provinsi: not for auditors.
        _check_in_scope(region.code if region.level == "kecamatan" else
                        region.parent_code if region.level == "desa" else "")
    if region is None or region.boundary is None:
        raise MAP_PROBLEMS("wilayah.no_boundary")
    feature = {"type": "Feature", "geometry": mapping(wkb.loads(region.boundary)),
               "properties": {"code": region.code, "name": region.name, "note": region.boundary_note}}
    response = jsonify(feature)
    response.mimetype = "application/geo+json"
    return response


# -- maps ----------------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def maps_home():
    """The map to start from: the only kabupaten/kota (an auditor: their kecamatan), else a choice."""
    scope = kecamatan_scope(current_user)
    if scope:
        _check_in_scope(scope[0])
        return redirect(url_for("maps.map_page", code=scope[0]))
    regions = kabkota_list(db.session)
    if len(regions) == 1:
        return redirect(url_for("maps.map_page", code=regions[0].code))
    return render_page("maps/mapdata.html", regions=regions)


@bp.get("/<code>/map")
@login_required
def map_page(code: str):
    """The map of a kabupaten/kota or kecamatan."""
    return render_page("maps/map.html", **_map_context(code), card=None)


@bp.get("/<code>/map/<facility_id>")
@login_required
def map_card(code: str, facility_id: str):
    """The map with one facility's card open; a tap on a marker loads only the card (htmx), so only what
    the card shows is read, not every facility of the region."""
    context = _card_context(code) if is_htmx() else _map_context(code)
    found = visible_facility(db.session, facility_id, kecamatan_scope(current_user))
    if not _in_region(found.kecamatan_code, context["region"]):
        raise SURVEY_PROBLEMS("facility.not_found")
    latest = latest_results(db.session, [found.id], counted_audits()).get(found.id)
    waiting = awaiting_review(db.session, [found.id]).get(found.id, 0) if counted_audits() == "approved" else 0
    card = {"facility": found, "row": MapFacility(found, latest, waiting), "history": history_of(db.session, found.id)}
    return render_page("maps/map.html", block="card", **context, card=card)


@bp.get("/<code>/table")
@login_required
def table_page(code: str):
    """The same facilities as the map, as a table (and audit coverage per kecamatan)."""
    context = _map_context(code)
    return render_page("maps/table.html", **context, coverage=_coverage_rows(context["region"], context["kabkota"],
                                                                             context["flt"]))


@bp.get("/<code>/facilities.geojson")
@login_required
def facilities_geojson(code: str):
    """The region's facilities as points coloured by latest result, with the map's filters."""
    region = _map_region(code)
    flt = _map_filter()
    everything = region_facilities(db.session, region, MapFilter(kinds=flt.kinds, scope=flt.scope), counted_audits(),
                                   light=True)
    # The card URL is data-card-base + "/" + id (map.js): not repeated in every feature.
    features = [mapdata.facility_feature(str(r.facility.id), r.facility.name, r.facility.kind, r.facility.lon,
                                      r.facility.lat, r.result, _review_state(r))
                for r in everything if r.facility.lat is not None and (not flt.results or r.result in flt.results)]
    # Foreign member: how many facilities (with or without a position) have each result, for the filter chips.
    counts = {cls: sum(r.result == cls for r in everything) for cls in mapdata.RESULT_CLASSES}
    return _geojson({"type": "FeatureCollection", "features": features, "counts": counts})


@bp.get("/<code>/layers/<level>.geojson")
@login_required
def layer_geojson(code: str, level: str):
    """Simplified kecamatan or desa/kelurahan outlines (shared borders stay shared), cached per boundary stamp."""
    region = _map_region(code)
    if level not in layers.LAYER_LEVELS:
        raise MAP_PROBLEMS("wilayah.no_layer")
    kabkota = kabkota_of(db.session, region)
    layer = layers.region_layer(db.session, kabkota.code, level)
    etag = f"{layer.etag}-{region.code}"
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    payload = layer.payload
    if level == "desa" and region.level == "kecamatan":
        collection = {**layer.collection, "features": [f for f in layer.collection["features"]
                                                       if f["properties"]["code"].startswith(region.code + ".")]}
        payload = json.dumps(collection, separators=(",", ":"), ensure_ascii=False).encode()
    response = Response(payload, mimetype="application/geo+json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"  # revalidate: boundaries can be imported again
    return response


@bp.get("/<code>/coverage.geojson")
@login_required
def coverage_geojson(code: str):
    """The kecamatan of the region's kabupaten/kota coloured by audit coverage this year (a choropleth)."""
    region = _map_region(code)
    kabkota = kabkota_of(db.session, region)
    values = {row["code"]: row["properties"] for row in _coverage_rows(region, kabkota, _map_filter())}
    return _geojson(layers.choropleth_layer(db.session, kabkota.code, values))


@bp.get("/<code>/export/<what>.<fmt>")
@role_required(*PLANNERS)
def download(code: str, what: str, fmt: str):
    """Download the map's facilities (with their latest audit) or their audits (with answers)."""
    region = _map_region(code)
    exports.check_format(fmt, what)
    flt = _map_filter()
    export_filter = exports.ExportFilter(regions=(region.code,), kinds=flt.kinds, results=flt.results)
    tz = current_app.config["TIMEZONE"]
    if what == "facilities":
        table = exports.facility_table(db.session, export_filter, counted_audits(), tz)
    else:
        table = exports.audit_table(db.session, export_filter, tz)
    # A CSV of audits with repeats is a ZIP of tables (maps.exports): its name and type say so.
    name = exports.file_name(what, region.code, exports.extension(table, fmt), datetime.now())
    # Written to a file (GeoPackage needs one), read back, and the file removed before the response leaves.
    with tempfile.TemporaryDirectory(prefix="export-", dir=current_app.config["DATA_DIR"]) as folder:
        path = Path(folder) / name
        exports.write(table, fmt, path)
        data = path.read_bytes()
    response = send_file(io.BytesIO(data), mimetype=exports.mimetype(table, fmt), as_attachment=True,
                         download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@tiles_bp.get("/<int:z>/<int:x>/<int:y>.<ext>")
@login_required
def tile(z: int, x: int, y: int, ext: str):
    """A basemap tile from the configured MBTiles file (PANTAU_MBTILES); 404 where it has none."""
    if not current_app.config.get("MBTILES"):
        raise MAP_PROBLEMS("tiles.not_configured")
    basemap = open_basemap(current_app.config["MBTILES"])
    data = read_tile(basemap, z, x, y) if ext == basemap.format else None
    if data is None:
        raise MAP_PROBLEMS("tiles.missing")
    response = Response(data, mimetype=basemap.mimetype)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.add_etag()
    return response.make_conditional(request)


# -- helpers -----------------------------------------------------------------------------------------

def counted_audits() -> str:
    """Which audits colour the map: approved ones on a hub (what planners rely on); not rejected ones on a device."""
    return mapdata.counted_for_role(current_app.config["ROLE"])


def _map_region(code: str):
    """A kabupaten/kota or kecamatan the user may see on a map; an auditor: their own kecamatan only."""
    region = wilayah(db.session, code)
    if region is None or region.level not in ("kabkota", "kecamatan"):
        raise GEO_PROBLEMS("wilayah.not_found")
    _check_in_scope(region.code)
    return region


def _check_in_scope(code: str) -> None:
    """Auditors see their own kecamatan only; one without kecamatan sees none."""
    scope = kecamatan_scope(current_user)
    if scope == NOWHERE:
        raise MAP_PROBLEMS("auth.no_kecamatan")
    if scope and code not in scope:
        raise MAP_PROBLEMS("map.outside_scope")


def _map_filter() -> MapFilter:
    """Kinds and results chosen on the map (unknown values ignored), within the user's kecamatan."""
    kinds = tuple(k for k in request.args.getlist("kind") if k in KIND_CODES)
    results = tuple(r for r in request.args.getlist("result") if r in mapdata.RESULT_CLASSES)
    return MapFilter(kinds=kinds, results=results, scope=kecamatan_scope(current_user))


def _map_context(code: str) -> dict:
    """What the map and table pages share: the region, its filters, the facilities, the layers' URLs."""
    region = _map_region(code)
    kabkota = kabkota_of(db.session, region)
    flt = _map_filter()
    light = request.endpoint != "maps.table_page"  # only the table shows names of kecamatan
    everything = region_facilities(db.session, region, MapFilter(kinds=flt.kinds, scope=flt.scope), counted_audits(),
                                   light=light)
    rows = [r for r in everything if not flt.results or r.result in flt.results]
    by_result = {cls: sum(r.result == cls for r in everything) for cls in mapdata.RESULT_CLASSES}
    query = request.query_string.decode()
    suffix = f"?{query}" if query else ""
    basemap, basemap_error = _basemap()
    return {
        "region": region, "kabkota": kabkota, "flt": flt, "rows": rows, "by_result": by_result, "kinds": KINDS,
        "results": mapdata.RESULT_CLASSES,
        "result_legend": mapdata.RESULT_LEGEND_APPROVED if counted_audits() == "approved" else mapdata.RESULT_LEGEND, "result_colours": mapdata.RESULT_COLOURS,
        "kecamatan": children(db.session, kabkota.code) if kabkota else [],
        "has_desa": layers.boundary_count(db.session, kabkota.code, "desa") > 0,
        "counted": counted_audits(), "query": suffix, "year": _this_year(),
        "coverage_legend": mapdata.legend_data(mapdata.COVERAGE_CLASSES, _, no_data=_("No facilities registered")),
        "basemap": basemap, "basemap_error": basemap_error,
        "can_export": current_user.role in PLANNERS, "export_formats": _export_formats(),
    }


def _card_context(code: str) -> dict:
    """What the card block needs besides the card: the region, the filters' query and the legend words."""
    query = request.query_string.decode()
    return {"region": _map_region(code), "query": f"?{query}" if query else "",
            "result_legend": mapdata.RESULT_LEGEND_APPROVED if counted_audits() == "approved" else mapdata.RESULT_LEGEND}


def _coverage_rows(region, kabkota, flt: MapFilter) -> list[dict]:
    """Per kecamatan of the kabupaten/kota: registered, audited this year, share and its legend class."""
    year = _this_year()
    since = mapdata.year_period(year, current_app.config["TIMEZONE"])[0]
    registered = registered_by_kecamatan(db.session, kabkota, flt.kinds)
    audited = audited_by_kecamatan(db.session, since, counted_audits(), kabkota.code + ".", flt.kinds)
    rows = []
    for sub in children(db.session, kabkota.code):
        if flt.scope and sub.code not in flt.scope:
            continue  # an auditor's map shows no numbers of other kecamatan
        cov = mapdata.Coverage(registered.get(sub.code, 0), audited.get(sub.code, 0))
        share = cov.share
        label = (_("%(name)s: %(audited)s of %(registered)s facilities audited in %(year)s (%(share)s%%)",
                   name=sub.name, audited=cov.audited, registered=cov.registered, year=year,
                   share=round(share * 100)) if share is not None
                 else _("%(name)s: no facilities registered", name=sub.name))
        properties = mapdata.classed_values({sub.code: share}, mapdata.COVERAGE_CLASSES, lambda c, v: label)[sub.code]
        properties.update(registered=cov.registered, audited=cov.audited)
        rows.append({"code": sub.code, "name": sub.name, "coverage": cov, "properties": properties,
                     "focus": sub.code == region.code})
    return rows


def _review_state(row) -> str | None:
    """What a marker says about review: waiting (a hub has undecided audits) or the latest's decision."""
    if row.awaiting_review:
        return "waiting"
    return row.latest.review_status if row.latest else None


def _in_region(kecamatan_code: str, region) -> bool:
    return kecamatan_code == region.code or kecamatan_code.startswith(region.code + ".")


def _basemap():
    """The configured basemap, or (None, error message) when the file cannot be used; (None, None) when none is set."""
    path = current_app.config.get("MBTILES")
    if not path:
        return None, None
    try:
        return open_basemap(path), None
    except AppError as error:
        current_app.logger.warning("basemap unusable: %s", error)
        return None, f"[{error.code}] {_(error.message, **error.params)}"


def _this_year() -> int:
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).year


def _geojson(collection: dict) -> Response:
    response = Response(json.dumps(collection, separators=(",", ":"), ensure_ascii=False),
                        mimetype="application/geo+json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _export_formats() -> tuple[str, ...]:
    """The download formats offered (no GeoPackage where the GIS stack is absent, as in the desktop build)."""
    return exports.available_formats()
