"""Sync between field devices and hubs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.auth import signals as auth_signals
from survey import signals as survey_signals

if TYPE_CHECKING:  # this package's init imports no Flask itself: its pure modules stay importable without it
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register sync pages and commands; log what survey and accounts announce as changes."""
    from sync import api, cli, publish, queries, templating, views

    # Connected once per process (blinker keeps one connection per receiver); they run in the sender's transaction.
    survey_signals.audit_submitted.connect(publish.audit_submitted, weak=False)
    survey_signals.facility_changed.connect(publish.facility_changed, weak=False)
    survey_signals.checklist_stored.connect(publish.checklist_used, weak=False)
    survey_signals.checklist_released.connect(publish.checklist_released, weak=False)
    auth_signals.user_changed.connect(publish.user_changed, weak=False)
    auth_signals.demo_account_received.connect(queries.received_from_hub, weak=False)
    app.register_blueprint(views.bp)
    api.init_app(app)
    cli.register_cli(app)
    templating.init_app(app)
