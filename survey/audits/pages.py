"""What the audit page shows, built for the audit views and for a refused review decision (sync.views).

Not a view: it reads the request's user and the app's settings, and registers no route, so any view may import it.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale
from flask_login import current_user

from app.auth.scope import REVIEWERS
from app.extensions import db
from app.problems import AppError
from geo.distance import haversine_m
from geo.geofence import Limits
from geo.tiles import open_basemap
from survey import registry
from survey.audits import queries, service
from survey.audits.models import Audit
from survey.form import Entry, FormState
from survey.scoring import progress, score_audit


def form_state(audit: Audit, checklist, sheet: queries.AnswerSheet) -> FormState:
    """The form's state for the page, in the reader's language (jr:choice-name)."""
    return service.form_state(db.session, audit, checklist, locale=str(get_locale() or "id"), sheet=sheet)


def cards(audit: Audit, checklist, state: FormState, sheet: queries.AnswerSheet, editable: bool) -> dict:
    """What the item macros read (templates/audits/_macros.html): answers as shown, relevance, evidence, state."""
    return {"audit": audit, "answers": state.shown(), "editable": editable, "relevant": state.relevant,
            "notes": sheet.notes, "photos": sheet.photos, "versions": sheet.versions, "state": state,
            "problems": state.problems, "photo_times": sheet.photo_times}


def changed_entries(before: FormState, after: FormState) -> list[Entry]:
    """What a save changed on the page, outermost first: entries whose relevance, computed value, filled-in
    label, choices on offer or number of instances differ. The saved item itself answers through its feedback."""
    changed: list[Entry] = []

    def visit(entry: Entry) -> None:
        if _signature(before, entry) != _signature(after, entry):
            changed.append(entry)
            return
        for child in entry.children:
            visit(child)

    for section in after.checklist.sections:
        for entry in after.layout(section):
            visit(entry)
    return changed


def _signature(state: FormState, entry: Entry) -> tuple:
    """What of an entry the page shows that a save elsewhere can change."""
    relevant = entry.address in state.relevant
    if entry.kind == "repeat":
        return relevant, state.counts.get(entry.address, 0), _label(state, entry.container.label, entry.address)
    if entry.kind == "group":
        return relevant, _label(state, entry.container.label, entry.address)
    if entry.kind == "instance":  # the label as seen from inside the instance (its ${...} are that instance's)
        return relevant, _label(state, entry.container.label, f"{entry.address}/{entry.container.id}")
    item = entry.item
    computed = item.calculation is not None or item.type in ("calculate", "hidden") or entry.address in state.defaults
    return (relevant, state.values.get(entry.address) if computed else None,
            _label(state, item.label, entry.address), _label(state, item.hint, entry.address),
            tuple(choice.value for choice in state.choices.get(entry.address, ())))


def _label(state: FormState, text, address: str) -> tuple:
    if text is None or ("${" not in text.id and "${" not in text.en):
        return ()
    return state.text(text.id, address), state.text(text.en, address)


def page_context(audit: Audit, checklist=None) -> dict:
    """The checklist page's context: answers with their photos, progress, score, position, revisions, review."""
    checklist = checklist or registry.for_audit(db.session, audit.checklist_key)
    sheet = queries.answer_sheet(db.session, audit.id)
    state = form_state(audit, checklist, sheet)
    counts = progress(checklist, {}, state=state)
    scored = score_audit(checklist, {}, state=state)
    editable = audit.is_draft and audit.auditor_id == current_user.id
    c = cards(audit, checklist, state, sheet, editable)
    return {
        "problems": state.problems, "scored": scored, "c": c, "state": state,
        "audit": audit, "checklist": checklist, "facility": audit.facility, "answers": c["answers"],
        "notes": sheet.notes, "photos": sheet.photos, "versions": sheet.versions, "photo_times": sheet.photo_times,
        "relevant": state.relevant, "progress": counts,
        "answered": sum(a for a, _ in counts.values()), "total": sum(t for _, t in counts.values()),
        "readings": queries.readings_of(db.session, audit.id), "limits": gps_limits(), **_position_context(audit),
        "chain": queries.chain_of(db.session, audit),
        "siblings": [a for a in queries.drafts_of(db.session, audit.auditor_id)
                     if a.facility_id == audit.facility_id and a.id != audit.id] if audit.is_draft else [],
        "editable": editable,
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
