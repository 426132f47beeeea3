"""The audit flow: start, the checklist page (one htmx request per answer), GPS, photos, review, submit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth import role_required
from app.auth.scope import AUDITORS, kecamatan_scope
from app.extensions import db
from app.htmx import is_htmx, render_page
from app.node import self_device_id
from app.problems import AppError
from app.tx import transactional
from geo.problems import GEO_PROBLEMS
from survey import registry
from survey.audits import queries
from survey.audits.models import Audit
from survey.audits.pages import gps_limits, page_context
from survey.audits.pages import cards, changed_entries
from survey.audits.service import (Actor, attach_photo, detach_photo, discard_draft, item_at, record_position, review,
                                   revise, save_answer, save_note, start_audits, submit)
from survey.audits.service import add_instance as add_repeat_instance
from survey.audits.service import remove_instance as remove_repeat_instance
from survey.facilities.service import visible_facility
from survey.photos import PhotoStore, is_picture
from survey.problems import SURVEY_PROBLEMS, StaleAnswer
from survey.scoring import progress

bp = Blueprint("audits", __name__)


def actor() -> Actor:
    """The signed-in user on this device."""
    return Actor(current_user.id, self_device_id(db.session))


def photo_store() -> PhotoStore:
    """Photos live in the data folder, content-addressed."""
    return PhotoStore(Path(current_app.config["DATA_DIR"]) / "photos")


@bp.route("/facilities/<facility_id>/audits/new", methods=["GET", "POST"])
@role_required(*AUDITORS)
@transactional(lock=("POST",))
def start(facility_id: str):
    """Choose the checklists for this facility's kind and start one draft audit per checklist."""
    facility = visible_facility(db.session, facility_id, kecamatan_scope(current_user))
    available = registry.newest_for_kind(facility.kind)
    error = None
    if request.method == "POST":
        chosen = [c for c in available if c.key in request.form.getlist("checklist")]
        try:
            audits = start_audits(db.session, facility, chosen, actor())
        except AppError as problem:
            db.session.rollback()
            error = _(problem.message, **problem.params)
        else:
            return redirect(url_for("audits.show", audit_id=audits[0].id))
    drafts = [a for a in queries.drafts_of(db.session, current_user.id) if a.facility_id == facility.id]
    return render_page("audits/start.html", facility=facility, available=available, error=error,
                       drafts=drafts), (422 if error else 200)


@bp.get("/audits/<audit_id>")
@login_required
def show(audit_id: str):
    """The checklist page: sections with progress, every item, the position panel."""
    audit = _visible(audit_id)
    return render_page("audits/checklist.html", **page_context(audit))


@bp.post("/audits/<audit_id>/answers/<path:item_id>")
@role_required(*AUDITORS)
@transactional
def answer(audit_id: str, item_id: str):
    """Save one answer (at its address) the moment it is given; reply with its feedback and what it changed.

    A save based on an older version than the stored one (another tab changed the answer) is refused
    with 409 and the item as stored, so the page shows the newer value instead of overwriting it.
    """
    audit = _visible(audit_id)
    checklist = registry.for_audit(db.session, audit.checklist_key)
    item = item_at(checklist, item_id)
    raw = request.form.getlist("value") if item.type == "select_multiple" else request.form.get("value", "")
    if item.type == "acknowledge":  # a hidden '' then the box: the box's OK when ticked
        raw = "OK" if "OK" in request.form.getlist("value") else ""
    try:
        outcome = save_answer(db.session, audit, checklist, item_id, raw, actor(),
                              base_version=_base_version(request.form.get("base_version")))
    except StaleAnswer as stale:
        db.session.rollback()
        audit = _visible(audit_id)
        context = page_context(audit, checklist)
        html = render_template("audits/_item_response.html", item=item, address=item_id, notice=_(stale.message),
                               **context)
        return html, stale.status, {"X-Problem-Code": stale.code}
    changed = changed_entries(outcome.before, outcome.state)
    # Entries that appeared show their notes and photos; a reply that shows no other entry needs none of them.
    sheet = queries.answer_sheet(db.session, audit.id) if changed else queries.AnswerSheet.empty()
    state = outcome.state
    counts = progress(checklist, {}, state=state)
    c = cards(audit, checklist, state, sheet, True)
    # Only what the response shows: the item's feedback, entries that changed, progress.
    return render_template(
        "audits/_answer_response.html", item=item, address=item_id, problem=outcome.problem, changed=changed,
        saved_at=audit.updated_at, version=outcome.version, audit=audit, checklist=checklist, c=c,
        progress=counts, answered=sum(a for a, _ in counts.values()), total=sum(t for _, t in counts.values()))


@bp.post("/audits/<audit_id>/repeats/<path:address>/add")
@role_required(*AUDITORS)
@transactional
def add_instance(audit_id: str, address: str):
    """One more entry of a repeat (a piece of play equipment); reply with the repeat as it now is."""
    audit = _visible(audit_id)
    checklist = registry.for_audit(db.session, audit.checklist_key)
    add_repeat_instance(db.session, audit, checklist, address, actor())
    return _repeat_response(audit, checklist, address)


@bp.post("/audits/<audit_id>/repeats/<path:address>/<int:number>/remove")
@role_required(*AUDITORS)
@transactional
def remove_instance(audit_id: str, address: str, number: int):
    """Remove one entry of a repeat with its answers and photos; reply with the repeat as it now is."""
    audit = _visible(audit_id)
    checklist = registry.for_audit(db.session, audit.checklist_key)
    remove_repeat_instance(db.session, audit, checklist, address, number, actor())
    return _repeat_response(audit, checklist, address)


def _repeat_response(audit: Audit, checklist, address: str):
    context = page_context(audit, checklist)
    entry = next((e for section in checklist.sections for e in _walk(context["state"].layout(section))
                  if e.kind == "repeat" and e.address == address), None)
    return render_template("audits/_repeat_response.html", entry=entry, **context)


def _walk(entries):
    for entry in entries:
        yield entry
        yield from _walk(entry.children)


@bp.post("/audits/<audit_id>/notes/<path:item_id>")
@role_required(*AUDITORS)
@transactional
def note(audit_id: str, item_id: str):
    """Save the note on an item."""
    audit = _visible(audit_id)
    checklist = registry.for_audit(db.session, audit.checklist_key)
    save_note(db.session, audit, checklist, item_id, request.form.get("note", ""), actor())
    return render_template("audits/_saved.html", saved_at=audit.updated_at, item_id=item_id, kind="note")


@bp.post("/audits/<audit_id>/photos/<path:item_id>")
@role_required(*AUDITORS)
@transactional
def add_photo(audit_id: str, item_id: str):
    """Store an uploaded photo (original kept, display copy made) and attach it to the item."""
    audit = _visible(audit_id)
    checklist = registry.for_audit(db.session, audit.checklist_key)
    item = item_at(checklist, item_id)
    upload = request.files.get("photo")
    if upload is None or not upload.filename and not upload.content_length:
        raise SURVEY_PROBLEMS("photo.empty/not_chosen")
    store, limit = photo_store(), current_app.config["MAX_CONTENT_LENGTH"]
    # A file item takes its recording or document; every other item takes photos (as evidence).
    info = store.save_file(upload.read(), limit, item.accept) if item.type == "file" else store.save(upload.read(), limit)
    attach_photo(db.session, audit, checklist, item_id, info, actor(), ZoneInfo(current_app.config["TIMEZONE"]))
    return _item_response(audit, checklist, item, item_id)


@bp.post("/audits/<audit_id>/photos/<path:item_id>/<sha256>/remove")
@role_required(*AUDITORS)
@transactional
def remove_photo(audit_id: str, item_id: str, sha256: str):
    """Take a photo off an item."""
    audit = _visible(audit_id)
    checklist = registry.for_audit(db.session, audit.checklist_key)
    item = item_at(checklist, item_id)
    detach_photo(db.session, audit, checklist, item_id, sha256, actor())
    return _item_response(audit, checklist, item, item_id)


@bp.post("/audits/<audit_id>/position")
@role_required(*AUDITORS)
@transactional
def position(audit_id: str):
    """Record a position: from the device GPS, typed, or tapped on the map.

    A refused or unconfirmed position re-renders the position panel with the message beside the form and
    the coordinates kept (422 refused, 409 asks to confirm a hand-set position outside the kecamatan).
    """
    audit = _visible(audit_id)
    source = request.form.get("source", "gps")
    try:
        lat, lon = _number(request.form.get("lat")), _number(request.form.get("lon"))
        accuracy = _number(request.form.get("accuracy")) if request.form.get("accuracy") else None
        if lat is None or lon is None:
            raise GEO_PROBLEMS("geo.bad_coordinates")
        record_position(db.session, audit, lat=lat, lon=lon, accuracy_m=accuracy, source=source,
                        taken_at=_timestamp(request.form.get("taken_at")), limits=gps_limits(), actor=actor(),
                        confirmed_outside=request.form.get("confirm_outside") == "1")
    except AppError as problem:
        if not problem.code.startswith(("geo.", "gps.")):
            raise
        db.session.rollback()
        typed = {"lat": (request.form.get("lat") or "")[:40], "lon": (request.form.get("lon") or "")[:40],
                 "source": source if source in ("gps", "manual", "map") else "manual"}
        # The header tells the page that this refusal is the panel itself (swap it in), not an error fragment.
        return (render_page("audits/checklist.html", block="position", **page_context(audit),
                            position_problem=problem, typed=typed), problem.status, {"X-Position-Panel": "1"})
    if is_htmx():
        return render_page("audits/checklist.html", block="position", **page_context(audit))
    return redirect(url_for("audits.show", audit_id=audit.id) + "#position")


@bp.get("/audits/<audit_id>/review")
@login_required
def review_page(audit_id: str):
    """What is missing or invalid, the score and result it would get, the position warnings."""
    audit = _visible(audit_id)
    return render_page("audits/review.html", **_review_context(audit))


@bp.post("/audits/<audit_id>/submit")
@role_required(*AUDITORS)
@transactional
def submit_audit(audit_id: str):
    """Submit: refused, with the review, while anything required is missing or invalid."""
    audit = _visible(audit_id)
    checklist = registry.for_audit(db.session, audit.checklist_key)
    try:
        submit(db.session, audit, checklist, actor())
    except AppError as problem:
        db.session.rollback()
        context = _review_context(_visible(audit_id))
        return render_page("audits/review.html", error=_(problem.message, **problem.params), **context), 422
    flash(_("Audit submitted. It can no longer change; a correction makes a new revision."), "success")
    return redirect(url_for("audits.show", audit_id=audit.id))


@bp.post("/audits/<audit_id>/revise")
@role_required(*AUDITORS)
@transactional
def revise_audit(audit_id: str):
    """Start a correction of a submitted audit."""
    audit = _visible(audit_id)
    revision = revise(db.session, audit, actor())
    flash(_("Correction started: revision %(n)d. The submitted audit stays in the history.", n=revision.revision), "info")
    return redirect(url_for("audits.show", audit_id=revision.id))


@bp.post("/audits/<audit_id>/discard")
@role_required(*AUDITORS)
@transactional
def discard(audit_id: str):
    """Delete a draft started by mistake."""
    audit = _visible(audit_id)
    facility_id = audit.facility_id
    discard_draft(db.session, audit, actor())
    flash(_("The draft was deleted."), "info")
    return redirect(url_for("facilities.show", facility_id=facility_id))


@bp.get("/photos/<sha256>/<variant>")
@login_required
def photo(sha256: str, variant: str):
    """A stored photo: original, display copy or thumbnail."""
    if variant not in ("original", "display", "thumb"):
        abort(404)
    scope = kecamatan_scope(current_user)
    # A photo is seen by whoever may open an audit that uses it; for an auditor, one of their kecamatan.
    if scope and not queries.photo_visible_in(db.session, sha256, scope, current_user.id):
        abort(404)
    store = photo_store()
    picture = is_picture(queries.photo_mime(db.session, sha256))
    if not picture and variant != "original":
        abort(404)  # a recording or document has no display copies
    try:
        path = store.path(sha256, variant) if variant == "original" else store.ensure_variants(sha256)[variant]
    except (ValueError, FileNotFoundError, KeyError):
        abort(404)
    if not Path(path).exists():
        abort(404)
    if not picture:  # downloaded, never shown inline: the app does not vouch for what is inside
        return send_file(path, as_attachment=True, download_name=Path(path).name, max_age=31536000)
    # Content-addressed: the bytes never change, so the browser may keep them, but only this user's browser.
    response = send_file(path, max_age=31536000, conditional=True)
    response.cache_control.private = True
    response.cache_control.public = False
    return response


def _visible(audit_id: str) -> Audit:
    """An audit the user may see: drafts only by their auditor, others within the user's kecamatan."""
    found = queries.audit(db.session, audit_id)
    if found is None:
        raise SURVEY_PROBLEMS("audit.not_found")
    scope = kecamatan_scope(current_user)
    if scope and found.facility.kecamatan_code not in scope:
        raise SURVEY_PROBLEMS("audit.not_found")
    if found.is_draft and found.auditor_id != current_user.id:
        raise SURVEY_PROBLEMS("audit.not_yours/draft")
    return found


def _item_response(audit: Audit, checklist, item, address: str):
    context = page_context(audit, checklist)
    return render_template("audits/_item_response.html", item=item, address=address, **context)


def _review_context(audit: Audit) -> dict:
    checklist = registry.for_audit(db.session, audit.checklist_key)
    context = page_context(audit, checklist)
    context["result"] = review(db.session, audit, checklist)
    return context


def _base_version(text: str | None) -> int | None:
    """The answer version a save was based on; None when the form sent none (a script: no check)."""
    if text in (None, ""):
        return None
    if not text.isdigit() or len(text) > 9:
        raise SURVEY_PROBLEMS("answer.bad_version")
    return int(text)


def _number(text: str | None) -> float | None:
    try:
        return float((text or "").strip().replace(",", "."))
    except ValueError:
        return None


def _timestamp(text: str | None) -> dt.datetime | None:
    """The reading's time from the browser (milliseconds since the epoch)."""
    try:
        return dt.datetime.fromtimestamp(int(float(text)) / 1000, tz=dt.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
