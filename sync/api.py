"""The versioned JSON sync API, `/api/v1/sync/`: token-authenticated, gzip in and out, one transaction per request.

Every body is read with hard limits (raw and inflated bytes), parsed strictly and checked against its
model in sync.schemas before anything else happens; a refusal is a SyncError with a stable code and
the place the body went wrong, and changes nothing.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import TypeAdapter, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from sqlalchemy.orm import Session

from app.db import reset_write_intent, set_write_intent
from app.extensions import csrf, db, limiter
from app.node import self_device_id
from app.tx import transactional
from survey.photos import PhotoStore
from sync import schemas, service
from sync.changes import SCHEMA_VERSION, build_entry, push_refusal
from sync.problems import SYNC_PROBLEMS, SyncError

bp = Blueprint("sync_api", __name__, url_prefix="/api/v1/sync")
csrf.exempt(bp)  # token auth, no cookies: CSRF does not apply
MAX_BODY = 32 * 1024 * 1024  # inflated JSON: a 500-change batch is a few MiB; this bounds memory per request
MAX_RAW_BODY = MAX_BODY  # as sent, before inflating
CHUNK = 256 * 1024  # read and inflate this much at a time
# Wrong enrollment codes per address (only failures count): a code does not say which registration it
# was meant for, so guessing is throttled by who guesses (docs/sync.md, "Enrollment and scope").
ENROLL_LIMIT = "10 per minute;50 per hour"


def store() -> PhotoStore:
    return PhotoStore(Path(current_app.config["DATA_DIR"]) / "photos")


def _too_large() -> SyncError:
    return SYNC_PROBLEMS("sync.too_large")


def _not_json() -> SyncError:
    return SYNC_PROBLEMS("sync.bad_request/json")


def raw_body(limit: int = MAX_RAW_BODY, too_large=_too_large) -> bytes:
    """The body as sent, read a chunk at a time and refused past `limit` (whatever Content-Length says).

    Never `request.get_data()` for a body without Content-Length (chunked): Werkzeug stops reading such a body
    at the app's upload limit without a word, so an oversized photo arrived cut short, as if damaged.
    """
    if (request.content_length or 0) > limit:
        raise too_large()
    parts, size = [], 0
    while True:
        part = request.stream.read(CHUNK)
        if not part:
            return b"".join(parts)
        size += len(part)
        if size > limit:
            raise too_large()
        parts.append(part)


def inflate(raw: bytes, limit: int = MAX_BODY) -> bytes:
    """gunzip streaming, refused with 413 as soon as the output passes `limit`: a small bomb never
    inflates whole. Concatenated gzip members are read one after another, as gzip does."""
    pieces, size = [], 0  # a list, not a growing bytearray: no over-allocation while a bomb inflates
    try:
        while True:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = raw
            while not inflater.eof:
                piece = inflater.decompress(data, CHUNK)
                size += len(piece)
                if size > limit:
                    raise _too_large()
                pieces.append(piece)
                data = inflater.unconsumed_tail
                if not piece and not data:
                    raise zlib.error("truncated")
            raw = inflater.unused_data
            if not raw:
                return b"".join(pieces)
    except zlib.error:
        raise SYNC_PROBLEMS("sync.bad_request/gzip") from None


def body_json() -> Any:
    """The request body parsed as JSON (gunzipped when sent with Content-Encoding: gzip), strictly:
    NaN, Infinity, lone surrogates and nesting beyond schemas.MAX_DEPTH are refused."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("gzip", "identity", ""):
        raise SYNC_PROBLEMS("sync.bad_encoding", encoding=encoding[:20].encode("ascii", "replace").decode())
    raw = raw_body()
    text = inflate(raw) if encoding == "gzip" else raw
    if len(text) > MAX_BODY:
        raise _too_large()
    try:
        return schemas.parse_json(text)
    except schemas.BadJson:
        raise _not_json() from None


def checked_body(adapter: TypeAdapter) -> dict:
    """The JSON body, checked against its model; SyncError `sync.bad_request` naming where it is wrong."""
    data = body_json()
    if not isinstance(data, dict):
        raise _not_json()
    try:
        schemas.check(adapter, data)
    except ValidationError as error:
        raise SYNC_PROBLEMS("sync.bad_request", where=schemas.first_error(error)[0]) from None
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
    return device_from(db.session)


def device_from(session):
    """The device presenting the request's bearer token."""
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    return service.authenticate(session, token)


@bp.post("/enroll")
@limiter.limit(ENROLL_LIMIT, deduct_when=lambda response: response.status_code >= 400)
@transactional
def enroll():
    """Exchange a one-time code for a device token and key; the hub mints the id and decides role and scope."""
    data = checked_body(schemas.ENROLL)
    answer = service.enroll(db.session, str(data.get("code", "")), str(data.get("name") or "")[:80])
    return reply(answer, 201)




def checked_query(adapter: TypeAdapter):
    """The query string, checked against its model; SyncError `sync.bad_request` naming where it is wrong."""
    try:
        return adapter.validate_python(request.args.to_dict())
    except ValidationError as error:
        raise SYNC_PROBLEMS("sync.bad_request/query", where=schemas.first_error(error)[0]) from None


@bp.get("/status")
@transactional
def status():
    """Who the hub is, how far it has received this device's changes, and whether the device's own sequence
    went back below that (`seq`: the device's last sequence, when it reports it)."""
    sender = device()
    query = checked_query(schemas.STATUS_QUERY)
    restart = service.note_sequence(sender, query.seq) if query.seq is not None else sender.restart_seen_at is not None
    return reply({"hub_id": str(self_device_id(db.session)), "acked_seq": sender.acked_seq,
                  "schema_version": SCHEMA_VERSION, "scope": sender.scope, "restart": restart})


@bp.post("/photos/missing")
@transactional
def photos_missing():
    """Which of these photos the hub lacks."""
    device()
    shas = checked_body(schemas.PHOTOS_MISSING).get("sha256") or []
    photos = store()
    return reply({"missing": [s for s in shas if not service.has_photo(db.session, photos, s)]})


@bp.put("/photos/<sha256>")
@transactional
def photo_put(sha256: str):
    """Store one photo; refused unless its bytes hash to its name.

    The slow part (decoding the image, writing it and its display copies, each synced to disk) runs before the
    request's write transaction begins, once the token is known: on SQLite that transaction holds the one
    write lock every worker process waits for, and only the photo's row needs it.
    """
    known_sender()
    data = raw_body(current_app.config["MAX_CONTENT_LENGTH"], RequestEntityTooLarge)  # the upload limit's words
    info = store().save_any(data, current_app.config["MAX_CONTENT_LENGTH"], expected_sha256=sha256)
    device()  # the write transaction starts here
    created = service.record_photo(db.session, info)
    return reply({"sha256": sha256, "stored": created}, 201 if created else 200)


def known_sender() -> None:
    """Refuse an unknown or revoked token on a read of its own, without the write lock, before the slow work."""
    token = set_write_intent(False)
    try:
        with Session(db.engine) as session:
            device_from(session)  # raises for a stranger; what it notes (last seen) is never committed here
    finally:
        reset_write_intent(token)


@bp.post("/push")
@transactional
def push():
    """Apply one batch of the device's changes and acknowledge it."""
    sender = device()
    data = body_json()
    if not isinstance(data, dict):
        raise _not_json()
    try:
        schemas.check(schemas.PUSH, data)
    except ValidationError as error:
        raise push_refusal(error, data) from None
    entries = [build_entry(entry) for entry in data["entries"]]
    ack = service.receive_push(db.session, sender, data["after"], data["up_to"], entries, store())
    # A batch reaching below what we acknowledged comes from a device that started counting again, unless it
    # only resends changes we hold unchanged: then the device is behind (a bundle of them was imported first).
    # Bundles are never asked this: one may be older than an HTTP push that overtook it.
    if not entries or ack.duplicates < len(entries):
        service.note_sequence(sender, data["up_to"])
    return reply(ack.__dict__)


@bp.get("/pull")
@transactional
def pull():
    """A page of the hub's changes for this device after a cursor."""
    receiver = device()
    query = checked_query(schemas.PULL)
    entries, next_cursor, more = service.changes_for(db.session, receiver, query.cursor, query.limit)
    return reply({"entries": [{"local_seq": seq, "change": c.to_dict()} for seq, c in entries],
                  "cursor": next_cursor, "more": more})


@bp.get("/own")
@transactional
def own():
    """A page of this device's own changes the hub holds after its own sequence `after`: what a device restored
    from an older backup lost (sync.run.recover)."""
    receiver = device()
    query = checked_query(schemas.OWN_QUERY)
    entries, more = service.own_changes(db.session, receiver, query.after, query.limit)
    return reply({"entries": [{"local_seq": seq, "change": c.to_dict()} for seq, c in entries], "more": more})


@bp.get("/photos/<sha256>")
def photo_get(sha256: str):
    """A photo of one of this device's own audits, for a device restored from an older backup. Only reads:
    the device is looked up in a session of its own that is never committed (as known_sender does)."""
    with Session(db.engine) as session:
        held = service.own_photo(session, device_from(session), sha256)
    if not held or not store().exists(sha256):
        raise SYNC_PROBLEMS("sync.photo_unknown", sha256=sha256[:64])
    return Response(store().open_bytes(sha256), mimetype="application/octet-stream")


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.get("/api/v1/openapi.json")
    def openapi():
        from sync.openapi import document

        return jsonify(document())
