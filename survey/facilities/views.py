"""Facility pages: the list (searchable, filterable, nearest first), a facility, register and edit."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth import role_required
from app.auth.scope import REGISTRARS, REVIEWERS, kecamatan_scope
from app.errors import show_on_form
from app.extensions import db
from app.htmx import render_page
from app.node import self_device, self_device_id
from app.problems import AppError
from app.tx import transactional
from geo.queries import kecamatan_choices
from survey.audits.queries import corrections_of, drafts_of, history_of, latest_results, returned_audits
from survey.facilities.forms import FacilityForm
from survey.facilities.queries import FacilityFilter, facilities_near, list_facilities
from survey.facilities.service import (FacilityInput, check_facility, create_facility, kecamatan_check, update_facility,
                                       verify_facility, visible_facility)
from survey.kinds import KIND_CODES, KINDS, kind_label
from survey.problems import SURVEY_PROBLEMS

bp = Blueprint("facilities", __name__, url_prefix="/facilities")
DUPLICATE_RADIUS_M = 100


@bp.get("/")
@login_required
def index():
    """The facilities the user works with; htmx requests get only the list."""
    flt = FacilityFilter(
        text=request.args.get("q", "")[:100],
        kind=request.args.get("kind", "") if request.args.get("kind") in KIND_CODES else "",
        kecamatan_codes=_kecamatan_filter(),
        unverified_only=request.args.get("unverified") == "1",
        near=_near(),
    )
    rows = list_facilities(db.session, flt)
    results = latest_results(db.session, [row.facility.id for row in rows])
    drafts = drafts_of(db.session, current_user.id) if current_user.role == "auditor" else []
    # The auditor's start page: audits the hub returned to them come first, one tap from a correction.
    returned = returned_audits(db.session, auditor_id=current_user.id) if current_user.role == "auditor" else []
    return render_page("facilities/index.html", block="results", rows=rows, flt=flt, kinds=KINDS,
                       kecamatan=_visible_kecamatan(), results=results, drafts=drafts, returned=returned,
                       corrections=corrections_of(db.session, [a.id for a in returned]))


@bp.get("/<facility_id>")
@login_required
def show(facility_id: str):
    """One facility: where it is, what it is, its audit history."""
    found = _visible(facility_id)
    history = history_of(db.session, found.id)
    returned = returned_audits(db.session, facility_id=found.id)
    # Located now rather than read from located_kecamatan_code: a registration synced to the hub arrives without it.
    placed = kecamatan_check(db.session, found.kecamatan_code, found.lat, found.lon)
    return render_page("facilities/show.html", facility=found, history=history, returned=returned,
                       corrections=corrections_of(db.session, [a.id for a in history]), placed=placed)


@bp.route("/new", methods=["GET", "POST"])
@role_required(*REGISTRARS)
@transactional(lock=("POST",))
def new():
    """Register a facility; one registered by an auditor waits for a supervisor's check."""
    form = _form()
    duplicates, placed = [], None
    if form.validate_on_submit():
        data = _input(form)
        _use_located_kecamatan(form, data)
        try:
            _check_scope(data.kecamatan_code)
            check_facility(db.session, data)
            placed = kecamatan_check(db.session, data.kecamatan_code, data.lat, data.lon)
            if not placed.needs_confirmation or _kept_kecamatan(data) in request.form.getlist("kecamatan_kept"):
                placed = None
                if data.lat is not None and request.form.get("confirm_new") != "1":
                    duplicates = facilities_near(db.session, data.kind, data.lat, data.lon, DUPLICATE_RADIUS_M)
            if not duplicates and placed is None:
                created = create_facility(db.session, data, verified=_may_verify() and current_user.role != "auditor",
                                          user_id=current_user.id, device_id=self_device_id(db.session))
                flash(_("Facility %(name)s registered.", name=created.name), "success")
                return redirect(url_for("facilities.show", facility_id=created.id))
        except AppError as error:
            db.session.rollback()
            placed = None
            _show_error(form, error)
    status = 422 if form.errors else 200
    token = _kept_kecamatan(_input(form))
    return render_page("facilities/form.html", form=form, facility=None, duplicates=duplicates, placed=placed,
                       kept_token=token, kept=token in request.form.getlist("kecamatan_kept"),
                       choosable={code for code, _ in _visible_kecamatan()}), status


def _use_located_kecamatan(form: FacilityForm, data: FacilityInput) -> None:
    """The warning's "Use kecamatan X" was pressed: X replaces the chosen one (if the user may register there)."""
    located = request.form.get("use_kecamatan", "")
    if located and located in {code for code, _ in _visible_kecamatan()}:
        data.kecamatan_code = form.kecamatan_code.data = located


def _kept_kecamatan(data: FacilityInput) -> str:
    """What "Keep Y, the point is right" confirms: this kecamatan for this position (a new position asks again)."""
    return f"{data.kecamatan_code}@{data.lat},{data.lon}"


@bp.route("/<facility_id>/edit", methods=["GET", "POST"])
@role_required(*REVIEWERS)
@transactional(lock=("POST",))
def edit(facility_id: str):
    """Correct a facility's details."""
    found = _visible(facility_id)
    form = _form(obj=found)
    if form.validate_on_submit():
        try:
            update_facility(db.session, found, _input(form), user_id=current_user.id,
                            device_id=self_device_id(db.session))
        except AppError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            flash(_("Changes to %(name)s saved.", name=found.name), "success")
            return redirect(url_for("facilities.show", facility_id=found.id))
    return render_page("facilities/form.html", form=form, facility=found, duplicates=[], placed=None,
                       kept_token="", kept=False, choosable=set()), (422 if form.errors else 200)


@bp.post("/<facility_id>/verify")
@role_required(*REVIEWERS)
@transactional
def verify(facility_id: str):
    """Confirm a facility registered in the field (on a hub: a device's word is not a confirmation)."""
    found = _visible(facility_id)
    if not _may_verify():
        raise SURVEY_PROBLEMS("facility.verify_on_hub")
    verify_facility(db.session, found, user_id=current_user.id, device_id=self_device_id(db.session))
    flash(_("%(name)s is verified.", name=found.name), "success")
    return redirect(url_for("facilities.show", facility_id=found.id))


def _show_error(form: FacilityForm, error: AppError) -> None:
    """Put a domain error beside the field it concerns (the name when it concerns the whole record)."""
    show_on_form(form, error, "kecamatan_code" if error.code.startswith("facility.outside_") else None, "name")


def _form(**kwargs) -> FacilityForm:
    form = FacilityForm(**kwargs)
    form.set_choices(lambda code: _(kind_label(code)), _visible_kecamatan())
    return form


def _input(form: FacilityForm) -> FacilityInput:
    return FacilityInput(kind=form.kind.data, name=form.name.data, kecamatan_code=form.kecamatan_code.data,
                         official_id=form.official_id.data, address=form.address.data,
                         lat=form.lat.data, lon=form.lon.data)


def _visible(facility_id: str):
    """A facility the current user may see (an auditor: only in their kecamatan); else 404."""
    return visible_facility(db.session, facility_id, kecamatan_scope(current_user))


def _may_verify() -> bool:
    """Only a hub confirms facilities: the hub refuses `verified` from a field device (sync.trust)."""
    return current_app.config["ROLE"] == "hub"


def _device_scope() -> tuple[str, ...]:
    """On an enrolled field device, the kecamatan the hub gave it: work outside them could never be sent."""
    if current_app.config["ROLE"] != "field":
        return ()
    me = self_device(db.session)
    return tuple(me.scope or ()) if me is not None else ()


def _visible_kecamatan() -> list[tuple[str, str]]:
    scope, device = kecamatan_scope(current_user), _device_scope()
    return [c for c in kecamatan_choices(db.session) if (not scope or c[0] in scope) and (not device or c[0] in device)]


def _kecamatan_filter() -> tuple[str, ...]:
    scope = kecamatan_scope(current_user)
    chosen = request.args.get("kecamatan", "")
    if chosen and (not scope or chosen in scope):
        return (chosen,)
    return scope


def _check_scope(kecamatan_code: str) -> None:
    scope, device = kecamatan_scope(current_user), _device_scope()
    if scope and kecamatan_code not in scope:
        raise SURVEY_PROBLEMS("facility.outside_scope")
    if device and kecamatan_code not in device:
        raise SURVEY_PROBLEMS("facility.outside_device")


def _near() -> tuple[float, float] | None:
    """The user's position from the query string (sent by the page when the browser knows it)."""
    try:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
    except (KeyError, ValueError):
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None
