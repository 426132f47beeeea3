"""What the audit page shows, built for the audit views and for a refused review decision (sync.views).

Not a view: it reads the request's user and the app's settings, and registers no route, so any view may import it.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_login import current_user

from app.auth.scope import REVIEWERS
from app.extensions import db
from app.problems import AppError
from geo.distance import haversine_m
from geo.geofence import Limits
from geo.tiles import open_basemap
from survey import registry
from survey.audits import queries
from survey.audits.models import Audit
from survey.scoring import progress, relevant_items, score_audit


def page_context(audit: Audit, checklist=None) -> dict:
    """The checklist page's context: answers with their photos, progress, score, position, revisions, review."""
    checklist = checklist or registry.for_audit(db.session, audit.checklist_key)
    sheet = queries.answer_sheet(db.session, audit.id)
    answers = sheet.answers
    today = dt.date.today()
    counts = progress(checklist, answers, today)
    scored = score_audit(checklist, answers, today=today)
    return {
        "problems": dict(scored.invalid), "scored": scored,
        "audit": audit, "checklist": checklist, "facility": audit.facility, "answers": answers,
        "notes": sheet.notes, "photos": sheet.photos, "versions": sheet.versions, "photo_times": sheet.photo_times,
        "relevant": relevant_items(checklist, answers, today), "progress": counts,
        "answered": sum(a for a, _ in counts.values()), "total": sum(t for _, t in counts.values()),
        "readings": queries.readings_of(db.session, audit.id), "limits": gps_limits(), **_position_context(audit),
        "chain": queries.chain_of(db.session, audit),
        "siblings": [a for a in queries.drafts_of(db.session, audit.auditor_id)
                     if a.facility_id == audit.facility_id and a.id != audit.id] if audit.is_draft else [],
        "editable": audit.is_draft and audit.auditor_id == current_user.id,
        "can_review": (current_app.config["ROLE"] == "hub" and audit.status == "submitted"
                       and current_user.role in REVIEWERS),
    }


def gps_limits() -> Limits:
    """The position warnings' thresholds from the settings."""
    return Limits(accuracy_m=current_app.config["GPS_ACCURACY_WARN_M"],
                  distance_m=current_app.config["FACILITY_DISTANCE_WARN_M"])


def _position_context(audit: Audit) -> dict:
    """The position panel's extras: the distance to the facility's registered point, the offline basemap."""
    facility = audit.facility
    distance = None
    if audit.lat is not None and facility.lat is not None:
        distance = haversine_m(audit.lat, audit.lon, facility.lat, facility.lon)
    return {"facility_distance_m": distance, "basemap": _basemap()}


def _basemap():
    """The configured offline basemap (MBTiles), or None: the map then has a plain background, never a tile host."""
    path = current_app.config.get("MBTILES")
    if not path:
        return None
    try:
        return open_basemap(path)
    except AppError as error:
        current_app.logger.warning("basemap unusable: %s", error)
        return None
