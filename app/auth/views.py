"""Sign in and out; the admin's user pages."""

from __future__ import annotations

import math

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from app import auditlog
from app.auth import role_required
from app.auth.forms import ROLE_LABELS, LoginForm, UserForm
from app.auth.problems import AUTH_PROBLEMS
from app.auth.queries import list_users, user_by_id, user_by_username
from app.auth.scope import ADMINS
from app.auth.service import create_user, device_is_new, may_sign_in, update_user
from app.db import utcnow
from app.errors import show_on_form
from app.extensions import db, limiter
from app.htmx import render_page
from app.node import self_device_id
from app.problems import AppError
from app.tx import read_before_write, transactional
from geo.queries import kecamatan_choices

bp = Blueprint("auth", __name__)

# Only failed sign-ins count (the form answers 401): an office of auditors behind one address signing
# in at eight o'clock is not an attack; guessing one account's password, or many, from one place is.
PER_ADDRESS = "10 per minute"
PER_ACCOUNT = "5 per 5 minutes"


def _failed(response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    """The username tried, as the limiter's key: guesses at one account count together wherever they come from."""
    return "login:" + request.form.get("username", "").strip().lower()[:80]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(PER_ADDRESS, key_func=get_remote_address, methods=["POST"], deduct_when=_failed)
@limiter.limit(PER_ACCOUNT, key_func=_account_key, methods=["POST"], deduct_when=_failed)
@transactional(lock=("POST",))
def login():
    """Sign in with username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        with read_before_write():  # the slow password hash holds no write lock
            user = user_by_username(db.session, form.username.data)
            allowed = may_sign_in(db.session, user, current_app.config["DEMO"])
            right = allowed and user.check_password(form.password.data)
        user = user_by_username(db.session, form.username.data) if right else None
        if user is not None and may_sign_in(db.session, user, current_app.config["DEMO"]):  # still, in the write
            login_user(user)
            user.last_login_at = utcnow()
            auditlog.record(db.session, action="login", entity="user", entity_id=user.id, user_id=user.id,
                            device_id=self_device_id(db.session))
            return redirect(_safe_next(request.args.get("next")) or url_for("core.home"))
        # One message for unknown user and wrong password: do not reveal which usernames exist.
        error = _("Wrong username or password.")
    return _login_page(form, error), (401 if error else 200)


@bp.errorhandler(RateLimitExceeded)
def _too_many(error: RateLimitExceeded):
    """Too many failed sign-ins: say so beside the form, with how long to wait, not on a dead-end page."""
    if request.endpoint != "auth.login":
        return error
    minutes = max(1, math.ceil(error.limit.limit.get_expiry() / 60))
    message = _("Too many failed sign-in attempts. Wait %(minutes)d minutes, then try again.", minutes=minutes)
    return _login_page(LoginForm(), message, "auth.throttled"), 429


def _login_page(form: LoginForm, error: str | None, error_code: str | None = None):
    new = device_is_new(db.session, current_app.config["ROLE"], current_app.config["DEMO"])
    # Whether it is enrolled yet is sync's to say: the template asks `device_enrolled()` (sync.init_app).
    return render_page("auth/login.html", form=form, error=error, error_code=error_code, device_is_new=new)


@bp.post("/logout")
def logout():
    """Sign out."""
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/admin/users")
@role_required(*ADMINS)
def users():
    """Every user with role, kecamatan and last sign-in."""
    return render_page("auth/users.html", users=list_users(db.session), role_labels=ROLE_LABELS)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@role_required(*ADMINS)
@transactional(lock=("POST",))
def user_new():
    """Create a user."""
    form = _user_form()
    form.password.flags.required = True
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("Enter a password."))
        else:
            try:
                create_user(db.session, username=form.username.data, role=form.role.data,
                            password=form.password.data, full_name=form.full_name.data or "",
                            kecamatan_codes=form.kecamatan.data, actor_id=current_user.id,
                            device_id=self_device_id(db.session))
            except AppError as error:
                db.session.rollback()
                show_on_form(form, error, USER_FIELDS.get(error.code), "username")
            else:
                flash(_("User %(name)s created.", name=form.username.data), "success")
                return redirect(url_for("auth.users"))
    return render_page("auth/user_form.html", form=form, user=None), (422 if form.errors else 200)


@bp.route("/admin/users/<user_id>", methods=["GET", "POST"])
@role_required(*ADMINS)
@transactional(lock=("POST",))
def user_edit(user_id: str):
    """Change a user's role, kecamatan, access or password."""
    user = user_by_id(db.session, user_id)
    if user is None:
        raise AUTH_PROBLEMS("user.not_found")
    form = _user_form(obj=user)
    if request.method == "GET":
        form.kecamatan.data = user.kecamatan_codes
    form.username.data = user.username  # the username is the user's identity in the audit log
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
            form.role.errors.append(_("You cannot remove your own administrator access."))
        else:
            try:
                update_user(db.session, user, role=form.role.data, full_name=form.full_name.data or "",
                            kecamatan_codes=form.kecamatan.data, active=form.active.data,
                            password=form.password.data or None, actor_id=current_user.id,
                            device_id=self_device_id(db.session))
            except AppError as error:
                db.session.rollback()
                show_on_form(form, error, USER_FIELDS.get(error.code), "role")
            else:
                flash(_("Changes to %(name)s saved.", name=user.username), "success")
                return redirect(url_for("auth.users"))
    return render_page("auth/user_form.html", form=form, user=user), (422 if form.errors else 200)


# Where a refusal of the user service belongs on the form.
USER_FIELDS = {"user.bad_username": "username", "user.exists": "username", "user.bad_role": "role",
               "user.weak_password": "password", "wilayah.unknown_kecamatan": "kecamatan"}


def _user_form(**kwargs) -> UserForm:
    form = UserForm(**kwargs)
    form.kecamatan.choices = [SelectChoice(code, label) for code, label in kecamatan_choices(db.session)]
    return form


def _safe_next(target: str | None) -> str | None:
    """Only follow a `next` that stays on this site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None
