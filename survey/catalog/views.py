"""Catalog pages on a hub (admins): the checklists and their versions, uploading an XLSForm, the import report,
the preview as an auditor sees it, publishing and retiring a version. A field device has no catalog: it receives
published versions by sync."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from functools import wraps
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from flask import Blueprint, abort, current_app, redirect, request, send_file, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename

from app.auth import role_required
from app.auth.scope import ADMINS
from app.errors import rerenders_too_large, show_on_form, upload_refusal
from app.extensions import db
from app.htmx import render_page
from app.node import self_device_id
from app.problems import AppError
from app.security import CSP
from app.tx import transactional
from survey import xlsform_writer
from survey.catalog import queries, service
from survey.catalog.forms import UploadForm
from survey.form import compute
from survey.problems import SURVEY_PROBLEMS

if TYPE_CHECKING:
    from survey.xlsform import XLSFormError

bp = Blueprint("catalog", __name__, url_prefix="/checklists")
PREVIEW_LANGUAGES = ("id", "en")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The preview frame is shown inside the version page of this app, and nowhere else: the app's policy with
# frame-ancestors 'self' instead of 'none' (app.security sets its headers only where a view has not).
FRAME_HEADERS = {"X-Frame-Options": "SAMEORIGIN",
                 "Content-Security-Policy": CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")}


def hub_only(view):
    """A field device has no catalog (checked after the role, as every refusal of this page is the same there)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_app.config["ROLE"] != "hub":
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def _actor() -> service.Actor:
    return service.Actor(current_user.id, current_user.username, self_device_id(db.session))


@bp.get("/")
@role_required(*ADMINS)
@hub_only
def index():
    """Every checklist and its versions: number, label, state, audits, devices that hold it."""
    return render_page("catalog/index.html", checklists=queries.catalog(db.session))


@bp.route("/upload", methods=["GET", "POST"])
@role_required(*ADMINS)
@hub_only
@transactional(lock=("POST",))
@rerenders_too_large
def upload():
    """Upload an XLSForm: a new draft version and its import report, or the refusal beside the upload control."""
    form = UploadForm()
    if request.method == "GET":
        return render_page("catalog/upload.html", form=form)
    too_large = upload_refusal()
    if too_large:
        return _refused(form, too_large, "upload.too_large", 413)
    if not form.validate():
        return render_page("catalog/upload.html", form=form), 422
    workbook = request.files.get("form")
    from survey.xlsform import XLSFormError  # pyxform loads with it: a third of a second no other page needs

    try:
        outcome = _import(workbook, request.files.getlist("attachments"), form.kinds.data or [])
    except XLSFormError as error:
        db.session.rollback()
        return _refused(form, _refusal_text(error), error.code, 422, where=(error.sheet, error.row))
    except AppError as error:
        db.session.rollback()
        if error.field == "attachments":
            show_on_form(form, error)
            return render_page("catalog/upload.html", form=form, error_code=error.code), error.status
        return _refused(form, _(error.message, **error.params), error.code, error.status)
    if not outcome.created:
        return render_page("catalog/upload.html", form=UploadForm(formdata=None), same=outcome.key,
                           notes=outcome.notes)
    return redirect(url_for("catalog.version", key=outcome.key, imported=1), code=303)


@bp.get("/<key>/")
@role_required(*ADMINS)
@hub_only
def version(key: str):
    """One version: its import report, its preview in both languages at phone width, Publish or Retire."""
    checklist = queries.version_checklist(db.session, key)
    if checklist is None:
        raise SURVEY_PROBLEMS("catalog.not_found")
    release = queries.release(db.session, key)
    return render_page("catalog/version.html", checklist=checklist, release=release,
                       state=release.state if release else queries.FILE_STATE,
                       audits=queries.audit_counts(db.session).get(key, 0), imported=bool(request.args.get("imported")),
                       languages=PREVIEW_LANGUAGES)


@bp.get("/<key>/preview")
@role_required(*ADMINS)
@hub_only
def preview(key: str):
    """The form as an auditor's phone shows it, read-only, in one language (framed by the version page)."""
    checklist = queries.version_checklist(db.session, key)
    if checklist is None:
        raise SURVEY_PROBLEMS("catalog.not_found")
    language = request.args.get("lang", str(get_locale() or "id"))
    if language not in PREVIEW_LANGUAGES:
        language = "id"
    with force_locale(language):
        page = render_page("catalog/preview.html", checklist=checklist, c=_preview_state(checklist))
    return page, 200, FRAME_HEADERS


@bp.get("/<key>/xlsform")
@role_required(*ADMINS)
@hub_only
def download(key: str):
    """The version as an XLSForm workbook (with its pulldata CSV files, a zip): imported again, the same checklist."""
    checklist = queries.version_checklist(db.session, key)
    if checklist is None:
        raise SURVEY_PROBLEMS("catalog.not_found")
    workbook, csv_files = xlsform_writer.write_xlsform(checklist), xlsform_writer.attachments(checklist)
    name = xlsform_writer.file_name(checklist)
    if not csv_files:
        return send_file(io.BytesIO(workbook), as_attachment=True, download_name=name, mimetype=XLSX)
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, workbook)
        for csv_name, data in csv_files.items():
            archive.writestr(csv_name, data)
    bundle.seek(0)
    return send_file(bundle, as_attachment=True, download_name=Path(name).with_suffix(".zip").name,
                     mimetype="application/zip")


@bp.post("/<key>/publish")
@role_required(*ADMINS)
@hub_only
@transactional
def publish(key: str):
    """Publish a version: devices receive it at their next sync and can start audits with it."""
    service.publish(db.session, key, _actor())
    return redirect(url_for("catalog.version", key=key), code=303)


@bp.post("/<key>/retire")
@role_required(*ADMINS)
@hub_only
@transactional
def retire(key: str):
    """Retire a published version: no new audit starts with it; drafts already started keep it."""
    service.retire(db.session, key, _actor())
    return redirect(url_for("catalog.version", key=key), code=303)


def _import(workbook, attachments, kinds: list[str]) -> service.ImportOutcome:
    """Import the uploads: the workbook from a temporary file (pyxform reads files), the CSV files as bytes."""
    if workbook is None or not workbook.filename:
        raise SURVEY_PROBLEMS("catalog.no_form", field="form")
    from survey.xlsform import WORKBOOK_SUFFIXES

    name = _safe_name(workbook.filename)
    if Path(name).suffix.lower() not in WORKBOOK_SUFFIXES:
        raise SURVEY_PROBLEMS("catalog.no_form", field="form")
    csv_files = {}
    for upload in attachments:
        if upload and upload.filename:
            # As the form names it: the importer finds an attachment by its exact file name.
            csv_name = Path(upload.filename.replace("\\", "/")).name
            if Path(csv_name).suffix.lower() != ".csv":
                raise SURVEY_PROBLEMS("catalog.bad_attachment", field="attachments", name=csv_name)
            csv_files[csv_name] = upload.read()
    with tempfile.TemporaryDirectory(prefix="catalog-") as folder:
        path = Path(folder) / name
        workbook.save(path)
        return service.import_form(db.session, path, csv_files, kinds, _actor())


def _safe_name(filename: str) -> str:
    """The file's own name without folders; the form id may come from it, so hyphens and dots stay."""
    return secure_filename(Path(filename.replace("\\", "/")).name) or "form.xlsx"


def _refusal_text(error: XLSFormError) -> str:
    """The importer's refusal in the reader's language (it names the sheet and row itself)."""
    return error.indonesian() if str(get_locale() or "id").startswith("id") else error.english()


def _refused(form: UploadForm, message: str, code: str, status: int, where: tuple = (None, None)):
    """The upload page again with the refusal beside the workbook control; nothing was stored."""
    sheet, row = where
    return render_page("catalog/upload.html", form=form, refusal={"message": message, "code": code,
                                                                  "sheet": sheet, "row": row}), status


def _preview_state(checklist) -> dict:
    """What the audit macros need to draw the form as on a new audit: its real state (defaults, relevance, a
    choice filter's empty list), with one entry in each repeat the auditor fills, so its questions show."""
    audit = SimpleNamespace(id="00000000-0000-0000-0000-000000000000", is_draft=True)
    answers = {repeat.id: 1 for repeat in checklist.repeats if repeat.count is None and repeat.parent is None}
    state = compute(checklist, answers, today=dt.date.today(), now=dt.datetime.now(dt.timezone.utc),
                    locale=str(get_locale() or "id"), touched=set())
    return {"audit": audit, "answers": state.shown(), "editable": True, "relevant": state.relevant, "notes": {},
            "photos": {}, "versions": {}, "state": state, "problems": {}, "photo_times": {}, "today": dt.date.today()}