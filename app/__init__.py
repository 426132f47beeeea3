"""Pantau KLA: the application factory. It only wires; each package wires itself in `init_app`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app for a field device or a hub, from settings plus `config` overrides."""
    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("PANTAU_INSTANCE_PATH") or str(ROOT / "instance")
    app = Flask(__name__, instance_path=os.path.abspath(instance_path),
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))

    from app import config as app_config

    app_config.configure(app, config)

    from app import auth, backup, errors, extensions, i18n, inputs, models, security, tx, views  # noqa: F401 (models: full metadata)
    from app import throttle  # noqa: F401 (registers the database:// throttling storage before the limiter binds)
    from app import cli as app_cli

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(ROOT / "migrations"), render_as_batch=True)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    inputs.init_app(app)  # query and form values cleaned as parsed (no NUL, no control characters)
    errors.register(app)
    tx.init_app(app)  # one transaction per write request; the write lock as each route declares it
    auth.init_app(app)
    views.init_app(app)
    app_cli.init_app(app)
    backup.init_app(app)

    # Here, not at the top: every app.* module imports this package first, so importing the packages above the
    # kernel at its top would import them all before the kernel they stand on (an import cycle).
    import fieldapp
    import geo
    import indicators
    import maps
    import survey
    import sync

    for package in (geo, survey, sync, indicators, maps, fieldapp):  # bottom layer first (docs/architecture.md)
        package.init_app(app)
    return app
