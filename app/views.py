"""Home pages per role, the language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user, login_required

from app.auth import role_required
from app.auth.scope import REVIEWERS
from app.extensions import db
from app.htmx import render_page
from app.i18n import LOCALES
from app.node import self_device
from app.queries import accounts_by_role, database_answers, latest_changes
from app.tx import transactional
from geo.queries import children, count_by_level, kabkota_list
from survey.facilities.queries import count_unverified, counts_by_kecamatan_and_kind
from survey.kinds import KINDS
from sync.queries import list_devices, review_counts

bp = Blueprint("core", __name__)


def init_app(app: Flask) -> None:
    """Register the core pages."""
    app.register_blueprint(bp)

    @app.context_processor
    def _globals():
        return {"app_role": current_app.config["ROLE"], "demo": current_app.config["DEMO"]}


@bp.get("/")
@login_required
def home():
    """Each role starts where its work is."""
    if current_user.role == "auditor":
        return redirect(url_for("facilities.index"))  # where their returned audits and drafts are listed first
    on_hub = current_app.config["ROLE"] == "hub" and current_user.role in REVIEWERS
    return render_page("home.html", review_counts=review_counts(db.session) if on_hub else None, **_overview())


@bp.post("/language")
@transactional
def language():
    """Switch the UI language; remembered for the browser and, when signed in, for the user."""
    chosen = request.form.get("locale", "")
    if chosen in LOCALES:
        session["locale"] = chosen
        if current_user.is_authenticated:
            current_user.locale = chosen
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("core.home"))


@bp.get("/audit-log")
@role_required(*REVIEWERS)
def audit_log():
    """The latest changes: who, when, what."""
    return render_page("audit_log.html", entries=latest_changes(db.session))


@bp.get("/healthz")
def healthz():
    """Liveness for a hub's monitoring: the database answers."""
    database_answers(db.session)
    return jsonify({"status": "ok", "role": current_app.config["ROLE"]})


def _overview() -> dict:
    """Counts a supervisor, planner or admin sees first."""
    counts = counts_by_kecamatan_and_kind(db.session)
    regions = []
    for kabkota in kabkota_list(db.session):
        rows = [(k, counts.get(k.code, {})) for k in children(db.session, kabkota.code)]
        regions.append((kabkota, rows))
    return {
        "regions": regions,
        "kinds": KINDS,
        "levels": count_by_level(db.session),
        "unverified": count_unverified(db.session),
        "total": sum(sum(v.values()) for v in counts.values()),
        "devices": list_devices(db.session),
        "this_device": self_device(db.session),
        "user_counts": accounts_by_role(db.session),
    }
