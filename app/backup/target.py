"""What a restore needs of the running app: its engine, data folder, role and migrations."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import upgrade

from app.backup.service import Target
from app.db import Base
from app.extensions import db


def restore_target() -> Target:
    """The current app as a restore target."""

    def _upgrade():
        db.session.remove()
        upgrade()

    scripts = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    return Target(db.engine, Base.metadata, Path(current_app.config["DATA_DIR"]), current_app.config["ROLE"],
                  {s.revision for s in scripts.walk_revisions()}, _upgrade)
