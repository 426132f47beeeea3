"""Every "expression" vector of tests/conformance/engine.json holds for the Python engine."""

import datetime
import json
import math
import re
from pathlib import Path

import pytest

from survey.expressions import ExpressionError, MappingScope, Nodeset, evaluate, parse

VECTOR_FILE = Path(__file__).resolve().parents[1] / "conformance" / "engine.json"
DOCUMENT = json.loads(VECTOR_FILE.read_text(encoding="utf-8"))
VECTORS = [vector for vector in DOCUMENT["vectors"] if vector["area"] == "expression"]
SPECIAL_NUMBERS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def test_the_file_has_a_known_format_and_unique_ids():
    assert DOCUMENT["format"] == 1
    ids = [vector["id"] for vector in DOCUMENT["vectors"]]
    assert len(ids) == len(set(ids))
    assert len(VECTORS) >= 260


def _answer(value: object) -> object:
    """A JSON answer as the engine takes it: {"nodeset": [...]} is a Nodeset."""
    if isinstance(value, dict) and set(value) == {"nodeset"}:
        return Nodeset(value["nodeset"])
    return value


def _scope(vector: dict) -> MappingScope:
    """The vector's answers, repeat position, choices, tables and choice row."""
    answers = {name: _answer(value) for name, value in vector.get("answers", {}).items()}
    return MappingScope(answers, position=vector.get("position"), choices=vector.get("choices"),
                        tables=vector.get("tables"), choice=vector.get("choice"), last_saved=vector.get("last_saved"))


def _run(vector: dict) -> object:
    """Parse and evaluate one vector."""
    today = vector.get("today")
    now = vector.get("now")
    expression = parse(vector["expression"], choice_filter=vector.get("choice_filter", False))
    return evaluate(expression, _scope(vector), current=_answer(vector.get("current")),
                    today=datetime.date.fromisoformat(today) if today else None,
                    now=datetime.datetime.fromisoformat(now) if now else None)


def _assert_value(value: object, expected: object):
    """Booleans exactly, numbers within 1e-9 relative, special numbers by name, strings exactly."""
    if isinstance(expected, bool):
        assert value is expected
    elif isinstance(expected, (int, float)):
        assert isinstance(value, (int, float)) and not isinstance(value, bool), value
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)
    elif isinstance(expected, dict) and "number" in expected:
        number = SPECIAL_NUMBERS[expected["number"]]
        assert isinstance(value, float), value
        assert math.isnan(value) if math.isnan(number) else value == number
    elif isinstance(expected, dict) and "nodeset" in expected:
        assert isinstance(value, Nodeset) and list(value) == expected["nodeset"]
    else:
        assert isinstance(value, str) and value == expected, value


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["id"] for vector in VECTORS])
def test_vector(vector):
    if "error" in vector:
        with pytest.raises(ExpressionError) as raised:
            _run(vector)
        assert raised.value.code == vector["error"]
    elif "matches" in vector:
        value = _run(vector)
        assert isinstance(value, str) and re.search(vector["matches"], value), value
    else:
        _assert_value(_run(vector), vector["expected"])
