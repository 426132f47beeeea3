"""Sign-in, roles and user management."""

from __future__ import annotations

from functools import wraps

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.problems import AUTH_PROBLEMS
from app.extensions import db, login_manager


def role_required(*roles: str):
    """Allow the view only to signed-in users with one of these roles."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                raise AUTH_PROBLEMS("auth.forbidden")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def init_app(app: Flask) -> None:
    """Bind Flask-Login and register the auth pages and CLI."""
    from app.auth import cli, views
    from app.auth.queries import user_by_id
    from app.auth.service import may_sign_in

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(user_id: str):
        user = user_by_id(db.session, user_id)
        if user is not None and user.is_demo and not may_sign_in(db.session, user, app.config["DEMO"]):
            return None
        return user

    from app.auth.models import ROLE_NAMES

    app.register_blueprint(views.bp)
    app.jinja_env.globals["role_name"] = lambda role: ROLE_NAMES.get(role, role)
    app.cli.add_command(cli.users)
