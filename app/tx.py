"""One transaction per write request: views that write are wrapped; nothing below them commits.

Whether a request takes SQLite's write lock at BEGIN is declared on the route by `@transactional`, not
guessed from the HTTP method: GET routes write too (a pull or an export publishes what is new), and a
form's GET only reads.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from functools import wraps

from flask import Flask, current_app, request

from app.db import reset_write_intent, set_write_intent
from app.extensions import db

log = logging.getLogger(__name__)
WRITE_LOCK = "pantau_write_lock"  # the view attribute: the methods whose requests take the write lock
EVERY_METHOD = frozenset({"*"})


def transactional(view=None, *, lock: tuple[str, ...] | None = None):
    """Commit the request's one transaction when the view returns; any error rolls it all back.

    Declares that the route writes: its requests take the write lock at BEGIN, for every method it serves,
    or only for the methods in `lock` (a form route: `lock=("POST",)`, as its GET only shows the form).
    """
    if view is None:
        return lambda inner: transactional(inner, lock=lock)

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            response = view(*args, **kwargs)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            # The request's one write transaction is over: what reads after it (an error page, the throttle's
            # own count in app.throttle) must not take SQLite's write lock again and hold it to the request's end.
            set_write_intent(False)
        return response

    setattr(wrapper, WRITE_LOCK, frozenset(lock) if lock else EVERY_METHOD)  # wraps() carries it to outer decorators
    return wrapper


@contextmanager
def read_before_write():
    """A write request's slow read first, in its own transaction without SQLite's write lock: a sign-in hashes
    the password (half a second) before it records the sign-in, and every other writer (a push, an enrollment)
    would wait behind it, 20 planners signing in at once beyond SQLite's busy timeout. The read transaction ends
    here; the request's write begins, with the lock, at its next query. What was read is read again there."""
    token = set_write_intent(False)
    try:
        yield
    finally:
        db.session.rollback()  # ends the read; loaded objects expire and are read again in the write
        reset_write_intent(token)


def takes_write_lock(view, method: str) -> bool:
    """Whether a request with this method to this view is declared to write."""
    methods = getattr(view, WRITE_LOCK, None)
    return methods is not None and (methods is EVERY_METHOD or method in methods)


def init_app(app: Flask) -> None:
    """Take SQLite's write lock at BEGIN for requests their route declares as writing; catch views that forget
    to commit."""

    @app.before_request
    def _write_intent():
        if takes_write_lock(app.view_functions.get(request.endpoint), request.method):
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
