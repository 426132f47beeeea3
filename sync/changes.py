"""Changes as data: canonical JSON, content hashes, shape checks. Pure; no Flask, no database."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from app.problems import AppError, N_
from sync.hlc import valid as hlc_valid

KINDS = ("checklist", "wilayah", "user", "facility", "audit", "review")
# Kinds are applied in this order within a batch: what others depend on first.
APPLY_ORDER = {kind: index for index, kind in enumerate(KINDS)}
SCHEMA_VERSION = 1


class SyncError(AppError):
    """A batch, request or bundle that is refused as a whole; nothing of it is applied."""


def canonical(payload: Any) -> str:
    """One JSON text per value: sorted keys, no spaces, UTF-8; what hashes and signatures are over."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(payload: Any) -> str:
    """SHA-256 of the canonical JSON."""
    return hashlib.sha256(canonical(payload).encode()).hexdigest()


@dataclass(frozen=True)
class Change:
    """One change as it travels: who made it, its number there, what it is about."""

    origin_id: str
    origin_seq: int
    kind: str
    entity_id: str
    hlc: str
    payload: dict
    scope: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.origin_id, self.origin_seq)

    @cached_property
    def payload_json(self) -> str:
        """The payload's canonical JSON, made once: it is both hashed and stored."""
        return canonical(self.payload)

    @cached_property
    def sha256(self) -> str:
        """The content hash, computed once (a change is immutable).

        It is content_hash({"entity_id", "hlc", "kind", "payload"}) spelled out: with sorted keys the
        canonical text of that object is exactly this concatenation, so the payload is encoded once.
        """
        text = (f'{{"entity_id":{canonical(self.entity_id)},"hlc":{canonical(self.hlc)},'
                f'"kind":{canonical(self.kind)},"payload":{self.payload_json}}}')
        return hashlib.sha256(text.encode()).hexdigest()

    def to_dict(self) -> dict:
        return {"origin_id": self.origin_id, "origin_seq": self.origin_seq, "kind": self.kind,
                "entity_id": self.entity_id, "hlc": self.hlc, "payload": self.payload, "scope": self.scope}


def parse_entry(data: Any, where: str) -> tuple[int, Change]:
    """(local_seq, Change) from a push entry or bundle line; SyncError `sync.bad_change` when malformed."""
    try:
        local_seq = data["local_seq"]
        raw = data["change"]
        change = Change(origin_id=str(uuid.UUID(str(raw["origin_id"]))), origin_seq=raw["origin_seq"],
                        kind=raw["kind"], entity_id=raw["entity_id"], hlc=raw["hlc"], payload=raw["payload"],
                        scope=raw.get("scope"))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise SyncError("sync.bad_change", N_("A change in %(where)s is malformed."), where=where) from None
    ok = (_count(local_seq) and _count(change.origin_seq)
          and change.kind in KINDS and isinstance(change.entity_id, str) and 0 < len(change.entity_id) <= 80
          and hlc_valid(change.hlc) and isinstance(change.payload, dict)
          and (change.scope is None or (isinstance(change.scope, str) and len(change.scope) <= 16))
          and _payload_ok(change))
    if not ok:
        raise SyncError("sync.bad_change", N_("A change in %(where)s is malformed."), where=where)
    return local_seq, change


MAX_SEQ = 2 ** 53  # the largest integer JSON carries exactly, far below a database BIGINT


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_SEQ


# The fields each kind of change must carry, with their types: checked before anything is merged.
_REQUIRED = {
    "audit": {"id": str, "facility_id": str, "checklist_key": str, "answers": dict},
    "facility": {"facility_id": str, "fields": dict},
    "review": {"id": str, "audit_id": str, "decision": str, "decided_at": str},
    "checklist": {"key": str, "checklist_id": str, "version": int, "sha256": str, "content": str},
    "wilayah": {"code": str, "level": str, "name": str},
    "user": {"id": str, "username": str, "role": str, "password_hash": str, "active": bool},
}
_UUID_FIELDS = {"audit": ("id", "facility_id"), "facility": ("facility_id",), "review": ("id", "audit_id"), "user": ("id",)}


def _payload_ok(change: Change) -> bool:
    payload = change.payload
    for name, kind in _REQUIRED[change.kind].items():
        if not isinstance(payload.get(name), kind) or isinstance(payload.get(name), bool) and kind is not bool:
            return False
    for name in _UUID_FIELDS.get(change.kind, ()):
        try:
            uuid.UUID(payload[name])
        except ValueError:
            return False
    if change.kind == "audit":
        answers_ok = all(isinstance(v, dict) for v in payload["answers"].values())
        photos = payload.get("photos") or {}
        photos_ok = isinstance(photos, dict) and all(isinstance(v, list) and all(isinstance(s, str) for s in v)
                                                     for v in photos.values())
        return answers_ok and photos_ok and isinstance(payload.get("readings") or [], list) \
            and isinstance(payload.get("auditor"), str)
    return True
