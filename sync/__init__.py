"""Sync between field devices and hubs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.auth import signals as auth_signals
from survey import signals as survey_signals

if TYPE_CHECKING:  # domain modules in this package import no Flask, even through the package
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register sync pages and commands; log what survey and accounts announce as changes."""
    from app.extensions import db
    from sync import api, cli, publish, queries, views

    # Connected once per process (blinker keeps one connection per receiver); they run in the sender's transaction.
    survey_signals.audit_submitted.connect(publish.audit_submitted, weak=False)
    survey_signals.facility_changed.connect(publish.facility_changed, weak=False)
    survey_signals.checklist_stored.connect(publish.checklist_used, weak=False)
    auth_signals.user_changed.connect(publish.user_changed, weak=False)
    auth_signals.demo_account_received.connect(queries.received_from_hub, weak=False)
    app.register_blueprint(views.bp)
    api.init_app(app)
    cli.register_cli(app)
    # The sign-in page of a new device says whether it is enrolled yet (app.auth knows nothing of sync).
    app.jinja_env.globals["device_enrolled"] = lambda: queries.is_enrolled(db.session)
