"""Changes as data: canonical JSON, content hashes, shape checks. Pure; no Flask, no database."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from app.problems import AppError, N_

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

    @property
    def sha256(self) -> str:
        return content_hash({"kind": self.kind, "entity_id": self.entity_id, "hlc": self.hlc, "payload": self.payload})

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
    ok = (isinstance(local_seq, int) and local_seq > 0 and isinstance(change.origin_seq, int) and change.origin_seq > 0
          and change.kind in KINDS and isinstance(change.entity_id, str) and 0 < len(change.entity_id) <= 80
          and isinstance(change.hlc, str) and len(change.hlc) == 21 and isinstance(change.payload, dict)
          and (change.scope is None or isinstance(change.scope, str)))
    if not ok:
        raise SyncError("sync.bad_change", N_("A change in %(where)s is malformed."), where=where)
    return local_seq, change
