"""The same behaviour on PostgreSQL (a hub's database): key tests of other modules, re-run here.

Imported tests are collected again in this module, where `app_config` points at a new PostgreSQL
database, so each runs unchanged against PostgreSQL.
"""

from __future__ import annotations

import pytest

from tests.test_auth import test_auditor_signs_in_and_lands_on_their_facilities  # noqa: F401
from tests.test_facilities import (  # noqa: F401
    test_auditor_sees_only_their_kecamatan,
    test_bad_facility_form_input_gets_a_message_and_changes_nothing,
    test_duplicate_npsn_is_refused,
    test_likely_duplicate_within_100_m_is_offered_first,
    test_nearest_first_when_position_known,
    test_search_and_kind_filter,
    test_supervisor_edits_and_verifies,
)
from tests.test_geo_exports import (  # noqa: F401
    audited,
    export_cli,
    test_audits_geopackage_has_answers_and_the_audit_position,
    test_facilities_geopackage_reads_back_with_the_same_rows_and_geometry_one_layer_per_kind,
)
from tests.test_geo_maps import (  # noqa: F401
    city,
    test_auditor_sees_the_map_of_their_own_kecamatan_only,
    test_facility_card_is_a_named_block_of_the_full_map_page,
    test_kecamatan_map_shows_only_its_facilities,
    test_on_a_hub_only_approved_audits_colour_the_map_and_waiting_ones_are_marked,
)
from tests.test_i18n import test_language_switch_is_remembered_for_the_user  # noqa: F401
from tests.test_migrations import test_models_and_migrations_agree  # noqa: F401
from tests.test_users import (  # noqa: F401
    test_admin_changes_role_and_it_is_logged,
    test_cli_creates_an_auditor_with_kecamatan,
    test_cli_refuses_bad_input_in_both_languages,
)
from tests.support import fresh_postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_config(tmp_path):
    """A hub on its own fresh PostgreSQL database."""
    for url in fresh_postgres_database():
        yield {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "hub", "DEMO": False,
               "SECRET_KEY": "test-hub-secret-" + "x" * 32, "SECURE_COOKIES": False, "DATABASE_URL": url}


def test_this_module_really_runs_on_postgresql(app, db):
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
