"""Changes as data: canonical JSON, content hashes, the check at the door (sync.schemas). Pure; no Flask, no database."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from sync import schemas
from sync.problems import SYNC_PROBLEMS, SyncError

KINDS = schemas.CHANGE_KINDS
# Kinds are applied in this order within a batch: what others depend on first.
APPLY_ORDER = {kind: index for index, kind in enumerate(KINDS)}
SCHEMA_VERSION = 1


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
    """(local_seq, Change) from a push entry or bundle line, checked against sync.schemas.Entry;
    SyncError `sync.bad_change` (or `sync.bad_checklist`) naming where it went wrong."""
    try:
        schemas.check(schemas.ENTRY, data)
    except ValidationError as error:
        raise refusal(error, where, data) from None
    return build_entry(data)


def build_entry(data: dict) -> tuple[int, Change]:
    """(local_seq, Change) from an entry already checked against sync.schemas.Entry."""
    raw = data["change"]
    change = Change(origin_id=str(uuid.UUID(raw["origin_id"])), origin_seq=raw["origin_seq"], kind=raw["kind"],
                    entity_id=raw["entity_id"], hlc=raw["hlc"], payload=raw["payload"], scope=raw.get("scope"))
    return data["local_seq"], change


def refusal(error: ValidationError, where: str, entry: Any = None, skip: int = 0) -> SyncError:
    """The SyncError for an entry that breaks its schema: where it broke, and whether a checklist's
    text, hash or key was the problem. `skip` leading steps of the error's path lead to the entry."""
    place, loc = schemas.first_error(error)
    loc = loc[skip:]
    place = schemas.where(loc, where)
    change = entry.get("change") if isinstance(entry, dict) else None
    if isinstance(change, dict) and change.get("kind") == "checklist" and loc == ("change", "payload"):
        return SYNC_PROBLEMS("sync.bad_checklist", where=place)
    return SYNC_PROBLEMS("sync.bad_change", where=place)


def push_refusal(error: ValidationError, body: dict) -> SyncError:
    """A push body that breaks sync.schemas.PushBody: `sync.bad_change` (422) when an entry is wrong,
    `sync.bad_request` (400) when the batch's own fields are."""
    _, loc = schemas.first_error(error)
    entries = body.get("entries")
    if loc[:1] == ("entries",) and isinstance(entries, list):
        if len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(entries):
            return refusal(error, f"entries[{loc[1]}]", entries[loc[1]], skip=2)
        return SYNC_PROBLEMS("sync.bad_change", where=schemas.where(loc))
    if loc[:1] == ("entries",):  # missing, or not a list
        return SYNC_PROBLEMS("sync.bad_change", where="entries")
    return SYNC_PROBLEMS("sync.bad_request", where=schemas.where(loc))


MAX_SEQ = schemas.MAX_SEQ
