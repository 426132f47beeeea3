"""bench/fieldapp.py still runs and reports every measure (small here; `python -m bench.fieldapp` runs it in full)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import CHROMIUM, ROOT, chromium_available, require

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_fieldapp_benchmark_runs_and_reports_every_measure():
    require(chromium_available(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    # In its own process, as `make bench` runs it: Playwright runs once per process, and the browser tests'
    # may already run in this one.
    done = subprocess.run([sys.executable, "-m", "bench.fieldapp", "--cold", "2", "--saves", "10", "--rounds", "2",
                           "--audits", "3", "--photos", "2"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    rows = report["results"]
    timed = {row["name"]: row for row in rows if "p95_ms" in row}
    assert list(timed) == ["baseline: launch → shell first paint", "cold start to facility list",
                           "  of which browser launch", "  of which the app: first paint → rows",
                           "baseline: plain idb put", "answer save (store.saveAnswer)", "baseline: 6 plain photo PUTs",
                           "sync 3 audits + 6 photos"]
    assert [row["n"] for row in timed.values()] == [2, 2, 2, 2, 10, 10, 2, 2]
    assert all(row["p50_ms"] > 0 for row in timed.values())
    # An offline start goes through the browser's launch and the shell's first paint, in that order.
    assert timed["  of which browser launch"]["p50_ms"] < timed["baseline: launch → shell first paint"]["p50_ms"] \
        <= timed["cold start to facility list"]["p50_ms"]
    assert {"vs_baseline_p50", "vs_baseline_p95", "target"} <= set(timed["answer save (store.saveAnswer)"])
    sizes = {row["name"]: row["kb"] for row in rows if "kb" in row}
    assert sizes["app shell (precached, uncompressed)"] > 50 and sizes["package as stored"] > 10
    assert sizes["shell + package"] == pytest.approx(sizes["app shell (precached, uncompressed)"]
                                                      + sizes["package as stored"], abs=0.2)
    assert sizes["origin storage estimate (3 audits unsent)"] > sizes["origin storage estimate (prepared)"]
    assert "origin storage estimate (all 6 sent)" in sizes
    assert report["benchmark"].startswith("field app")
    # Every round moved its whole outbox, once: the hub holds each audit exactly once and every photo.
    assert report["hub_after_sync"] == {"audits": 6, "distinct_audits": 6, "photos_stored": 12, "photos_linked": 12}
    assert report["pushed"] == [3, 3] and report["outbox_left"] == [0, 0]
    assert report["push_requests"]["/api/v1/sync/photos/<sha256>"]["n"] == 6
    assert report["page_errors"] == []
