"""The benchmarks still run (with a tiny budget here; `make bench` runs them in full)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_pages_benchmark_runs_and_reports_every_measure(capsys):
    from bench import pages

    rows = pages.main(["--requests", "5"])
    assert [r["name"] for r in rows] == ["baseline: GET /healthz", "checklist page", "answer save", "submit",
                                         "300-question page (2 x 20 entries)", "300-question answer save"]
    assert all(r["n"] == 5 and r["p95_ms"] > 0 for r in rows)
    assert '"benchmark": "pages' in capsys.readouterr().out
