"""The field package: everything a field device of one scope needs to work offline for days, as one JSON
document (docs/field-app.md). Reads only; never commits.

It is state, not a change log: the facilities, regions, accounts and checklists of the device's kecamatan as
they stand, and the device's own audits with their latest review. What it holds is what a pull would send
this device (fieldapp.queries follows sync.service.changes_for's scope rules); the app keeps syncing through
the sync API for everything after.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import yaml
from sqlalchemy.orm import Session

from app.node import Device
from fieldapp import queries
from geo.geofence import Limits
from geo.simplify import simplified_geojson
from survey import registry
from survey.checklist import Checklist, dump_checklist_yaml
from survey.kinds import KIND_CODES
from sync import wire

FORMAT = "pantau-field-package"
VERSION = 1
LOCALES = ("id", "en")
# A tablet draws a kecamatan and its desa from these: ~22 bytes a point in JSON, so about 350 points per
# kecamatan outline and 1100 for its desa together, "a few hundred points per kecamatan".
KECAMATAN_BYTES = 8_000
DESA_BYTES = 24_000

Render = Callable[[Checklist, str], str]  # (checklist, locale) -> the checklist's sections as HTML


@dataclass(frozen=True)
class Package:
    """The package and its ETag: the SHA-256 of the body without `generated_at`, which alone changes every time."""

    body: dict
    etag: str

    def encoded(self) -> bytes:
        """The package as compact JSON."""
        return _dumps(self.body)


def build(session: Session, device: Device, hub: Device, offers: dict[str, list[Checklist]], limits: Limits,
          render: Render, demo: bool, now: datetime) -> Package:
    """The package for this field device: its scope's state, the checklists on offer (`offers`: facility kind ->
    the versions the hub's start page offers for it), its own audits."""
    scope = sorted(device.scope or [])
    audits = audit_entries(session, queries.device_audits(session, device.id, scope))
    checklists = checklist_entries(session, offers, render)
    state = {
        "format": FORMAT, "version": VERSION,
        "hub": {"id": str(hub.id), "name": hub.name},
        "device": {"id": str(device.id), "name": device.name, "scope": scope},
        "regions": region_entries(queries.regions(session, scope)),
        "facilities": [facility_entry(facility) for facility in queries.facilities(session, scope)],
        "checklists": checklists + returned_checklists(session, audits, {c["key"] for c in checklists}, render),
        "auditors": [{"username": username, "full_name": full_name}
                     for username, full_name in queries.auditors(session, scope, demo)],
        "audits": audits,
        "limits": {"accuracy_m": limits.accuracy_m, "distance_m": limits.distance_m, "far_m": limits.far_m},
    }
    etag = hashlib.sha256(_dumps(state)).hexdigest()
    return Package({"format": FORMAT, "version": VERSION, "generated_at": wire.iso(now), **state}, etag)


def _dumps(data: dict) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


# --- regions ---------------------------------------------------------------------------------------------


def region_entries(rows: list) -> list[dict]:
    """Regions with the kecamatan and desa outlines simplified for a tablet (none for the regions above)."""
    kecamatan = sum(1 for row in rows if row.level == "kecamatan")
    outlines = {}
    for level, budget in (("kecamatan", KECAMATAN_BYTES), ("desa", DESA_BYTES)):
        shapes = tuple((row.code, row.name, bytes(row.boundary)) for row in rows if row.level == level and row.boundary)
        outlines.update(simplified(shapes, budget * max(1, kecamatan)))
    return [{"code": row.code, "name": row.name, "level": row.level, "parent_code": row.parent_code,
             "geometry": outlines.get(row.code)} for row in rows]


_outlines: dict[str, dict] = {}
_lock = threading.Lock()


def simplified(shapes: tuple, max_bytes: int) -> dict[str, dict | None]:
    """Code -> simplified GeoJSON geometry of these (code, name, WKB) regions, as one clean coverage under
    max_bytes. Kept per exact input: simplifying takes a noticeable part of a second, hashing the WKB does not."""
    if not shapes:
        return {}
    key = hashlib.sha256(repr((max_bytes, [(code, name) for code, name, _ in shapes])).encode()
                         + b"".join(wkb for _, _, wkb in shapes)).hexdigest()
    with _lock:
        cached = _outlines.get(key)
    if cached is None:
        collection = simplified_geojson(shapes, max_bytes=max_bytes)
        cached = {feature["properties"]["code"]: feature["geometry"] for feature in collection["features"]}
        with _lock:
            if len(_outlines) > 256:  # a hub serves a few dozen scopes: never grow without bound
                _outlines.clear()
            _outlines[key] = cached
    return cached


# --- facilities, audits ----------------------------------------------------------------------------------


def facility_entry(facility) -> dict:
    """A facility's synced fields and its id."""
    return {"id": str(facility.id), "kind": facility.kind, "name": facility.name, "official_id": facility.official_id,
            "address": facility.address, "lat": facility.lat, "lon": facility.lon,
            "kecamatan_code": facility.kecamatan_code, "desa_code": facility.desa_code, "status": facility.status,
            "verified": bool(facility.verified)}


def audit_entries(session: Session, audits: list) -> list[dict]:
    """The device's audits with their latest review; the whole document of each one returned for correction."""
    reviews = queries.latest_reviews(session, [audit.id for audit, _ in audits])
    returned = [(audit, username) for audit, username in audits
                if getattr(reviews.get(audit.id), "decision", None) == "returned"]
    documents = queries.audit_documents(session, returned)
    return [audit_entry(audit, username, reviews.get(audit.id), documents.get(audit.id)) for audit, username in audits]


def audit_entry(audit, username: str, review, document: dict | None) -> dict:
    """One audit as the package lists it."""
    entry = {"id": str(audit.id), "facility_id": str(audit.facility_id), "checklist_key": audit.checklist_key,
             "revision": audit.revision, "revision_of": str(audit.revision_of) if audit.revision_of else None,
             "auditor": username, "submitted_at": wire.iso(audit.submitted_at), "score": audit.score,
             "result": audit.result, "review": None}
    if review is not None:
        entry["review"] = {"decision": review.decision, "comment": review.comment,
                           "decided_at": wire.iso(review.decided_at), "reviewer": review.reviewer}
    if document is not None:
        entry["document"] = document
    return entry


# --- checklists ------------------------------------------------------------------------------------------


def offered(offers: dict[str, list[Checklist]]) -> list[tuple[Checklist, list[str]]]:
    """Each checklist version the hub's start page offers for some facility kind (`offers`: kind -> the versions
    survey.registry.newest_for_kind gives), with the kinds it is offered for, by key."""
    kinds: dict[str, list[str]] = {}
    versions: dict[str, Checklist] = {}
    for kind in KIND_CODES:
        for checklist in offers.get(kind, ()):
            versions[checklist.key] = checklist
            kinds.setdefault(checklist.key, []).append(kind)
    return [(versions[key], kinds[key]) for key in sorted(versions)]


def checklist_entries(session: Session, offers: dict[str, list[Checklist]], render: Render) -> list[dict]:
    """Each checklist on offer with the exact text audits are filled with (the stored version's, else the text
    storing it would keep), parsed for the JavaScript engine, and its sections' markup in both languages."""
    checklists = offered(offers)
    stored = queries.stored_versions(session, [c.key for c, _ in checklists])
    return [checklist_entry(c, kinds, *(stored.get(c.key) or _text_of(c)), render) for c, kinds in checklists]


def returned_checklists(session: Session, audits: list[dict], offered: set[str], render: Render) -> list[dict]:
    """The versions of the device's audits returned for correction that are no longer on offer, offered for no
    kind: a correction is filled in its audit's own version (as survey.audits.service.revise does), and a
    tablet that no longer holds that version must still open it."""
    keys = sorted({audit["checklist_key"] for audit in audits if "document" in audit} - offered)
    stored = queries.stored_versions(session, keys)
    return [checklist_entry(registry.for_audit(session, key), [], sha256, content, render)  # parsed once per process
            for key, (sha256, content) in sorted(stored.items())]


def _text_of(checklist: Checklist) -> tuple[str, str]:
    """(sha256, text) a version would be stored with (survey.registry.store_version) when no audit used it yet."""
    content = dump_checklist_yaml(checklist)
    return hashlib.sha256(content.encode()).hexdigest(), content


def checklist_entry(checklist: Checklist, kinds: list[str], sha256: str, content: str, render: Render) -> dict:
    """One checklist: its key, kinds, title, data for checklistFromDict and markup per language."""
    return {"key": checklist.key, "id": checklist.id, "version": checklist.version,
            "shown_version": checklist.shown_version, "sha256": sha256,
            "kinds": kinds,
            "title": {"id": checklist.title.id, "en": checklist.title.en},
            "data": parsed_text(checklist.key, sha256, content),
            "markup": {locale: markup_of(checklist, sha256, locale, render) for locale in LOCALES}}


_markup: dict[tuple[str, str, str], str] = {}


def markup_of(checklist: Checklist, sha256: str, locale: str, render: Render) -> str:
    """A version's page markup in one language, rendered once per process: every tablet's sync asks for the
    package (even a 304 needs its ETag), and a version's text, like the catalog, does not change while it runs."""
    key = (checklist.key, sha256, locale)
    with _lock:
        cached = _markup.get(key)
    if cached is None:
        cached = render(checklist, locale)
        with _lock:
            _markup[key] = cached
    return cached


_parsed: dict[tuple[str, str], dict] = {}


def parsed_text(key: str, sha256: str, content: str) -> dict:
    """A version's YAML text as a dict (a stored version never changes, so once per process)."""
    cached = _parsed.get((key, sha256))
    if cached is None:
        # Through JSON once, as the app receives it: a YAML date (never in a canonical dump, which quotes
        # date-like text) would arrive as its ISO text.
        cached = _parsed[(key, sha256)] = json.loads(json.dumps(yaml.safe_load(content), default=str))
    return cached
