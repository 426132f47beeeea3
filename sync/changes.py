"""Changes as data: canonical JSON, content hashes, the check at the door (sync.schemas). Pure; no Flask, no database."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
from pydantic import ValidationError

from sync import schemas
from sync.problems import SYNC_PROBLEMS, SyncError

KINDS = schemas.CHANGE_KINDS
# Kinds are applied in this order within a batch: what others depend on first.
APPLY_ORDER = {kind: index for index, kind in enumerate(KINDS)}
SCHEMA_VERSION = 1


# orjson writes every float as json.dumps does except those under 1e-4 (json.dumps: 1e-05, orjson: 0.00001)
# and those it writes with an exponent (always "e+" or "e-"): a text holding either is written by json.dumps.
_FLOAT_MARKERS = (b"e+", b"e-", b"E")
_SMALL_FLOAT = b"0.0000"
_IN_NUMBER = frozenset(b"0123456789.")
_BEFORE_NUMBER = frozenset(b":,[")


def _maybe_other_float(text: bytes) -> bool:
    """Whether orjson's text may hold a float json.dumps writes otherwise. A string that merely looks like
    such a number also says yes: slower, never different. Scans for the markers in C; only a marker after
    a digit (a UUID's "4e-" too) is looked at more closely."""
    if _SMALL_FLOAT in text:
        return True
    for marker in _FLOAT_MARKERS:
        at = text.find(marker)
        while at >= 0:
            start = at
            while start > 0 and text[start - 1] in _IN_NUMBER:
                start -= 1
            if start > 0 and text[start - 1] == 45:  # a minus sign
                start -= 1
            if start < at and (start == 0 or text[start - 1] in _BEFORE_NUMBER):
                return True
            at = text.find(marker, at + 1)
    return False


def canonical(payload: Any) -> str:
    """One JSON text per value: sorted keys, no spaces, UTF-8; what hashes and signatures are over.

    The text is json.dumps' (sort_keys, compact, ensure_ascii off), byte for byte: every hash ever made
    depends on it. orjson makes the same text several times faster; where it would differ (the floats
    above) or cannot write the value at all (an integer beyond 64 bits, a lone surrogate, a type json
    refuses, which then raises as it always did), json.dumps writes it. NaN and infinities, which no JSON
    holds, never get here: the door refuses them (sync.schemas.parse_json) and the app makes none.
    """
    try:
        text = orjson.dumps(payload, option=_ORJSON, default=_refuse)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _json_text(payload)
    if _maybe_other_float(text):
        return _json_text(payload)
    return text.decode()


def _string(text: str) -> str:
    """canonical() of a string (no float to look for)."""
    try:
        return orjson.dumps(text).decode() if type(text) is str else _json_text(text)
    except TypeError:  # a lone surrogate
        return _json_text(text)


_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS \
    | orjson.OPT_PASSTHROUGH_SUBCLASS


def _refuse(value: Any) -> Any:
    raise TypeError  # what orjson would write its own way (a datetime, a str subclass): json.dumps decides


def _json_text(payload: Any) -> str:
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
        text = (f'{{"entity_id":{_string(self.entity_id)},"hlc":{_string(self.hlc)},'
                f'"kind":{_string(self.kind)},"payload":{self.payload_json}}}')
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
