"""The form evaluator against the conformance file's `form` vectors (tests/conformance/README.md)."""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

import pytest

from survey.checklist import checklist_from_dict
from survey.form import compute
from survey.scoring import score_audit

VECTORS = [v for v in json.loads((Path(__file__).parents[1] / "conformance" / "engine.json").read_text(
    encoding="utf-8"))["vectors"] if v["area"] == "form"]


def test_there_are_form_vectors():
    assert len(VECTORS) >= 40


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_form_vector(vector):
    checklist = checklist_from_dict(vector["form"], vector["id"])
    today = datetime.date.fromisoformat(vector["today"]) if "today" in vector else None
    now = datetime.datetime.fromisoformat(vector["now"]) if "now" in vector else None
    touched = set(vector["touched"]) if "touched" in vector else None
    state = compute(checklist, vector["answers"], today=today, now=now, locale=vector.get("locale", "id"),
                    touched=touched, last_saved=vector.get("last_saved"))
    expected = vector["expected"]
    items = {address for address, _, _ in state.nodes if address in state.relevant}
    for key, want in expected.items():
        if key == "counts":
            assert {a: state.counts.get(a, 0) for a in want} == want
        elif key == "relevant":
            assert sorted(items) == sorted(want)
        elif key == "relevant_includes":
            assert set(want) <= items
        elif key == "hidden":
            assert not set(want) & items
        elif key == "values":
            assert {a: state.values.get(a) for a in want} == want
        elif key == "defaults":
            assert sorted(state.defaults) == sorted(want)
        elif key == "problems":
            assert state.problems == want
        elif key == "missing":
            assert sorted(state.missing) == sorted(want)
        elif key == "choices":
            assert {a: [c.value for c in state.choices.get(a, ())] for a in want} == want
        elif key == "texts":
            assert {a: state.text(checklist.item(a.rsplit("/", 1)[-1]).label.get(vector.get("locale", "id")), a)
                    for a in want} == want
        elif key == "progress":
            from survey.scoring import progress
            assert {s: list(c) for s, c in progress(checklist, {}, state=state).items()} == want
        elif key in ("score", "result", "failed_critical"):
            result = score_audit(checklist, {}, state=state)
            got = getattr(result, key)
            if key == "score" and want is not None:
                assert math.isclose(got, want, rel_tol=1e-9)
            else:
                assert (list(got) if key == "failed_critical" else got) == want
        else:
            raise AssertionError(f"unknown expectation {key!r}")
