"""bench/maps.py still runs and reports every measure (small here; `python -m bench.maps` runs it in full)."""

from __future__ import annotations

import json

import pytest

from tests.support import SHARED, require

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def test_maps_benchmark_runs_and_reports_every_measure(capsys):
    require((SHARED / "data" / "boundaries").is_dir(), "shared boundary data not found")
    from bench import maps

    result = maps.main(["--facilities", "60", "--repeat", "2"])
    assert [row["name"] for row in result["results"]][0] == "baseline: GET /healthz"
    assert len(result["results"]) == 7 and all(row["p50_ms"] > 0 for row in result["results"])
    assert result["targets"]["every layer under 150 KB"]
    assert set(result["payload_bytes"]) >= {"kecamatan_kota-serang", "desa_kabupaten-pali"}
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["benchmark"].startswith("maps:")
