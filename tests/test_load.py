"""The load test, briefly: devices pushing audits with photos and pulling while planners work, against `flask serve`
(gunicorn, several workers), on SQLite and PostgreSQL (bench/load.py; `make bench` runs it for minutes).

Asserts behaviour only, never timings: no request failed, every audit a device was acknowledged is on the hub
exactly once (and nothing else of theirs), the hub acknowledges what the devices think, each photo has one row
and one file. locust runs in its own process (bench/load.py starts it): gevent never patches this one.
"""

from __future__ import annotations

import pytest

from bench import load
from tests.support import postgres_url, require

pytestmark = pytest.mark.slow


@pytest.mark.timeout(240)
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_devices_and_planners_at_once_lose_and_duplicate_nothing(database):
    if database == "postgresql":
        require(postgres_url() is not None, "PostgreSQL is not answering on 127.0.0.1:5432")
    result = load.run(devices=10, planners=4, duration=20, postgres=database == "postgresql", workers=3,
                      device_wait=(0.5, 2.0), planner_wait=(0.5, 2.0), spawn_rate=14, photo_size=(320, 240))
    load.report(result)
    assert result["failures"] == 0, result["failure_samples"]
    assert result["locust_exit"] == 0, result["locust_output"]
    checks = result["checks"]
    assert checks["audits_acked"] > 0
    assert checks["audit_rows_once"] and checks["change_rows_once"]
    assert checks["every_acked_audit_once"], checks
    assert checks["acked_seq_matches"], checks
    assert checks["photos_stored_once"], checks
    assert checks["photo_links"] == 2 * checks["audits_on_hub"]
    assert result["server_errors"] == []
