"""Errors with stable codes, turned into an HTML page, an htmx fragment or JSON in one place."""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.extensions import db
from app.htmx import is_htmx
from app.problems import KERNEL_PROBLEMS, AppError, Conflict, Forbidden, NotFound  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)
TOO_LARGE = "pantau.body_too_large"  # set on the request when its body was refused as over the size limit
# A refused body up to this size is read to its end before the refusal goes out (see _drain_refused_body).
DRAIN_LIMIT = 64 * 1024 * 1024
DRAIN_CHUNK = 256 * 1024
DRAIN_SECONDS = 10  # and for no longer: a client trickling its body does not hold a worker thread with it


HTTP_MESSAGES = {
    400: ("request.bad", _l("The request could not be understood.")),
    403: ("auth.forbidden", _l("You do not have access to this page.")),
    404: ("request.not_found", _l("This page does not exist.")),
    405: ("request.method", _l("This action is not allowed here.")),
    413: ("upload.too_large", _l("The file is too large.")),
    429: ("request.too_many", _l("Too many attempts. Wait a few minutes and try again.")),
}


def register(app: Flask) -> None:
    """Install the error handlers."""
    app.register_error_handler(AppError, _handle_app_error)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(IntegrityError, _handle_integrity)
    app.register_error_handler(DataError, _handle_data)
    app.register_error_handler(OperationalError, _handle_operational)
    app.register_error_handler(HTTPException, _handle_http)
    app.after_request(_drain_refused_body)


def _handle_app_error(error: AppError):
    db.session.rollback()
    return respond_error(error.code, gettext(error.message, **error.params), error.status, field=error.field)


def _handle_csrf(error: CSRFError):
    return _handle_app_error(KERNEL_PROBLEMS("request.csrf"))


def _handle_integrity(error: IntegrityError):
    log.warning("integrity error: %s", error.orig, exc_info=True)
    return _handle_app_error(KERNEL_PROBLEMS("db.conflict"))


def _handle_data(error: DataError):
    # A value the database refuses (too long for its column, out of a type's range) that a check above
    # missed: logged as the bug it is, answered as a refusal that changed nothing, never a 500.
    log.error("data error: %s", error.orig, exc_info=True)
    return _handle_app_error(KERNEL_PROBLEMS("db.bad_value"))


def _handle_operational(error: OperationalError):
    if "locked" in str(error.orig).lower():
        return _handle_app_error(KERNEL_PROBLEMS("db.busy"))
    db.session.rollback()
    raise error


def _handle_http(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    code, message = HTTP_MESSAGES.get(error.code, (f"http.{error.code}", error.description))
    if error.code == 413 and current_app.config.get("MAX_CONTENT_LENGTH"):
        view = current_app.view_functions.get(request.endpoint)
        if request.method == "POST" and not is_htmx() and getattr(view, "rerenders_too_large", False):
            # The body was refused before the view ran (CSRF reads the form first): let the form page
            # re-render itself with the message beside its file field instead of a dead-end page.
            request.environ[TOO_LARGE] = True
            return current_app.make_response(view(**(request.view_args or {})))
        message = _too_large_message()
    return respond_error(code, str(message), error.code)


def _drain_refused_body(response):
    """Read what is left of a body refused as too large (bounded) before the 413 goes out.

    gunicorn closes a connection whose unread body is over 64 KiB; a proxy still sending that body then gets a
    reset instead of our answer and shows the user its own 502, never "the file is too large". A body that
    announces more than DRAIN_LIMIT is not read: that connection is closed, as before.
    """
    if response.status_code != 413:
        return response
    stream, length = request.environ.get("wsgi.input"), request.content_length
    if stream is None or (length or 0) > DRAIN_LIMIT:
        return response
    # gunicorn and waitress mark their streams as ending at the body's end (a chunked body too): read to that.
    # Elsewhere only the announced length is safe to read; without one, a read could wait for ever.
    budget = DRAIN_LIMIT if request.environ.get("wsgi.input_terminated") else (length or 0)
    deadline = time.monotonic() + DRAIN_SECONDS
    try:
        while budget > 0 and time.monotonic() < deadline and (chunk := stream.read(min(DRAIN_CHUNK, budget))):
            budget -= len(chunk)
    except (OSError, ValueError):
        pass  # the client went away: nothing left to drain
    return response


def respond_error(code: str, message: str, status: int, field: str | None = None):
    """Render one error as JSON (API), a fragment (htmx) or a full page."""
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": {"code": code, "message": message}}), status
    if is_htmx():
        # htmx 2 swaps no 4xx/5xx body: static/js/app.js reads this fragment and shows the message beside
        # the control that sent the request (never in the request's hx-target, which it would destroy).
        return render_template("errors/fragment.html", code=code, message=message, field=field), status
    return render_template("errors/page.html", code=code, message=message, status=status, back=_back()), status


def _back() -> str | None:
    """The page the refused request came from, on this site: the way back to what the user was doing."""
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url) and (request.method != "GET" or referrer != request.url):
        return referrer
    return None


def field_errors(error: AppError, field: str | None, fields: tuple[str, ...], default: str) -> dict[str, str]:
    """A refusal as {field: message} for a form page re-rendered with it: beside `field` when the form has it."""
    field = field or error.field
    return {field if field in fields else default: gettext(error.message, **error.params)}


def rerenders_too_large(view):
    """Mark a form view that shows "file too large" beside its field itself (it calls upload_refusal first)."""
    view.rerenders_too_large = True
    return view


def upload_refusal() -> str | None:
    """The message to show beside a file field when the posted body is over MAX_CONTENT_LENGTH, else None.

    Werkzeug refuses such a body when the form is first read, usually by the CSRF check before the view;
    the 413 handler then calls a view marked with @rerenders_too_large again, and this tells it why.
    """
    if request.environ.get(TOO_LARGE):
        return _too_large_message()
    try:
        request.files  # noqa: B018  (reading it parses the body)
    except RequestEntityTooLarge:
        return _too_large_message()
    return None


def _too_large_message() -> str:
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return gettext("The file is too large: the limit is %(limit)d MB.", limit=limit)


def show_on_form(form, error: AppError, field: str | None = None, default: str | None = None) -> None:
    """Put a domain refusal beside its field on a Flask-WTF form: `field`, else the error's, else `default`."""
    fields = form._fields
    name = next((n for n in (field, error.field, default) if n in fields), next(iter(fields)))
    fields[name].errors = [*fields[name].errors, gettext(error.message, **error.params)]
