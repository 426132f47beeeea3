"""Indicator computation and pages on PostgreSQL (a hub's database): key indicator tests re-run here.

As tests/test_postgres.py does: the imported tests are collected again in this module, where
`app_config` points at a new PostgreSQL database of a hub.
"""

from __future__ import annotations

import pytest

from tests.test_indicator_pages import (  # noqa: F401
    dewi,
    scenario,
    test_bad_entries_are_refused_clearly_and_change_nothing,
    test_dashboard_shows_values_points_predicate_gains_and_coverage,
    test_entering_a_value_with_evidence_rolls_up_and_is_logged,
    test_evidence_download_button,
)
from tests.test_indicators import (  # noqa: F401
    test_a_review_arriving_by_sync_updates_the_values,
    test_approving_the_waiting_revision_replaces_the_earlier_audit,
    test_every_facility_derived_indicator_has_the_known_answer,
    test_points_edits_are_logged_and_must_total_1000,
)
from tests.test_indicators import ZONE
from tests.test_postgres import app_config  # noqa: F401 (fixture: a hub on its own fresh PostgreSQL database)

pytestmark = pytest.mark.postgres


def test_two_recomputes_of_a_year_at_once_wait_for_each_other(app, scenario):
    """The dashboard's button and a sync batch recompute 2026 together: the second waits for the first (no 500)."""
    import threading

    from app.cli_support import write_transaction
    from indicators.service import compute_year

    computed, errors = threading.Event(), []

    def first():
        try:
            with app.app_context(), write_transaction() as session:
                compute_year(session, 2026, ZONE)
                computed.set()
                threading.Event().wait(0.8)  # still uncommitted while the second one starts
        except Exception as error:  # noqa: BLE001
            errors.append(error)
            computed.set()

    def second():
        computed.wait(10)
        try:
            with app.app_context(), write_transaction() as session:
                compute_year(session, 2026, ZONE)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
