"""A hub that ran in demo mode and left it withdraws the demo accounts (password `demo`) it sent to devices."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cli_support import write_transaction


@pytest.fixture
def app_config(tmp_path):
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "ROLE": "hub", "DEMO": False,
            "SECRET_KEY": "demo-withdrawal-" + "k" * 32}


def user_changes(session) -> list[dict]:
    from sync.models import SyncChange

    rows = select(SyncChange.payload).where(SyncChange.kind == "user").order_by(SyncChange.hlc)
    return list(session.execute(rows).scalars())


def test_a_hub_out_of_demo_mode_publishes_its_demo_accounts_as_inactive_once(app):
    from app.auth.service import create_user
    from sync import publish

    with app.app_context(), write_transaction() as session:
        create_user(session, username="planner", role="planner", password="demo", is_demo=True)
        create_user(session, username="rina", role="planner", password="kata-sandi-rina")
        publish.catch_up(session, demo=True)  # the hub in demo mode: both accounts travel
    with app.app_context(), write_transaction() as session:
        assert sorted((c["username"], c["active"]) for c in user_changes(session)) == [("planner", True), ("rina", True)]
        publish.catch_up(session, demo=False)  # the same hub out of demo mode
        publish.catch_up(session, demo=False)  # and again: withdrawn once, not on every pull
    with app.app_context(), write_transaction() as session:
        changes = user_changes(session)
    assert [(c["username"], c["active"]) for c in changes][2:] == [("planner", False)]
    assert len(changes) == 3
