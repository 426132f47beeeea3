"""Device pages."""

from __future__ import annotations

from flask import Blueprint

from app.auth import role_required
from app.extensions import db
from app.htmx import render_page
from sync.queries import list_devices

bp = Blueprint("sync", __name__, url_prefix="/devices")


@bp.get("/")
@role_required("supervisor", "admin")
def devices():
    """This device and the devices known to it."""
    return render_page("sync/devices.html", devices=list_devices(db.session))
