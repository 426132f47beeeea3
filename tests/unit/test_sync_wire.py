"""sync.wire without an app: the audit document declared once, held to the door's schema and to the
documents already on the wire (their content hashes must never change)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from pydantic import TypeAdapter

from sync import schemas, wire
from sync.changes import canonical, content_hash

WIB = timezone(timedelta(hours=7))
AUDIT = SimpleNamespace(
    id=uuid.UUID("a0000000-0000-4000-8000-0000000000a1"), facility_id=uuid.UUID("f0000000-0000-4000-8000-000000000001"),
    checklist_key="ktr@1", revision=2, revision_of=uuid.UUID("a0000000-0000-4000-8000-0000000000a0"),
    auditor_id=uuid.UUID("50000000-0000-4000-8000-000000000001"), device_id=None,
    started_at=datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc), submitted_at=datetime(2026, 11, 20, 9, 30, 15, 250000, tzinfo=WIB),
    score=87.5, result="memenuhi", lat=-6.1151, lon=106.1502, accuracy_m=8.0, position_source="gps",
    position_at=datetime(2026, 11, 20, 2, 10, tzinfo=timezone.utc), position_warnings=["gps.poor_accuracy"])
ANSWERS = {"tanda_dilarang_merokok": SimpleNamespace(value="ya", note=None),
           "jumlah": SimpleNamespace(value=3, note="tiga\r\nbaris"),
           "pilihan": SimpleNamespace(value=["a", "b"], note=""),
           "lokasi": SimpleNamespace(value={"lat": -6.1, "lon": 106.1, "accuracy": 4.0}, note=None)}
READING = SimpleNamespace(id=uuid.UUID("60000000-0000-4000-8000-000000000001"), lat=-6.1151, lon=106.1502, accuracy_m=None,
                          source="manual", taken_at=datetime(2026, 11, 20, 2, 10, tzinfo=timezone.utc), warnings=[])
# The document sync.documents.audit_document wrote for these rows before sync.wire existed, and its hash.
DOCUMENT = {
    "id": "a0000000-0000-4000-8000-0000000000a1", "facility_id": "f0000000-0000-4000-8000-000000000001",
    "checklist_key": "ktr@1", "revision": 2, "revision_of": "a0000000-0000-4000-8000-0000000000a0", "auditor": "siti",
    "device_id": None, "started_at": "2026-11-20T02:00:00+00:00", "submitted_at": "2026-11-20T09:30:15.250000+07:00",
    "score": 87.5, "result": "memenuhi", "lat": -6.1151, "lon": 106.1502, "accuracy_m": 8.0, "position_source": "gps",
    "position_at": "2026-11-20T02:10:00+00:00", "position_warnings": ["gps.poor_accuracy"],
}
ANSWERS_DOCUMENT = {"tanda_dilarang_merokok": {"value": "ya", "note": None}, "jumlah": {"value": 3, "note": "tiga\r\nbaris"},
                    "pilihan": {"value": ["a", "b"], "note": ""},
                    "lokasi": {"value": {"lat": -6.1, "lon": 106.1, "accuracy": 4.0}, "note": None}}
READING_DOCUMENT = {"id": "60000000-0000-4000-8000-000000000001", "lat": -6.1151, "lon": 106.1502, "accuracy_m": None,
                    "source": "manual", "taken_at": "2026-11-20T02:10:00+00:00", "warnings": []}


def _types(prop: dict) -> set[str]:
    """What a property of the door's JSON schema accepts, as sync.wire.Kind.json_type names it (null left out)."""
    if "anyOf" in prop:
        return set().union(*(_types(option) for option in prop["anyOf"]))
    if "$ref" in prop:
        return {"object"}
    return {prop.get("format", prop.get("type"))} - {"null"}


ANY_ANSWER = {"boolean", "integer", "number", "string", "array", "object"}  # survey.checklist: an answer's values


@pytest.mark.parametrize("model, fields", [(schemas.AuditPayload, wire.AUDIT_FIELDS), (schemas.Answer, wire.ANSWER_FIELDS),
                                           (schemas.Reading, wire.READING_FIELDS)])
def test_the_door_schema_declares_the_wire_fields_with_their_types(model, fields):
    properties = TypeAdapter(model).json_schema()["properties"]  # a model or a typed dict (schemas.Answer)
    parts = wire.PARTS if model is schemas.AuditPayload else ()
    assert list(properties) == [f.name for f in fields] + list(parts)
    for field in fields:
        expected = ANY_ANSWER if field.kind is wire.ANSWER else {field.kind.json_type}
        assert _types(properties[field.name]) == expected, field.name
        if "default" in properties[field.name]:  # what the merge reads for an absent field is the schema's default
            assert field.kind.to_row(field.default) == properties[field.name]["default"], field.name


def test_an_audit_document_is_what_it_always_was():
    assert wire.audit_json(AUDIT, "siti") == DOCUMENT
    assert {item: wire.answer_json(answer) for item, answer in ANSWERS.items()} == ANSWERS_DOCUMENT
    assert wire.reading_json(READING) == READING_DOCUMENT
    whole = {**DOCUMENT, "answers": ANSWERS_DOCUMENT, "photos": {"tanda_dilarang_merokok": ["0" * 64]},
             "readings": [READING_DOCUMENT]}
    schemas.AuditPayload.model_validate(whole)
    assert content_hash(whole) == "193b40639be0b109cf299a5a7e8fb90eefc709d1cef2a4a58307409591702419", canonical(whole)


def test_a_document_read_into_rows_and_written_again_is_the_same():
    values = wire.audit_values(DOCUMENT, AUDIT.auditor_id)
    assert values == {name: getattr(AUDIT, name) for name in values}
    assert wire.audit_json(SimpleNamespace(**values), "siti") == DOCUMENT
    assert wire.reading_json(SimpleNamespace(**wire.reading_values(READING_DOCUMENT))) == READING_DOCUMENT


def test_fields_left_out_of_a_document_are_read_as_the_schema_defaults():
    values = wire.audit_values({"id": DOCUMENT["id"], "facility_id": DOCUMENT["facility_id"], "checklist_key": "ktr@1",
                                "auditor": "siti", "answers": {}}, AUDIT.auditor_id)
    assert (values["revision"], values["revision_of"], values["position_warnings"], values["submitted_at"]) == (1, None, [], None)
