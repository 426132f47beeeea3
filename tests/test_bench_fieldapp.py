"""bench/fieldapp.py still runs and reports every measure (small here; `python -m bench.fieldapp` runs it in full)."""

from __future__ import annotations

import json

import pytest

from tests.support import chromium_available, require

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_fieldapp_benchmark_runs_and_reports_every_measure(capsys):
    require(chromium_available(), "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from bench import fieldapp

    rows = fieldapp.main(["--cold", "2", "--saves", "10", "--audits", "3", "--photos", "2"])
    timed = {row["name"]: row for row in rows if "p95_ms" in row}
    assert list(timed) == ["baseline: launch → shell first paint", "cold start to facility list", "browser launch alone",
                           "baseline: plain idb put", "answer save (store.saveAnswer)", "baseline: 6 plain photo PUTs",
                           "sync 3 audits + 6 photos"]
    assert [timed[name]["n"] for name in timed] == [2, 2, 2, 10, 10, 1, 1]
    assert all(row["p50_ms"] > 0 for row in timed.values())
    # The offline start goes through the shell's first paint; the launch comes before both.
    assert timed["browser launch alone"]["p95_ms"] < timed["baseline: launch → shell first paint"]["p95_ms"] \
        <= timed["cold start to facility list"]["p95_ms"]
    sizes = {row["name"]: row["kb"] for row in rows if "kb" in row}
    assert sizes["app shell (precached, uncompressed)"] > 50 and sizes["package as stored"] > 10
    assert sizes["shell + package"] == pytest.approx(sizes["app shell (precached, uncompressed)"]
                                                      + sizes["package as stored"], abs=0.2)
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["benchmark"].startswith("field app")
    # The sync moved everything, once: the hub holds each audit exactly once and every photo.
    assert report["hub_after_sync"] == {"audits": 3, "distinct_audits": 3, "photos_stored": 6, "photos_linked": 6}
    assert (report["pushed"], report["acked"], report["outbox_left"]) == (3, 3, 0)
