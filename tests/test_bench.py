"""The benchmarks still run (with a tiny budget here; `make bench` runs them in full)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_pages_benchmark_runs_and_reports_every_measure(capsys):
    from bench import pages

    rows = pages.main(["--requests", "5"])
    assert [r["name"] for r in rows] == ["baseline: GET /healthz", "checklist page", "answer save", "submit",
                                         "300-question page (2 x 20 entries)", "300-question answer save",
                                         "checklist page, card cache off"]
    assert all(r["n"] == 5 and r["p95_ms"] > 0 for r in rows)
    assert '"benchmark": "pages' in capsys.readouterr().out


def test_sync_benchmark_runs_and_reports_the_floor_and_the_targets(capsys):
    from bench import sync

    result = sync.main(["--existing", "200", "--new", "100", "--answers", "6"])
    assert result["push10_n"] == sync.PUSH_SAMPLES and result["push10_p95_ms"] > 0
    assert result["floor_s"] > 0 and result["import_vs_floor"] > 0 and result["reimport_share"] < 1
    out = capsys.readouterr().out
    assert "target import within 2x of the executemany floor" in out and "push p95 under 50 ms" in out
