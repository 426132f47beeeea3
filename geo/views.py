"""Region pages."""

from __future__ import annotations

from flask import Blueprint, jsonify
from shapely import wkb
from shapely.geometry import mapping
from flask_login import login_required

from app.extensions import db
from app.htmx import render_page
from app.problems import NotFound, N_
from geo.queries import children, wilayah
from survey.facilities.queries import counts_by_kecamatan_and_kind
from survey.kinds import KINDS

bp = Blueprint("geo", __name__, url_prefix="/wilayah")


@bp.get("/<code>")
@login_required
def show(code: str):
    """A kabupaten/kota or kecamatan: the regions under it and their facilities by kind."""
    region = wilayah(db.session, code)
    if region is None or region.level not in ("kabkota", "kecamatan"):
        raise NotFound("wilayah.not_found", N_("This region is not loaded on this device."))
    counts = counts_by_kecamatan_and_kind(db.session)
    subregions = children(db.session, code)
    return render_page("geo/show.html", region=region, subregions=subregions, counts=counts, kinds=KINDS)


@bp.get("/<code>/boundary.geojson")
@login_required
def boundary(code: str):
    """A region's boundary as GeoJSON, for the map (served by the app: no external host)."""
    region = wilayah(db.session, code)
    if region is None or region.boundary is None:
        raise NotFound("wilayah.no_boundary", N_("No boundary is loaded for this region."))
    feature = {"type": "Feature", "geometry": mapping(wkb.loads(region.boundary)),
               "properties": {"code": region.code, "name": region.name, "note": region.boundary_note}}
    response = jsonify(feature)
    response.mimetype = "application/geo+json"
    return response
