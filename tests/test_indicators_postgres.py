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
from tests.test_migrations import make_postgres_database
from tests.support import postgres_url, require

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_config(tmp_path):
    """A hub on its own fresh PostgreSQL database."""
    admin_url = postgres_url()
    require(admin_url is not None, "PostgreSQL is not answering on 127.0.0.1:5432")
    databases = make_postgres_database(admin_url)
    url = next(databases)
    yield {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "hub", "DEMO": False,
           "SECRET_KEY": "test-hub-secret", "SECURE_COOKIES": False, "DATABASE_URL": url}
    databases.close()
