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
    assert result["backup_s"] > 0 and result["plain_copy_s"] > 0
    assert '"benchmark": "backup round trip"' in capsys.readouterr().out
