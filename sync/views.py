"""Sync pages: devices and enrollment codes, the device's sync panel, bundle upload, reviews, conflicts.

Who may act for the node (docs/pages-and-roles.md): on a field device its own users enroll it, export its
bundle and import its return bundle, as the device is theirs. On a hub the upstream link and the
upstream bundle (password hashes, every kecamatan's audits) speak for the whole hub: admins only.
A hub imports devices' bundles and hands out return bundles to supervisors and admins only, who see
every kecamatan; auditors and planners never.
"""

from __future__ import annotations

import re
import uuid
from functools import wraps
from pathlib import Path

import segno
from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from app.auth import role_required
from app.auth.scope import ADMINS, REGISTRARS, REVIEWERS, ROLES
from app.auth.service import device_is_new, kecamatan_list
from app.downloads import made_file
from app.errors import field_errors, rerenders_too_large, upload_refusal
from app.extensions import db
from app.htmx import render_page
from app.inputs import one_line
from app.node import Device, self_device, self_device_id
from app.problems import AppError, NotFound
from app.tx import transactional
from geo.queries import kecamatan_choices
from survey.audits import queries as audit_queries
from survey.audits.pages import page_context as audit_page_context  # a refused review shows the audit page again
from survey.problems import SURVEY_PROBLEMS
from sync import conflicts as sync_conflicts
from sync import reviews, run, service, trust
from sync.client import last_problem
from sync.problems import SYNC_PROBLEMS, SyncError
from sync.queries import (REVIEW_STATES, conflict_list, device_with_id, held_counts, kecamatan_without_auditor,
                          list_devices, pending_counts, review_counts, review_queue, sent_by_device, waiting_by_sender)

bp = Blueprint("sync", __name__)

RETURN_NAME = re.compile(r"return-[0-9a-f]{32}\.zip")


def node_roles(*, field: tuple[str, ...], hub: tuple[str, ...]):
    """Allow the view to these roles, chosen by what this node is (ROLE=field or ROLE=hub)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            roles = hub if current_app.config["ROLE"] == "hub" else field
            return role_required(*roles)(view)(*args, **kwargs)

        return wrapper

    return decorate


def operates_node() -> bool:
    """Whether the signed-in user may sync, export or enroll this node (shown only to them; checked in the views)."""
    return current_app.config["ROLE"] != "hub" or current_user.role == "admin"


@bp.get("/devices/")
@role_required(*REVIEWERS)
def devices():
    """This installation, the devices that sync with it, and (on a device) the sync panel."""
    return render_page("sync/devices.html", devices=list_devices(db.session), kecamatan=kecamatan_choices(db.session),
                       peer=service.peer(db.session), counts=pending_counts(db.session), code=None,
                       sent=sent_by_device(db.session), waiting=waiting_by_sender(db.session), max_waiting=trust.MAX_WAITING)


# Where a refusal of device registration belongs on the form.
REGISTER_FIELDS = {"device.bad_name": "name", "wilayah.unknown_kecamatan": "kecamatan", "device.bad_role": "role"}


@bp.post("/devices/register")
@role_required(*REVIEWERS)
@transactional
def register():
    """Register a device and show its one-time code, once; a refusal is shown beside its field, input kept."""
    scope = request.form.getlist("kecamatan")
    role = request.form.get("role", "field")
    values = {"name": one_line(request.form.get("name", "")), "kecamatan": scope, "role": role}
    if role != "field" and current_user.role != "admin":  # a lower hub relays for others: an admin's decision
        raise SYNC_PROBLEMS("device.role_forbidden")
    try:
        kecamatan_list(db.session, scope)
        if not scope:
            raise SYNC_PROBLEMS("device.no_scope", field="kecamatan")
        device, code = service.register_device(db.session, values["name"], scope, role)
    except AppError as error:
        db.session.rollback()
        errors = field_errors(error, REGISTER_FIELDS.get(error.code, error.field), ("name", "kecamatan", "role"), "name")
        return _devices_page(code=None, errors=errors, values=values, error_code=error.code), 422
    for _code, name in kecamatan_without_auditor(db.session, scope, current_app.config["DEMO"]) if role == "field" else ():
        flash(_("No active auditor account exists for Kecamatan %(name)s: the device will have no one to sign in "
                "with until an admin creates one (Users page) and the device syncs again.", name=name), "warning")
    url = enroll_url(code)
    return _devices_page(code=code, code_for=device.name, enroll_url=url, enroll_qr=enroll_qr(url))


# The QR code of an enrollment URL: level M survives a smudged screen or glare; no micro QR (phones' cameras
# do not read it). The SVG has a viewBox and no size, so the page's CSS makes it large enough to scan.
QR_ERROR = "m"
QR_SVG = {"scale": 1, "border": 4, "omitsize": True, "dark": "#000", "light": "#fff"}


def enroll_url(code: str) -> str:
    """The field app's address with the one-time code: the tablet's camera opens it, the app enrolls."""
    return url_for("fieldapp.shell", _external=True) + "#enroll=" + code


def enroll_qr(url: str) -> Markup:
    """The URL as an inline SVG QR code (segno; no image host, nothing fetched)."""
    title = _("Enrollment QR code")
    return Markup(segno.make(url, error=QR_ERROR, micro=False).svg_inline(title=title, **QR_SVG))


def _devices_page(**context):
    """The devices page with the registration form's state (a new code, or refusals and the typed values)."""
    return render_page("sync/devices.html", devices=list_devices(db.session), kecamatan=kecamatan_choices(db.session),
                       peer=service.peer(db.session), counts=pending_counts(db.session), sent=sent_by_device(db.session),
                       waiting=waiting_by_sender(db.session), max_waiting=trust.MAX_WAITING, **context)


@bp.post("/devices/<device_id>/restart-seen")
@role_required(*REVIEWERS)
@transactional
def restart_seen(device_id: str):
    """Clear a device's restart warning once a supervisor has seen it (sync itself never clears it)."""
    device = _device(device_id)
    service.restart_seen(db.session, device, user_id=current_user.id)
    flash(_("The warning about %(name)s is cleared.", name=device.name), "success")
    return redirect(url_for("sync.devices"))


@bp.post("/devices/<device_id>/revoke")
@role_required(*REVIEWERS)
@transactional
def revoke(device_id: str):
    """Stop a lost or retired device from syncing."""
    device = _device(device_id)
    service.revoke(db.session, device)
    flash(_("%(name)s can no longer sync.", name=device.name), "success")
    return redirect(url_for("sync.devices"))


@bp.post("/sync/enroll")
@node_roles(field=REGISTRARS, hub=ADMINS)
def enroll():
    """On a device: enroll with a hub using the code shown there; a refusal is shown beside its field."""
    answer, refusal = _enroll_from_form()
    if refusal:
        return render_page("sync/status.html", peer=None, counts=pending_counts(db.session), may_operate=True,
                           **refusal), 422
    flash(_("Enrolled with %(hub)s. Sync now to fetch the facilities of your kecamatan.", hub=answer["hub_name"]), "success")
    return redirect(url_for("sync.status"))


@bp.route("/setup", methods=["GET", "POST"])
def first_run():
    """A new field device with no account to sign in with: enroll it with the hub, which sends the accounts,
    regions, facilities and checklists of its kecamatan; once enrolled, sync again until an account arrives.

    Open without signing in only while no account on the device can sign in: nobody could sign in to do it
    otherwise (the desktop app and a fresh tablet start like this, and so does a device whose hub has no
    auditor for its kecamatan yet).
    """
    if not device_is_new(db.session, current_app.config["ROLE"], current_app.config["DEMO"]):
        return redirect(url_for("auth.login"))
    hub = service.peer(db.session)
    if request.method == "GET":
        return render_page("sync/setup.html", **_setup_facts(hub))
    if hub is None:
        answer, refusal = _enroll_from_form()
        if refusal:
            return render_page("sync/setup.html", **_setup_facts(None), **refusal), 422
        flash(_("Enrolled with %(hub)s.", hub=answer["hub_name"]), "success")
    try:
        summary = run.pull()
    except SyncError as error:
        flash(_("The sync with the hub failed: %(reason)s", reason=_(error.message, **error.params)), "error")
        return redirect(url_for("sync.first_run"))
    db.session.rollback()  # read what the sync committed
    if device_is_new(db.session, current_app.config["ROLE"], current_app.config["DEMO"]):
        return redirect(url_for("sync.first_run"))  # the page says which kecamatan has no auditor yet
    flash(_("%(n)d records received. Sign in with your account.", n=summary.pulled), "success")
    for _code, name in _missing_auditors():
        flash(_("The hub has no auditor account for Kecamatan %(name)s yet.", name=name), "warning")
    return redirect(url_for("auth.login"))


def _setup_facts(hub) -> dict:
    """What the setup page shows once the device is enrolled: the hub, what arrived, what is missing."""
    if hub is None:
        return {"hub": None}
    return {"hub": hub, "held": held_counts(db.session), "missing": _missing_auditors()}


def _missing_auditors() -> list[tuple[str, str]]:
    """The kecamatan of this device where no auditor account can sign in here."""
    me = self_device(db.session)
    return kecamatan_without_auditor(db.session, me.scope if me else [], current_app.config["DEMO"])


def _enroll_from_form() -> tuple[dict | None, dict | None]:
    """Enroll with the hub and code in the form: (the hub's answer, None) or (None, what to show beside the fields)."""
    url, code = request.form.get("hub", "").strip(), request.form.get("code", "").strip()
    try:
        if not url.startswith(("http://", "https://")):
            raise SYNC_PROBLEMS("sync.bad_url", field="hub")
        if not code:
            raise SYNC_PROBLEMS("sync.bad_code/missing", field="code")
        return run.enroll(url, code), None
    except AppError as error:
        field = error.field or ("code" if error.code == "sync.bad_code" else "hub")
        message = f"{_(error.message, **error.params)} [{error.code}]"
        return None, {"errors": {field: message}, "values": {"hub": url, "code": code}}


@bp.get("/sync/")
@login_required
def status():
    """On a device: what waits to be sent, what came back, when the last sync was."""
    peer = service.peer(db.session)
    return render_page("sync/status.html", peer=peer, counts=pending_counts(db.session), may_operate=operates_node(),
                       problem=last_problem(peer.last_error if peer else None))


@bp.post("/sync/now")
@node_roles(field=ROLES, hub=ADMINS)
def sync_now():
    """Push then pull over HTTP. Each batch commits on its own (docs/sync.md), so this view does not wrap one transaction."""
    try:
        summary = run.now()
    except SyncError as error:
        flash(_(error.message, **error.params), "error")
    else:
        flash(_("Sync done: %(sent)d sent, %(got)d received.", sent=summary.pushed, got=summary.pulled), "success")
        if summary.recovered:
            flash(_("%(n)d records this device made after its backup came back from the hub.", n=summary.recovered),
                  "success")
        for note in summary.notes:
            flash(_(note), "info")
    return redirect(url_for("sync.status"))


@bp.get("/sync/export")
@node_roles(field=ROLES, hub=ADMINS)
@transactional
def export():
    """Download this node's bundle (everything its hub has not acknowledged); no copy stays in the data folder."""
    name = f"pantau-{self_device_id(db.session)}.zip"
    return made_file(name, lambda out: service.export_bundle(db.session, out, run.photo_store()))


@bp.route("/sync/upload", methods=["GET", "POST"])
@node_roles(field=REGISTRARS, hub=REVIEWERS)
@transactional(lock=("POST",))
@rerenders_too_large
def upload():
    """Import a bundle: a device's bundle on a hub (then download its return bundle), a return bundle on a device."""
    if request.method == "GET":
        return render_page("sync/upload.html", result=None)
    too_large = upload_refusal()
    if too_large:
        return render_page("sync/upload.html", result=None, errors={"bundle": too_large},
                           error_code="upload.too_large"), 413
    upload_file = request.files.get("bundle")
    try:
        if upload_file is None or not upload_file.filename:
            raise SYNC_PROBLEMS("bundle.none")
        return _import_bundle(upload_file.filename, upload_file.read())
    except AppError as error:
        db.session.rollback()
        # A wrong file is named beside the file field; the page stays usable to choose another.
        return render_page("sync/upload.html", result=None, errors=field_errors(error, None, ("bundle",), "bundle"),
                           error_code=error.code, filename=getattr(upload_file, "filename", "")), error.status


def _import_bundle(filename: str, data: bytes):
    """Apply a bundle and render what it changed (a field device's return bundle, or a device's bundle on a hub)."""
    if not data:
        raise SYNC_PROBLEMS("bundle.empty", name=filename)
    if current_app.config["ROLE"] == "field":
        result = service.import_return_bundle(db.session, data, run.photo_store(), current_app.config["MAX_CONTENT_LENGTH"])
        return render_page("sync/upload.html", result={"applied": result.applied, "received": result.received})
    folder = Path(current_app.config["DATA_DIR"]) / "returns"
    folder.mkdir(exist_ok=True)
    target = folder / f"return-{uuid.uuid4().hex}.zip"
    try:
        ack, _manifest = service.import_push_bundle(db.session, data, run.photo_store(),
                                                    current_app.config["MAX_CONTENT_LENGTH"], target)
    except BaseException:
        target.unlink(missing_ok=True)  # a refused bundle leaves nothing behind
        raise
    return render_page("sync/upload.html", result={"applied": ack.applied, "received": ack.applied + ack.duplicates,
                                                   "duplicates": ack.duplicates, "waiting": ack.waiting,
                                                   "conflicts": ack.conflicts, "return": target.name})


@bp.get("/sync/returns/<name>")
@role_required(*REVIEWERS)
def return_bundle(name: str):
    """Download a return bundle made by an upload on a hub (supervisors and admins, who see every kecamatan)."""
    if current_app.config["ROLE"] != "hub" or not RETURN_NAME.fullmatch(name):
        abort(404)
    path = Path(current_app.config["DATA_DIR"]) / "returns" / name
    if not path.exists():
        abort(404)
    return send_file(path, as_attachment=True, download_name=name, mimetype="application/zip")


@bp.get("/reviews/")
@role_required(*REVIEWERS)
def review_list():
    """Received audits by review state, with a count per state; those waiting for a decision first."""
    chosen = request.args.get("kecamatan", "")
    state = request.args.get("state", "waiting")
    if state not in REVIEW_STATES:
        state = "waiting"
    audits = review_queue(db.session, state, chosen)
    return render_page("sync/reviews.html", audits=audits, state=state, counts=review_counts(db.session, chosen),
                       photos=audit_queries.photo_counts(db.session, [a.id for a in audits]),
                       titles=audit_queries.checklist_titles(db.session, {a.checklist_key for a in audits}),
                       corrections=audit_queries.corrections_of(db.session, [a.id for a in audits]),
                       kecamatan=kecamatan_choices(db.session), chosen=chosen)


@bp.post("/reviews/<audit_id>")
@role_required(*REVIEWERS)
@transactional
def decide(audit_id: str):
    """Approve, return with a comment, or reject; a refusal shows the audit again with the input kept."""
    audit = audit_queries.audit(db.session, audit_id)
    if audit is None:
        raise SURVEY_PROBLEMS("audit.not_found")
    decision, comment = request.form.get("decision", ""), request.form.get("comment", "")
    try:
        reviews.decide(db.session, audit, decision, comment, current_user.username, user_id=current_user.id)
    except AppError as problem:
        db.session.rollback()
        context = audit_page_context(audit_queries.audit(db.session, audit_id))
        if problem.field is None or not context["can_review"]:
            raise  # not about the form (a draft, a device's copy): the error page says so
        refused = {"decision": decision if decision in reviews.DECISIONS else "", "comment": comment,
                   "field": problem.field, "message": _(problem.message, **problem.params)}
        return render_page("audits/checklist.html", review_input=refused, **context), problem.status
    flash(_("Decision saved: it reaches the device at its next sync."), "success")
    return redirect(url_for("audits.show", audit_id=audit.id))


@bp.get("/conflicts/")
@role_required(*REVIEWERS)
def conflicts():
    """Open conflicts first, then resolved ones; an audit conflict shows what differs."""
    return _conflicts_page()


def _conflicts_page(**refused):
    """The conflicts page; after a refused resolution, the refusal beside that conflict's form, note kept."""
    rows = conflict_list(db.session)
    compared = {c.id: sync_conflicts.compare_audit(db.session, c) for c in rows if c.kind == "audit" and c.resolved_at is None}
    return render_page("sync/conflicts.html", conflicts=rows, compared=compared, **refused)


@bp.post("/conflicts/<conflict_id>/resolve")
@role_required(*REVIEWERS)
@transactional
def resolve(conflict_id: str):
    """Resolve a conflict: keep what stands (with a note), a facility value, or the other audit version."""
    conflict = sync_conflicts.find(db.session, conflict_id)
    try:
        return _resolve(conflict)
    except AppError as error:
        if isinstance(error, NotFound) or request.accept_mimetypes.best == "application/json":
            raise
        db.session.rollback()
        refusal = {"id": conflict.id, "code": error.code, "message": _(error.message, **error.params)}
        return _conflicts_page(refusal=refusal, typed_note=request.form.get("note", "")[:300]), error.status


def _resolve(conflict):
    """The chosen resolution of one conflict, then back to the list (or to the audit made of the other version)."""
    resolver = sync_conflicts.Resolver(current_user.username, current_user.id, self_device_id(db.session))
    note, choice = request.form.get("note", ""), request.form.get("keep", "")
    if conflict.kind == "facility" and request.form.get("value_index", "") != "":
        try:
            index = int(request.form["value_index"])
        except ValueError:
            raise SYNC_PROBLEMS("conflict.bad_choice") from None
        sync_conflicts.keep_facility_value(db.session, conflict, index, resolver, note)
    elif conflict.kind == "audit" and choice == "other":
        revision = sync_conflicts.keep_other_audit(db.session, conflict, run.photo_store(), resolver, note)
        flash(_("The other version is now correction %(n)s of this audit and waits for review.", n=revision.revision),
              "success")
        return redirect(url_for("audits.show", audit_id=revision.id))
    else:
        sync_conflicts.resolve_with_note(db.session, conflict, resolver, note)
    flash(_("Conflict resolved."), "success")
    return redirect(url_for("sync.conflicts"))


def _device(device_id: str) -> Device:
    device = device_with_id(db.session, device_id)
    if device is None or device.is_self:
        raise SYNC_PROBLEMS("device.not_found")
    return device
