"""Fuzzing the sync door: no input reaches a 500, and a refusal changes nothing.

1. schemathesis reads `/api/v1/openapi.json` from the app in-process and throws schema-valid and
   schema-breaking requests at every operation, with a valid device token: no 5xx, every answer
   matches its documented schema and status.
2. hypothesis mutates a valid push body (drops keys, swaps types, huge numbers, deep nesting, odd
   unicode) and a valid bundle (flipped bytes, cut short, mutated lines): each is accepted, or refused
   with a SyncError/AppError (4xx) and the database and photo store exactly as before.

The budget is small here (CI: 25 cases each) and large under `make fuzz`: PANTAU_FUZZ_EXAMPLES cases
for each structural test (5000 there: 10,000 mutated bodies and bundles) and a tenth of that per API
operation and generation mode (PANTAU_FUZZ_API_EXAMPLES).
"""

from __future__ import annotations

import copy
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli_support import write_transaction
from app.problems import AppError
from survey.photos import PhotoStore
from sync import service
from tests.sync_corpus import pack, photo_files, relist, resign, unpack
from tests.test_sync_api import (API, Tablet, app_config, error_code, photo_root, push_body, state,  # noqa: F401
                                 tablet, valid)

# Cases per structural fuzz test (push bodies, bundles), and per API operation and generation mode.
EXAMPLES = int(os.environ.get("PANTAU_FUZZ_EXAMPLES", "25"))
API_EXAMPLES = int(os.environ.get("PANTAU_FUZZ_API_EXAMPLES", str(max(25, EXAMPLES // 10))))


def budget(examples: int):
    """Hypothesis settings for a fuzz run: a fixed seed when small (CI repeats itself), random when large."""
    return settings(max_examples=examples, deadline=None, database=None, derandomize=examples <= 50,
                    suppress_health_check=list(HealthCheck))


FUZZ = budget(EXAMPLES)


# --- schemathesis against the published document -----------------------------------------------------------


def test_schemathesis_finds_no_server_error_and_every_answer_matches_its_schema(app, tablet):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                   status_code_conformance)

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: dict[str, set] = {}
    assert {op.label for op in operations} >= {"POST /api/v1/sync/push", "GET /api/v1/sync/pull",
                                               "POST /api/v1/sync/enroll", "POST /api/v1/sync/photos/missing"}
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            @budget(API_EXAMPLES)
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                response = case.call_and_validate(headers={"Authorization": f"Bearer {tablet.token}", "Accept-Encoding": "identity"},
                                                checks=checks)  # in-process WSGI: no client inflates gzip
                statuses.setdefault(operation.label, set()).add(response.status_code)

            run()
    # Every operation was reached, and pushes were both accepted and refused: the fuzzing is not vacuous.
    assert set(statuses) == {op.label for op in operations}, statuses
    assert {200, 400} <= statuses["GET /api/v1/sync/pull"], statuses


# --- push bodies, mutated ----------------------------------------------------------------------------------------

ODD_TEXT = st.sampled_from(["", "\x00", "\ud800", "\x1b[31m", "<script>x</script>", "%s%(x)s", "\u202e", "\uffff",
                            "9" * 40, "a" * 5000, "١٢٣", "NaN", "-Infinity", "2026-13-45T00:00:00"])
ODD_NUMBER = st.sampled_from([0, -1, 2 ** 53, 2 ** 53 + 1, 2 ** 64, 10 ** 30, 10 ** 400, 1e308, -0.0, 0.5, True, False])
ODD_VALUE = st.one_of(ODD_TEXT, ODD_NUMBER, st.none(), st.just([]), st.just({}), st.just([[["x"]]]),
                      st.just({"$gt": ""}), st.integers(-5, 5).map(lambda n: [n]))


def paths(value, prefix=()):
    """Every path into a JSON value (dict keys and list indexes), the value itself first."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value[:5]):
            yield from paths(child, prefix + (index,))


def mutate(data, draw):
    """One structural mutation of a JSON value, somewhere in it."""
    data = copy.deepcopy(data)
    where = draw(st.sampled_from(list(paths(data))))
    action = draw(st.sampled_from(["drop", "replace", "nest", "rename", "duplicate"]))
    if not where:
        return draw(ODD_VALUE)
    parent = data
    for step in where[:-1]:
        parent = parent[step]
    last = where[-1]
    if action == "drop":
        del parent[last]
    elif action == "replace":
        parent[last] = draw(ODD_VALUE)
    elif action == "nest":
        for _ in range(draw(st.sampled_from([2, 50, 190, 250]))):
            parent[last] = [parent[last]]
    elif action == "rename" and isinstance(parent, dict):
        parent[draw(ODD_TEXT)] = parent.pop(last)
    elif action == "duplicate" and isinstance(parent, list):
        parent.extend([parent[last]] * draw(st.integers(1, 3)))
    return data


@st.composite
def hostile_bodies(draw, base: dict):
    """A valid push body with one to three mutations, sent as JSON (or as text json.dumps would not write)."""
    data = base
    for _ in range(draw(st.integers(1, 3))):
        data = mutate(data, draw)
    return data


def encode(data) -> bytes:
    """JSON text as a careless client writes it: NaN and lone surrogates included."""
    return json.dumps(data, allow_nan=True).encode("utf-8", "surrogatepass")


def test_mutated_push_bodies_never_crash_and_a_refusal_changes_nothing(app, client, tablet, valid):
    base = push_body(valid.entries())
    seen = {"refused": 0, "accepted": 0}

    @FUZZ
    @given(data=hostile_bodies(base))
    def run(data):
        before, files = state(app), photo_files(photo_root(app))
        response = client.post(f"{API}/push", data=encode(data), content_type="application/json", headers=tablet.auth)
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        if response.status_code >= 400:
            seen["refused"] += 1
            assert error_code(response), response.get_data(as_text=True)[:300]
            assert state(app) == before
            assert photo_files(photo_root(app)) == files
        else:
            seen["accepted"] += 1

    run()
    assert seen["refused"] > 0


# --- bundles, mutated -----------------------------------------------------------------------------------------------


def import_on_hub(app, data: bytes, tmp_path):
    with app.app_context(), write_transaction() as session:
        return service.import_push_bundle(session, data, PhotoStore(photo_root(app)), app.config["MAX_CONTENT_LENGTH"],
                                          tmp_path / "return.zip")


@st.composite
def hostile_bundles(draw, data: bytes, manifest: dict, members: dict, key: str):
    """The valid bundle with flipped bytes, cut short, or a mutated (re-signed) changes line or manifest."""
    how = draw(st.sampled_from(["flip", "cut", "line", "manifest"]))
    if how == "flip":
        damaged = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(damaged) - 1))
            damaged[position] ^= draw(st.integers(1, 255))
        return bytes(damaged)
    if how == "cut":
        return data[:draw(st.integers(0, len(data) - 1))]
    if how == "line":
        lines = members["changes.jsonl"].splitlines()
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = encode(mutate(json.loads(lines[index]), draw))
        changed = {**members, "changes.jsonl": b"\n".join(lines) + b"\n"}
        return pack(resign(relist(manifest, changed), key), changed)
    changed = mutate(manifest, draw)
    if not isinstance(changed, dict) or not draw(st.booleans()):
        return pack(encode(changed), members)
    try:
        return pack(resign(changed, key), members)
    except UnicodeEncodeError:  # a lone surrogate cannot be signed; the hub refuses it before signing anyway
        return pack(encode(changed), members)


def test_mutated_bundles_never_crash_and_a_refusal_changes_nothing(app, tablet, valid, tmp_path):
    data = valid()
    manifest, members = unpack(data)
    seen = {"refused": 0}

    @FUZZ
    @given(bundle=hostile_bundles(data, manifest, members, valid.key))
    def run(bundle):
        before, files = state(app), photo_files(photo_root(app))
        try:
            import_on_hub(app, bundle, tmp_path)
        except AppError as error:  # SyncError included: a refusal with a stable code, a 4xx
            seen["refused"] += 1
            assert 400 <= error.status < 500, error
            assert state(app) == before
            assert photo_files(photo_root(app)) == files

    run()
    assert seen["refused"] > 0
