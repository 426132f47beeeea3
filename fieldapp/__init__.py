"""The installable field app for Android tablets (`/app/`): its shell, service worker and manifest, and the
hub's API that prepares it for the field. The app is a device of the sync protocol like any other
(docs/field-app.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Serve the app's shell and the field package API."""
    from fieldapp import api, views

    views.init_app(app)
    api.init_app(app)

