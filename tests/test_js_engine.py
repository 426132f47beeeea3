"""The browser's JavaScript engine (static/js/engine/) against every vector of tests/conformance/engine.json.

Issue #15: the offline field app evaluates forms in the browser, so the JavaScript port must agree with the Python
engine on every vector; tests/js/conformance.mjs runs them all under Node and exits 1 on any failure.
"""

import math
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "static" / "js" / "engine"
RUNNER = ROOT / "tests" / "js" / "conformance.mjs"

# Anything that would fetch code or data over the network: a URL with a scheme or a protocol-relative one.
_REMOTE = re.compile(r"""(?:https?|wss?|ftp):|(?<![\w/*])//[\w-]+\.[\w.-]+/|\bimport\s*\(\s*[^'"\s)]""")
_IMPORT = re.compile(
    r"""(?:^|;)\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]""",
    re.MULTILINE)


def _node() -> str:
    node = shutil.which("node")
    assert node, "node is needed to test the browser's engine (it is installed wherever `make setup` runs npm)"
    return node


def test_every_conformance_vector_passes_in_javascript():
    result = subprocess.run([_node(), str(RUNNER)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"conformance: (\d+)/\1 vectors pass", output), output


def _sources() -> list[Path]:
    return sorted(ENGINE.glob("*.js"))


def test_the_engine_is_whole():
    names = {path.name for path in _sources()}
    assert {"expressions.js", "form.js", "checklist.js", "scoring.js"} <= names


def test_the_engine_loads_nothing_from_the_network():
    imported = set()
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        assert not _REMOTE.search(text), f"{path.name} names a remote URL or a computed import"
        for static, dynamic in _IMPORT.findall(text):
            target = static or dynamic
            assert target.startswith("./") and target.endswith(".js"), f"{path.name} imports {target!r}"
            assert (path.parent / target).resolve().parent == ENGINE, f"{path.name} imports {target!r} from elsewhere"
            imported.add(target)
    assert {"./expressions.js", "./checklist.js", "./form.js"} <= imported  # the import check sees the imports


def test_the_offline_check_catches_a_cdn_import():
    assert _REMOTE.search("import { x } from 'https://cdn.example.org/x.js';")
    assert _REMOTE.search("const lib = import(url);")
    assert _REMOTE.search("fetch('//cdn.example.org/lib.js')")
    assert not _REMOTE.search("// a comment: nothing remote here\nconst a = 1 // 2;")
    assert _IMPORT.findall("import { a } from 'lodash';") == [("lodash", "")]


# --- Answer shapes: validate_answer and coerce_answer against the Python ones -----------------------------------

def _item(item_id: str, item_type: str, **extra) -> dict:
    return {"id": item_id, "type": item_type, "label": {"id": item_id, "en": item_id}, **extra}


_CHOICES = [{"value": value, "label": {"id": value, "en": value}} for value in ("a", "b", "c.d")]
ANSWER_ITEMS = [
    _item("ynp", "ynp"), _item("ynp_no_na", "ynp", allow_na=False), _item("integer", "integer", min=0, max=10),
    _item("decimal", "decimal", min=-1.5, max=2.5), _item("one", "select_one", choices=_CHOICES),
    _item("many", "select_multiple", choices=_CHOICES), _item("text", "text"), _item("date", "date"),
    _item("photo", "photo"), _item("gps", "gps"), _item("time", "time"), _item("datetime", "datetime"),
    _item("calc", "calculate", calculation="1 + 1"), _item("hidden", "hidden"), _item("note", "note"),
    _item("ack", "acknowledge"), _item("file", "file", accept="audio"),
]
HASH = "ab" * 32
# Values as JSON carries them; 3.0 and 1e300 are left out: JavaScript cannot tell them from integers (Python: floats).
ANSWER_VALUES = [
    None, "", [], {}, "ya", "tidak", "sebagian", "tidak_berlaku", "YA", 0, 3, 11, -1, 2.5, -1.5, 2.6, True,
    False, "3", "a", "b", "c.d", "z", ["a"], ["a", "b"], ["a", "a"], ["a", "z"], [1], "x" * 10_001, "x" * 10_000,
    "2026-12-06", "2026-02-29", "2024-02-29", "0000-01-01", "2026-1-06", " 2026-12-06", [HASH], [HASH, HASH],
    [HASH.upper()], ["x"], {"lat": -6.2, "lon": 106.8, "accuracy": 5}, {"lat": 91, "lon": 0, "accuracy": 1},
    {"lat": 0, "lon": 0, "accuracy": -1}, {"lat": 0, "lon": 0}, {"lat": "0", "lon": 0, "accuracy": 1},
    {"lat": 0, "lon": 0, "accuracy": 1, "altitude": 3}, "10:30", "23:59:59.123", "24:00", "07:00+07:00", "7:00",
    "10:30Z", "2026-12-06T10:30", "2026-12-06T10:30:00+07:00", "2026-02-30T10:30", "2026-12-06 10:30", "OK", "ok",
]
RAW_INPUTS = [
    "", "  ", " 12 ", "+5", "-007", "1.5", "1,5", "1.5,2", ",5", ".5", "5.", "abc", "1e3", "10:30:00", "10:30:15",
    "2026-12-06 10:30", "2026-12-06T10:30:00", "2026-12-06T10:30", "-6.2 106.8 0 5", "-6.2 106.8 5", "1 2",
    "1 2 nan 4", "1_000 2 3", "inf 2 3", "a b  a", "AB CD", ["a", " b ", ""], ["x"], [], ["1", "2"], "ya",
]


def _answer_cases() -> list:
    ids = [item["id"] for item in ANSWER_ITEMS]
    validate = [["validate", item_id, value] for item_id in ids for value in ANSWER_VALUES]
    coerce = [["coerce", item_id, raw] for item_id in ids for raw in RAW_INPUTS]
    return validate + coerce


def _special_numbers_as_text(value: object) -> object:
    """inf and nan as the text answers.mjs writes for them (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, dict):
        return {key: _special_numbers_as_text(part) for key, part in value.items()}
    if isinstance(value, list):
        return [_special_numbers_as_text(part) for part in value]
    return value


def test_answer_shapes_agree_with_python():
    import json

    from survey.checklist import checklist_from_dict, coerce_answer, validate_answer

    data = {"id": "shapes", "version": 1, "title": {"id": "t", "en": "t"}, "facility_kinds": ["all"],
            "source": "test", "source_status": "unverified", "scoring": {"memenuhi_min": 0.8},
            "sections": [{"id": "s", "title": {"id": "s", "en": "s"}, "source": "test", "items": ANSWER_ITEMS}]}
    checklist = checklist_from_dict(data)
    cases = _answer_cases()
    expected = []
    for kind, item_id, value in cases:
        item = checklist.item(item_id)
        expected.append(validate_answer(item, value) if kind == "validate" else coerce_answer(item, value))
    result = subprocess.run([_node(), str(ROOT / "tests" / "js" / "answers.mjs")], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, input=json.dumps({"checklist": data, "cases": cases}))
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    # Through JSON both ways, so 2 and 2.0 compare equal, as JavaScript has one number type.
    expected = _special_numbers_as_text(json.loads(json.dumps(expected)))
    differences = [(case, want, have) for case, want, have in zip(cases, expected, got) if want != have]
    assert not differences, "\n".join(f"{case}: python {want!r}, javascript {have!r}" for case, want, have
                                      in differences[:30])
