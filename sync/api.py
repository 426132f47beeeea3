"""The versioned JSON sync API, `/api/v1/sync/`: token-authenticated, gzip in and out, one transaction per request."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request

from app.extensions import csrf, db, limiter
from app.problems import N_
from app.tx import transactional
from survey.photos import PhotoStore
from sync import service
from sync.changes import SCHEMA_VERSION, SyncError
from sync.queries import self_device_id

bp = Blueprint("sync_api", __name__, url_prefix="/api/v1/sync")
csrf.exempt(bp)  # token auth, no cookies: CSRF does not apply
MAX_BODY = 64 * 1024 * 1024
# Wrong enrollment codes per address (only failures count): a code does not say which registration it
# was meant for, so guessing is throttled by who guesses (docs/sync.md, "Enrollment and scope").
ENROLL_LIMIT = "10 per minute;50 per hour"


def store() -> PhotoStore:
    return PhotoStore(Path(current_app.config["DATA_DIR"]) / "photos")


def body_json() -> dict:
    """The request body as JSON, gunzipped when sent with Content-Encoding: gzip."""
    raw = request.get_data(cache=False)
    if request.headers.get("Content-Encoding") == "gzip":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            raise SyncError("sync.bad_request", N_("The request body is not valid gzip."), status=400) from None
    if len(raw) > MAX_BODY:
        raise SyncError("sync.too_large", N_("The request is too large."), status=413)
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise SyncError("sync.bad_request", N_("The request body is not valid JSON."), status=400) from None
    if not isinstance(data, dict):
        raise SyncError("sync.bad_request", N_("The request body is not valid JSON."), status=400)
    return data


def reply(data: dict, status: int = 200) -> Response:
    """JSON, gzipped when the client accepts it and the answer is worth compressing."""
    text = json.dumps(data, separators=(",", ":")).encode()
    if "gzip" in request.headers.get("Accept-Encoding", "") and len(text) > 1024:
        response = Response(gzip.compress(text, 6), status=status, mimetype="application/json")
        response.headers["Content-Encoding"] = "gzip"
        return response
    return Response(text, status=status, mimetype="application/json")


def device():
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    return service.authenticate(db.session, token)


@bp.post("/enroll")
@limiter.limit(ENROLL_LIMIT, deduct_when=lambda response: response.status_code >= 400)
@transactional
def enroll():
    """Exchange a one-time code for a device token and key; the hub mints the id and decides role and scope."""
    data = body_json()
    answer = service.enroll(db.session, str(data.get("code", "")), str(data.get("name", ""))[:80])
    return reply(answer, 201)


@bp.get("/status")
@transactional
def status():
    """Who the hub is and how far it has received this device's changes."""
    sender = device()
    return reply({"hub_id": str(self_device_id(db.session)), "acked_seq": sender.acked_seq,
                  "schema_version": SCHEMA_VERSION, "scope": sender.scope})


@bp.post("/photos/missing")
@transactional
def photos_missing():
    """Which of these photos the hub lacks."""
    device()
    shas = body_json().get("sha256") or []
    if not isinstance(shas, list) or len(shas) > 10_000:
        raise SyncError("sync.bad_request", N_("The request body is not valid JSON."), status=400)
    photos = store()
    return reply({"missing": [s for s in shas if not (isinstance(s, str) and service.has_photo(db.session, photos, s))]})


@bp.put("/photos/<sha256>")
@transactional
def photo_put(sha256: str):
    """Store one photo; refused unless its bytes hash to its name."""
    device()
    data = request.get_data(cache=False)
    created = service.store_photo(db.session, store(), sha256, data, current_app.config["MAX_CONTENT_LENGTH"])
    return reply({"sha256": sha256, "stored": created}, 201 if created else 200)


@bp.post("/push")
@transactional
def push():
    """Apply one batch of the device's changes and acknowledge it."""
    sender = device()
    data = body_json()
    entries = service.parse_entries(data.get("entries"), "entries")
    after, up_to = data.get("after"), data.get("up_to")
    if not isinstance(after, int) or not isinstance(up_to, int) or up_to < after:
        raise SyncError("sync.bad_request", N_("The request body is not valid JSON."), status=400)
    ack = service.receive_push(db.session, sender, after, up_to, entries, store())
    return reply(ack.__dict__)


@bp.get("/pull")
@transactional
def pull():
    """A page of the hub's changes for this device after a cursor."""
    receiver = device()
    try:
        cursor = int(request.args.get("cursor", 0))
        limit = max(1, min(int(request.args.get("limit", service.PAGE)), 2000))
    except ValueError:
        raise SyncError("sync.bad_request", N_("The request body is not valid JSON."), status=400) from None
    entries, next_cursor, more = service.changes_for(db.session, receiver, cursor, limit)
    return reply({"entries": [{"local_seq": seq, "change": c.to_dict()} for seq, c in entries],
                  "cursor": next_cursor, "more": more})


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.get("/api/v1/openapi.json")
    def openapi():
        from sync.openapi import DOCUMENT

        return jsonify(DOCUMENT)
