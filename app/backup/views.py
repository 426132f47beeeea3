"""A field device's backup in the browser: save it to a USB stick, restore it on a new laptop at first start.

A hub is backed up with `flask backup` by its admin (a hub's photos do not fit a browser download); these
pages exist on field devices only.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.utils import secure_filename

from app.auth.service import device_is_new
from app.backup import service
from app.backup.problems import BACKUP_PROBLEMS
from app.backup.target import restore_target
from app.db import Base, utcnow
from app.downloads import made_file
from app.extensions import db
from app.htmx import render_page
from app.problems import AppError

bp = Blueprint("backup", __name__)
# Larger than any upload elsewhere: a device's backup holds every photo it took.
MAX_BACKUP_BYTES = 20 * 1024 ** 3


@bp.before_request
def _field_devices_only():
    if current_app.config["ROLE"] != "field":
        abort(404)


@bp.get("/backup/download")
@login_required
def download():
    """This device's backup (database, photos, files) as one file for a USB stick."""
    data_dir = Path(current_app.config["DATA_DIR"])
    return made_file(service.backup_name("field", utcnow()), lambda out: service.make_backup(
        db.engine, Base.metadata, data_dir, out, role="field", now=utcnow()))


def allow_backup_upload():
    """Before CSRFProtect reads the form: a device's backup is larger than any other upload (app.backup.init_app)."""
    if request.endpoint == "backup.restore" and request.method == "POST" and current_app.config["ROLE"] == "field":
        request.max_content_length = MAX_BACKUP_BYTES


@bp.route("/backup/restore", methods=["GET", "POST"])
def restore():
    """At first start only (no account can sign in yet): bring back a device from its backup file."""
    if not device_is_new(db.session, "field", current_app.config["DEMO"]):
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_page("backup/restore.html")
    upload = request.files.get("backup")
    # Enrolled, or holding facilities, but nobody can sign in: nothing anyone did here is replaced, unless
    # audits are (their auditor may come back).
    held = service.data_held(db.engine)
    db.session.remove()  # the restore replaces the database under this request's connection
    try:
        if upload is None or not upload.filename:
            raise BACKUP_PROBLEMS("backup.none")
        if "audit" in held:
            raise BACKUP_PROBLEMS("backup.not_empty/browser")
        with tempfile.TemporaryDirectory(prefix=".restore-upload-", dir=current_app.config["DATA_DIR"]) as folder:
            path = Path(folder) / (secure_filename(upload.filename) or "backup.zip")  # messages name the user's file
            upload.save(path)
            done = service.restore_backup(path, restore_target(), replace=True)
    except AppError as error:
        return render_page("backup/restore.html", errors={"backup": _(error.message, **error.params)},
                           error_code=error.code, filename=upload.filename if upload else None), 422
    flash(_("Device restored from %(name)s: %(files)d files and every table equal to the backup. Sign in with "
            "your account, then sync.", name=upload.filename, files=done.files), "success")
    return redirect(url_for("auth.login"))

