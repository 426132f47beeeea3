"""The browser's JavaScript engine (static/js/engine/) against every vector of tests/conformance/engine.json.

Issue #15: the offline field app evaluates forms in the browser, so the JavaScript port must agree with the Python
engine on every vector; tests/js/conformance.mjs runs them all under Node and exits 1 on any failure.
"""

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "static" / "js" / "engine"
RUNNER = ROOT / "tests" / "js" / "conformance.mjs"

# Anything that would fetch code or data over the network: a URL with a scheme or a protocol-relative one.
_REMOTE = re.compile(r"""(?:https?|wss?|ftp):|(?<![\w/*])//[\w-]+\.[\w.-]+/|\bimport\s*\(\s*[^'"\s)]""")
_IMPORT = re.compile(r"""(?:^|;)\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]""",
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
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        assert not _REMOTE.search(text), f"{path.name} names a remote URL or a computed import"
        for static, dynamic in _IMPORT.findall(text):
            target = static or dynamic
            assert target.startswith("./") and target.endswith(".js"), f"{path.name} imports {target!r}"
            assert (path.parent / target).resolve().parent == ENGINE, f"{path.name} imports {target!r} from elsewhere"


def test_the_offline_check_catches_a_cdn_import():
    assert _REMOTE.search("import { x } from 'https://cdn.example.org/x.js';")
    assert _REMOTE.search("const lib = import(url);")
    assert _REMOTE.search("fetch('//cdn.example.org/lib.js')")
    assert not _REMOTE.search("// a comment: nothing remote here\nconst a = 1 // 2;")
    assert _IMPORT.findall("import { a } from 'lodash';") == [("lodash", "")]
