"""The indicator benchmark still runs (tiny budget here; `make bench` runs it in full)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_indicator_benchmark_runs_and_reports_every_measure(capsys):
    from bench import indicators

    rows = indicators.main(["--facilities", "60", "--runs", "3"])
    assert [r["name"] for r in rows] == ["baseline: decide, hook off", "decide with indicator hook",
                                         "compute year (all values)", "dashboard report"]
    assert all(r["n"] >= 3 and r["p95_ms"] > 0 for r in rows)
    assert '"benchmark": "indicators' in capsys.readouterr().out
