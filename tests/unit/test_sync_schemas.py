"""sync.schemas without an app: its copies of domain constants, the strict JSON parser, and the
OpenAPI document made from the same models the door validates with."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sync import schemas


def test_constants_kept_here_equal_their_sources():
    from app.auth.scope import ROLES
    from survey.audits.models import POSITION_SOURCES
    from survey.facilities.models import STATUSES
    from sync.changes import KINDS
    from survey.facilities.models import FACILITY_FIELDS
    from sync.hlc import MAX_MS
    from sync.reviews import DECISIONS

    assert schemas.ROLES == ROLES
    assert schemas.POSITION_SOURCES == POSITION_SOURCES
    assert schemas.FACILITY_STATUSES == STATUSES
    assert schemas.FACILITY_FIELDS == FACILITY_FIELDS
    assert set(schemas.FacilityFields.model_fields) == set(FACILITY_FIELDS)
    assert set(schemas.FacilityBase.model_fields) == set(FACILITY_FIELDS)
    assert schemas.DECISIONS == DECISIONS
    assert schemas._MAX_HLC_MS == MAX_MS
    assert set(schemas.CHANGE_MODELS) == set(KINDS) == set(schemas.PAYLOADS)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", "[-Infinity]", '["\\ud800"]', "[" * 100_000 + "]" * 100_000,
                                  b'["\xff"]', "", "{'a': 1}", "[1,]"])
def test_parse_json_refuses_what_json_loads_would_let_through_or_crash_on(text):
    with pytest.raises(schemas.BadJson):
        schemas.parse_json(text)


def test_parse_json_reads_json_as_json_loads_does():
    text = '{"a": [1, 1.0, -0.0, 1e5, "\\ud83d\\ude00", null, true], "a": 2, "b": {"c": "x\\ty"}}'
    import json

    assert schemas.parse_json(text) == json.loads(text)
    assert [type(v) for v in schemas.parse_json("[1, 1.0]")] == [int, float]


@pytest.mark.parametrize("value", ["2026-11-20T02:40:00+00:00", "2026-11-20T02:40:00Z", "2026-11-20 02:40:00",
                                  "2026-11-20T02:40:00.123456+07:00"])
def test_times_that_parse_are_accepted(value):
    schemas.TypeAdapter(schemas.DateTimeText).validate_python(value)


@pytest.mark.parametrize("value", ["2026-02-30T00:00:00", "20261120", "1700000000", "2026-11-20", "yesterday",
                                  "2026-11-20T02:40:00+00:00\n", "٢٠٢٦-11-20T02:40:00"])
def test_times_that_do_not_parse_are_refused(value):
    with pytest.raises(ValidationError):
        schemas.TypeAdapter(schemas.DateTimeText).validate_python(value)


def test_where_names_the_path_and_never_carries_markup_or_control_characters():
    try:
        schemas.ENTRY.validate_python({"local_seq": 1, "change": {"kind": "audit", "payload": {
            "answers": {"<b>\x1b": {"value": {}}}}}})
    except ValidationError as error:
        place, _ = schemas.first_error(error, "entries[0]")
    assert place.startswith("entries[0].change")
    assert not set(place) & set("<>\x1b\"'&")


def test_the_openapi_document_is_the_models():
    from sync.openapi import document

    components = document()["components"]["schemas"]
    assert components["PushBody"]["properties"]["entries"]["maxItems"] == schemas.MAX_ENTRIES
    assert components["AuditPayload"]["properties"]["answers"]["maxProperties"] == schemas.MAX_ANSWERS
    assert components["AuditPayload"]["additionalProperties"] is False
    push = document()["paths"]["/api/v1/sync/push"]["post"]
    assert push["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/PushBody")
    assert {"200", "400", "401", "413", "422"} <= set(push["responses"])
