"""sync.changes.canonical is json.dumps' text byte for byte, though orjson writes most of it: every content
hash and signature on the wire depends on that text."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.changes import canonical


def reference(value) -> str:
    """The text canonical() has always been: json.dumps, sorted keys, compact, not ASCII-escaped."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


FLOATS = [0.0, -0.0, 1.0, -6.1151, 106.1502, 0.1, 1 / 3, 87.5, 1e-4, 0.00012, 9.99e-5, 1e-5, -1e-5, 1e-7, 1.5e-10,
          5e-324, 2.2250738585072014e-308, 1e15, 123456789012345.6, 9999999999999998.0, 1e16, -1e16, 1.5e16, 1e21,
          1e22, 1.7976931348623157e308, float(2 ** 53), float(2 ** 63)]
TEXTS = ["", "ya", "tiga\r\nbaris", "\x00\x01\x1f\x7f", "\"\\/", "é ü", "\u2028\u2029", "\U0001f600", "\uffff",
         "ab:1e5", "[0.00001", ",3E+9", "-0.0000"]


@pytest.mark.parametrize("value", FLOATS, ids=repr)
def test_every_kind_of_float_is_written_as_json_writes_it(value):
    for shaped in (value, [value], {"v": value}, {"a": [1, {"b": value}]}):
        assert canonical(shaped) == reference(shaped)


@pytest.mark.parametrize("value", TEXTS, ids=repr)
def test_text_that_looks_like_a_number_or_needs_escaping(value):
    for shaped in (value, {value: value}, [value, 1e-5]):
        assert canonical(shaped) == reference(shaped)


@pytest.mark.parametrize("value", [2 ** 64, -(2 ** 63) - 1, 10 ** 30, 2 ** 63 - 1, -(2 ** 63), True, False, None])
def test_integers_beyond_64_bits_and_the_constants(value):
    assert canonical({"n": value, "list": [value]}) == reference({"n": value, "list": [value]})


def test_keys_sort_by_code_point():
    value = {"b": 1, "a": 2, "B": 3, "é": 4, "z": 5, "\U0001f600": 6, "\uffff": 7, "": 8, "a\u00e9": 9}
    assert canonical(value) == reference(value)


def test_what_json_refuses_is_still_refused():
    from datetime import datetime

    class Text(str):
        pass

    with pytest.raises(TypeError):
        canonical({"when": datetime(2026, 1, 1)})
    assert canonical({"kind": Text("audit")}) == reference({"kind": Text("audit")})
    lone = {"v": "\ud800"}
    assert canonical(lone) == reference(lone)  # text with a lone surrogate, refused later where it is encoded


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=5),
    max_leaves=30)


@settings(max_examples=2000 if "--bench" in sys.argv else 300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_any_json_value_is_written_as_json_dumps_writes_it(value):
    assert canonical(value) == reference(value)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(), st.text(), st.sampled_from(["audit", "review"]))
def test_a_changes_hash_is_over_its_canonical_text(entity_id, hlc, kind):
    import hashlib

    from sync.changes import Change, content_hash

    change = Change("o", 1, kind, entity_id, hlc, {"answers": {"q": {"value": 1e-5}}, "id": entity_id})
    try:
        whole = hashlib.sha256(reference({"entity_id": entity_id, "hlc": hlc, "kind": kind,
                                          "payload": change.payload}).encode()).hexdigest()
    except UnicodeEncodeError:  # a lone surrogate: no hash either way
        with pytest.raises(UnicodeEncodeError):
            change.sha256
        return
    assert change.sha256 == whole == content_hash({"entity_id": entity_id, "hlc": hlc, "kind": kind,
                                                   "payload": change.payload})
