"""The field app's API on a hub, `/api/v1/field/`: the package that prepares a tablet for the field, and the
auditor sign-on a shared tablet asks once per auditor while online (afterwards that auditor switches in with a
local PIN). Token-authenticated like the sync API (the app is a device like any other); refusals are its
SyncErrors, rendered as JSON with their stable codes (app.errors)."""

from __future__ import annotations

import gzip
from typing import Annotated

from flask import Blueprint, Response, current_app, request
from flask_babel import force_locale
from flask_limiter.util import get_remote_address
from pydantic import Field, TypeAdapter, ValidationError

from app import auditlog
from app.auth.service import may_sign_in
from app.db import utcnow
from app.extensions import csrf, db, limiter
from app.node import Device, self_device
from app.tx import transactional
from fieldapp import package, queries
from survey import registry
from survey.audits.pages import gps_limits
from survey.checklist import Checklist
from survey.kinds import KIND_CODES
from sync import publish, schemas
from sync.api import device, reply
from sync.problems import SYNC_PROBLEMS, SyncError

bp = Blueprint("field_api", __name__, url_prefix="/api/v1/field")
csrf.exempt(bp)  # token auth, no cookies: CSRF does not apply
# As sign-in (app.auth.views): only failures count, per address and per account, so an office of auditors
# signing their tablets on at eight o'clock is not throttled, guessing one account's password is.
SIGN_ON_PER_ADDRESS = "10 per minute"
SIGN_ON_PER_ACCOUNT = "5 per 5 minutes"
MAX_SIGN_ON_BODY = 4096  # a username and a password


class AuditorBody(schemas.Strict):
    """An auditor's username and password, typed on the tablet."""

    username: schemas.Username
    password: Annotated[str, Field(min_length=1, max_length=200)]  # only hashed and compared, never stored or shown


AUDITOR = TypeAdapter(AuditorBody)


def field_device() -> Device:
    """The field device presenting the request's token; a lower hub (or anything else) is refused."""
    sender = device()
    if sender.role != "field" or sender.is_self:
        raise SYNC_PROBLEMS("field.not_a_field_device")
    return sender


@bp.get("/package")
@transactional  # authenticating notes when the device was last seen; the versions it now holds are noted
def field_package():
    """The state this device's kecamatan needs offline; 304 when the device already holds this one (ETag)."""
    sender = field_device()
    built = package.build(db.session, sender, self_device(db.session), offers(), gps_limits(), render_markup,
                          bool(current_app.config.get("DEMO")), utcnow())
    # What the tablet holds from now on (or held already, 304): the catalog page lists it beside each version.
    publish.note_packaged(db.session, sender.id, [entry["key"] for entry in built.body["checklists"]])
    etag = f'"{built.etag}"'
    if _unchanged(etag):
        response = Response(status=304)
    else:
        response = encoded(built.encoded())
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache"  # always asked again; the ETag makes that cheap
    response.headers["Vary"] = "Authorization, Accept-Encoding"
    return response


def _tags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compare equal to strong ones, as RFC 9110 says)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _unchanged(etag: str) -> bool:
    """Whether the device already holds the package with this ETag (If-None-Match names it, or is `*`)."""
    tags = _tags(request.headers.get("If-None-Match", ""))
    return etag in tags or "*" in tags


def encoded(text: bytes) -> Response:
    """JSON bytes, gzipped when the client accepts it (as sync.api.reply does for a dict)."""
    if "gzip" in request.headers.get("Accept-Encoding", "") and len(text) > 1024:
        response = Response(gzip.compress(text, 6), mimetype="application/json")
        response.headers["Content-Encoding"] = "gzip"
        return response
    return Response(text, mimetype="application/json")


def offers() -> dict[str, list[Checklist]]:
    """Per facility kind, the checklist versions the hub's own start page offers for it, each stored as a version
    (as the hub's start page does when an audit begins): an audit the tablet fills with one must find it here."""
    offered = {kind: registry.newest_for_kind(kind, db.session) for kind in KIND_CODES}
    for checklists in offered.values():
        for checklist in checklists:
            registry.store_version(db.session, checklist)
    return offered


def render_markup(checklist: Checklist, locale: str) -> str:
    """A checklist's sections as the audit page renders them, in one language."""
    from fieldapp import markup  # the lead's module (the audit page's templates); read when first asked

    with force_locale(locale):
        return markup.render_sections(checklist, locale)


def _sign_on_body() -> dict:
    """The sign-on body, read whole but small (the throttle's key reads it too, before the view)."""
    if (request.content_length or 0) > MAX_SIGN_ON_BODY:
        raise SYNC_PROBLEMS("sync.too_large")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_SIGN_ON_BODY:
        raise SYNC_PROBLEMS("sync.too_large")
    try:
        data = schemas.parse_json(raw)
    except schemas.BadJson:
        raise SYNC_PROBLEMS("sync.bad_request/json") from None
    if not isinstance(data, dict):
        raise SYNC_PROBLEMS("sync.bad_request/json")
    return data


def _account_key() -> str:
    """The username tried, as the throttle's key: guesses at one account count together wherever they come from."""
    try:
        username = _sign_on_body().get("username")
    except SyncError:  # a body the view will refuse: it counts under no account
        username = None
    return "field-sign-on:" + (username.strip().lower()[:80] if isinstance(username, str) else "")


def _failed(response) -> bool:
    return response.status_code == 403


@bp.post("/auditor")
@limiter.limit(SIGN_ON_PER_ADDRESS, key_func=get_remote_address, deduct_when=_failed)
@limiter.limit(SIGN_ON_PER_ACCOUNT, key_func=_account_key, deduct_when=_failed)
@transactional
def auditor():
    """Check an auditor's password for this tablet: their name when they are an active auditor of its kecamatan.

    One answer for an unknown account, a wrong password and an account outside the device's kecamatan: which
    usernames exist is not for a tablet to learn.
    """
    sender = field_device()
    data = _sign_on_body()
    try:
        schemas.check(AUDITOR, data)
    except ValidationError as error:
        raise SYNC_PROBLEMS("sync.bad_request", where=schemas.first_error(error)[0]) from None
    user = queries.auditor_of_scope(db.session, data["username"], sorted(sender.scope or []))
    demo = bool(current_app.config.get("DEMO"))
    if user is None or not may_sign_in(db.session, user, demo) or not user.check_password(data["password"]):
        raise SYNC_PROBLEMS("field.bad_auditor")
    auditlog.record(db.session, action="field_sign_on", entity="user", entity_id=user.id, user_id=user.id,
                    device_id=sender.id)
    return reply({"username": user.username, "full_name": user.full_name})


def init_app(app) -> None:
    app.register_blueprint(bp)
