"""The write lock is declared on the route (`@transactional`), not guessed from the HTTP method.

On SQLite a request that writes must take the write lock at BEGIN (BEGIN IMMEDIATE), or two writers can
deadlock on the upgrade; a request that only reads must not wait for a long import. GET routes write too
(a pull or an export publishes what is new) and a form's GET only reads.
"""

from __future__ import annotations

import pytest
from flask import request

from app.db import write_intent
from app.tx import takes_write_lock

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# Routes that serve a write method without declaring the write lock, each with its reason.
UNLOCKED = {
    "auth.logout": "signing out changes the session cookie only",
    "backup.restore": "replaces the whole database outside any request transaction, in one step of its own (app.backup)",
    "sync.enroll": "talks to the hub and commits each step in its own write_transaction()",
    "sync.first_run": "talks to the hub and commits each step in its own write_transaction()",
    "sync.sync_now": "talks to the hub and commits each batch in its own write_transaction()",
}
# GET requests that write, so their routes declare the lock for GET.
WRITING_GETS = {"sync.export", "sync_api.pull", "sync_api.status", "sync_api.own", "field_api.field_package"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        yield rule.endpoint, app.view_functions[rule.endpoint], rule.methods - {"HEAD", "OPTIONS"}


def test_every_write_method_takes_the_lock_or_says_why_not(app):
    undeclared = sorted(f"{endpoint} {method}" for endpoint, view, methods in _routes(app) if endpoint not in UNLOCKED
                        for method in methods & WRITE_METHODS if not takes_write_lock(view, method))
    assert not undeclared, "declare @transactional (or list the route in UNLOCKED with its reason)"
    assert set(UNLOCKED) <= {endpoint for endpoint, _view, _methods in _routes(app)}, "UNLOCKED names a route that is gone"


def test_gets_lock_only_where_they_write(app):
    locking = {endpoint for endpoint, view, methods in _routes(app) if "GET" in methods and takes_write_lock(view, "GET")}
    assert locking == WRITING_GETS


@pytest.fixture
def intents(app):
    """The write intent each request ran with, by method and path (read after the app's own hooks)."""
    seen = {}

    @app.before_request
    def _record():
        seen[(request.method, request.path)] = write_intent()

    return seen


@pytest.mark.parametrize("method, path, locked", [
    ("GET", "/facilities/new", False),  # the form: reads
    ("POST", "/facilities/new", True),  # the registration: writes
    ("POST", "/language", True),
    ("POST", "/logout", False),
    ("GET", "/facilities/", False),
])
def test_a_request_takes_the_lock_its_route_declares(app, auth, auditor, intents, method, path, locked):
    auth.login("siti")
    if method == "GET":
        auth.client.get(path)
    else:
        auth.post(path, {"name": "", "lang": "en"})
    assert intents[(method, path)] is locked
