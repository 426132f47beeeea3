"""The app shell at `/app/`: the page, its service worker and its manifest (docs/field-app.md)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("fieldapp", __name__, url_prefix="/app")


@bp.get("/")
def shell():
    """The one page of the installed app; everything after it comes from IndexedDB and the sync API."""
    return render_template("fieldapp/shell.html")


def init_app(app) -> None:
    app.register_blueprint(bp)
