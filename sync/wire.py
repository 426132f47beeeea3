"""The audit as it travels (a change of kind `audit`), declared once: every field, its JSON type and
its conversion both ways. Pure; no Flask, no database.

sync.documents.audit_document writes the document from the rows with it, the merge
(sync.apply_audits) turns a document back into rows with it, and a test holds the door's schema
(sync.schemas.AuditPayload, Answer, Reading) to the same fields and types. The content hash of an
audit change is over the document this module writes: a change here changes every hash.

A document is the audit row's fields (AUDIT_FIELDS), then `answers` {item_id: ANSWER_FIELDS},
`photos` {item_id: [sha256, ...]} and `readings` [READING_FIELDS, ...].
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable


def iso(value: datetime | None) -> str | None:
    """A time as it travels: ISO 8601 with its offset."""
    return value.isoformat() if value else None


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def as_uuid(value) -> uuid.UUID | None:
    return _uuid(str(value)) if value else None


@lru_cache(maxsize=4096)
def _uuid(text: str) -> uuid.UUID:
    """A UUID is immutable: the facilities and devices a batch of audits names over and over are parsed once."""
    return uuid.UUID(text)


def _same(value: Any) -> Any:
    return value


def _uuid_text(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None


def _codes(value: list | None) -> list:
    return list(value or [])


@dataclass(frozen=True)
class Kind:
    """A JSON type of the wire and its conversion: row value -> JSON, JSON -> row value."""

    json_type: str  # as the door's schema declares it (JSON Schema type, or format for strings)
    to_json: Callable[[Any], Any]
    to_row: Callable[[Any], Any]

    @property
    def plain(self) -> bool:
        """The value travels as the row holds it (the merge skips a call per answer)."""
        return self.to_json is _same and self.to_row is _same


UUID = Kind("uuid", _uuid_text, as_uuid)
TIME = Kind("date-time", iso, parse_time)
TEXT = Kind("string", _same, _same)
INTEGER = Kind("integer", _same, _same)
NUMBER = Kind("number", _same, _same)
CODES = Kind("array", _codes, _codes)  # a list of warning codes; absent is empty
ANSWER = Kind("answer", _same, _same)  # null, boolean, number, text, list or gps position, kept as JSON
ACCOUNT = Kind("string", _same, _same)  # a username on the wire; the row holds the account's id


@dataclass(frozen=True)
class Field:
    """One field of a document: its name on the wire (and column of the row), its kind, its value when absent."""

    name: str
    kind: Kind
    default: Any = None


AUDIT_FIELDS = (
    Field("id", UUID), Field("facility_id", UUID), Field("checklist_key", TEXT), Field("revision", INTEGER, 1),
    Field("revision_of", UUID), Field("auditor", ACCOUNT), Field("device_id", UUID), Field("started_at", TIME),
    Field("submitted_at", TIME), Field("score", NUMBER), Field("result", TEXT), Field("lat", NUMBER),
    Field("lon", NUMBER), Field("accuracy_m", NUMBER), Field("position_source", TEXT), Field("position_at", TIME),
    Field("position_warnings", CODES),
)
ANSWER_FIELDS = (Field("value", ANSWER), Field("note", TEXT))
READING_FIELDS = (
    Field("id", UUID), Field("lat", NUMBER), Field("lon", NUMBER), Field("accuracy_m", NUMBER), Field("source", TEXT),
    Field("taken_at", TIME), Field("warnings", CODES),
)
PARTS = ("answers", "photos", "readings")  # after the audit's own fields


def audit_json(audit, auditor: str | None) -> dict:
    """The audit row's own fields as they travel; `auditor` is the username of its account."""
    return {f.name: auditor if f.kind is ACCOUNT else f.kind.to_json(getattr(audit, f.name)) for f in AUDIT_FIELDS}


def audit_values(doc: dict, auditor_id: uuid.UUID) -> dict:
    """Row values of the audit's own fields from a document; `auditor_id` is the account its username names."""
    values = {f.name: f.kind.to_row(doc.get(f.name, f.default)) for f in AUDIT_FIELDS if f.kind is not ACCOUNT}
    return {**values, "auditor_id": auditor_id}


def answer_json(answer) -> dict:
    """One answer row as it travels (its item id is the key it travels under)."""
    return {f.name: f.kind.to_json(getattr(answer, f.name)) for f in ANSWER_FIELDS}


def answer_values(answer: dict) -> dict:
    """Row values of one answer from its document."""
    return {f.name: f.kind.to_row(answer.get(f.name, f.default)) for f in ANSWER_FIELDS}


def reading_json(reading) -> dict:
    """One GPS reading row as it travels."""
    return {f.name: f.kind.to_json(getattr(reading, f.name)) for f in READING_FIELDS}


def reading_values(reading: dict) -> dict:
    """Row values of one GPS reading from its document."""
    return {f.name: f.kind.to_row(reading.get(f.name, f.default)) for f in READING_FIELDS}
