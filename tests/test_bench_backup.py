"""The backup benchmark still runs and proves its round trip (tiny budget here; `make bench` runs it in full)."""

from __future__ import annotations

import pytest

from tests.support import postgres_url, require

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_backup_benchmark_round_trip_is_verified(capsys, database):
    from bench import backup

    if database == "postgresql":
        require(postgres_url() is not None, "PostgreSQL is not answering on 127.0.0.1:5432")
    result = backup.main(["--audits", "30", "--photos", "2", "--answers", "5"]
                         + (["--postgres"] if database == "postgresql" else []))
    assert result["verified"] and result["database"] == database
    assert result["files"] == 6  # two originals, each with its display copy and thumbnail
    # The plain copy of 30 audits takes well under the 10 ms the figures are rounded to: the ratio is from the
    # unrounded times.
    assert result["backup_s"] > 0 and result["backup_vs_copy"] > 0 and result["restore_vs_copy"] > 0
    assert '"benchmark": "backup round trip"' in capsys.readouterr().out
