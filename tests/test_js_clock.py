"""The field app writes changes and signs bundles in JavaScript (static/app/clock.js); the hub reads them with
sync/hlc.py and sync/bundle.py. Both sides must agree exactly: the same HLCs from the same clocks, the same
canonical JSON text (what signatures are over), the same HMAC."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess

from sync import hlc
from sync.changes import canonical
from tests.support import ROOT

DAY = 24 * 3600 * 1000
NOW = 1_795_000_000_000
CASES = {
    "tick": [[hlc.ZERO, NOW], [hlc.encode(NOW, 3), NOW], [hlc.encode(NOW + 5, 0), NOW], [hlc.encode(NOW, 9999), NOW],
             [hlc.encode(NOW + 3 * DAY, 7), NOW], [hlc.encode(NOW - 1, 2), NOW], [None, 0],
             [hlc.encode(hlc.MAX_MS, 9999), hlc.MAX_MS]],
    "observe": [[hlc.ZERO, hlc.encode(NOW, 1), NOW], [hlc.encode(NOW, 5), hlc.encode(NOW - 10, 0), NOW],
                [hlc.encode(NOW, 5), hlc.encode(NOW + 2 * DAY, 0), NOW], [None, None, NOW]],
    "canonical": [{"b": 1, "a": [True, None, "x"]}, {"é": "ü", "a\u00e9": "\u2028", "z": {"y": 2, "x": -3}},
                  "tab\tnew\nline \"quoted\" back\\slash", {"𝒳": 1, "\uffff": 2, "a": 3}, [1, 2.5, -0.25, 10 ** 15],
                  {"format": "pantau-bundle", "members": {"changes.jsonl": "ab" * 32}, "first_seq": 1}],
    "hmac": [["k" * 64, '{"a":1}'], ["0123abcd", "teks dengan ü dan 𝒳"]],
}


def test_clock_canonical_json_and_hmac_match_the_hub():
    node = shutil.which("node")
    assert node, "node is needed to test the field app's clock (it is installed wherever `make setup` runs npm)"
    result = subprocess.run([node, str(ROOT / "tests" / "js" / "clock.mjs")], input=json.dumps(CASES), cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)

    def python_tick(last, now):
        try:
            return hlc.tick(last, now)
        except ValueError:
            return "error"

    assert got["tick"] == [python_tick(last, now) for last, now in CASES["tick"]]
    assert got["observe"] == [hlc.observe(last, seen, now) for last, seen, now in CASES["observe"]]
    assert got["canonical"] == [canonical(value) for value in CASES["canonical"]]
    assert got["hmac"] == [hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()
                           for key, text in CASES["hmac"]]
