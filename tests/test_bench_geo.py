"""bench/geo.py still runs and reports every measure (tiny budget here; `python -m bench.geo` runs it in full)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_geo_benchmark_runs_and_reports_every_measure(capsys):
    from bench import geo

    result = geo.main(["--points", "2000", "--polygons", "700", "--naive-sample", "200", "--repeat", "2"])
    assert [row["name"].split(" (")[0] for row in result["results"]] == [
        "baseline: sjoin within", "sjoin incl. building points", "ours: RegionIndex.locate_many",
        "STRtree.query(points) variant", "naive loop"]
    assert all(row["p50_ms"] > 0 for row in result["results"])
    assert set(result) >= {"results", "polygons", "points", "index_build_ms", "ratios", "targets", "agreement",
                           "payloads"}
    assert set(result["ratios"]) == {"ours/sjoin", "ours/sjoin incl. points", "strtree/ours", "naive/ours"}
    assert result["agreement"]["with_sjoin"] == 1.0 and result["agreement"]["with_naive"] == 1.0
    assert 650 <= result["polygons"] <= 750 and result["points"] == 2000
    if isinstance(result["payloads"], list):  # the real layers are in ../shared/data
        assert [p["layer"] for p in result["payloads"]] == [
            "kecamatan_kota-serang", "kecamatan_kota-blitar", "kecamatan_kabupaten-pali"]
        assert all(p["map_bytes"] <= 150_000 and p["overlap_after_m2"] < 1 for p in result["payloads"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)["benchmark"].startswith("geo: locating 2000 points")
