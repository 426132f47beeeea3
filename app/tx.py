"""One transaction per write request: views that write are wrapped; nothing below them commits."""

from __future__ import annotations

import logging
from functools import wraps

from flask import Flask, current_app, request

from app.db import reset_write_intent, set_write_intent
from app.extensions import db

log = logging.getLogger(__name__)
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def transactional(view):
    """Commit the request's one transaction when the view returns; any error rolls it all back."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            response = view(*args, **kwargs)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        return response

    return wrapper


def init_app(app: Flask) -> None:
    """Take SQLite's write lock at BEGIN for write requests; catch views that forget to commit."""

    @app.before_request
    def _write_intent():
        if request.method not in READ_METHODS:
            request.environ["pantau.write_token"] = set_write_intent(True)

    @app.teardown_request
    def _end(exc):
        token = request.environ.pop("pantau.write_token", None)
        session = db.session
        if exc is None and (session.new or session.dirty or session.deleted):
            # A write view without @transactional would silently lose its changes: make it loud.
            log.error("request %s %s ended with uncommitted changes", request.method, request.path)
            if current_app.testing:
                raise RuntimeError(f"uncommitted changes at end of {request.method} {request.path}")
        if token is not None:
            reset_write_intent(token)
