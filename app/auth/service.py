"""Creating and changing users; shared by the admin pages and `flask users`. Never commits."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import auditlog
from app.auth import signals
from app.auth.models import User
from app.auth.problems import AUTH_PROBLEMS
from app.auth.queries import active_users, user_by_username
from app.auth.scope import ROLES
from geo.models import Wilayah
from geo.problems import GEO_PROBLEMS

USERNAME = re.compile(r"^[a-zA-Z0-9._-]{3,40}$")


def create_user(session: Session, *, username: str, role: str, password: str, full_name: str = "",
                kecamatan_codes: list[str] = (), is_demo: bool = False, actor_id=None, device_id=None) -> User:
    """Add a user to the session after checking name, role, password and kecamatan."""
    username = username.strip()
    if not USERNAME.match(username):
        raise AUTH_PROBLEMS("user.bad_username")
    if user_by_username(session, username) is not None:
        raise AUTH_PROBLEMS("user.exists", username=username)
    user = User(username=username, full_name=full_name.strip(), role=_check_role(role), is_demo=is_demo)
    if not is_demo:  # the demo's published password "demo" is allowed only for demo users
        _check_password(password)
    user.set_password(password)
    user.kecamatan = kecamatan_list(session, kecamatan_codes)
    session.add(user)
    session.flush()
    signals.user_changed.send(session, user=user)
    auditlog.record(session, action="create", entity="user", entity_id=user.id, user_id=actor_id,
                    device_id=device_id, changes={"username": [None, username], "role": [None, role],
                                                  "kecamatan": [None, list(kecamatan_codes)]})
    return user


def update_user(session: Session, user: User, *, role: str, full_name: str, kecamatan_codes: list[str],
                active: bool, password: str | None = None, actor_id=None, device_id=None) -> User:
    """Change a user's role, name, kecamatan, active flag and, when given, password."""
    before = {"role": user.role, "full_name": user.full_name, "kecamatan": user.kecamatan_codes,
              "active": user.active}
    user.role = _check_role(role)
    user.full_name = full_name.strip()
    user.kecamatan = kecamatan_list(session, kecamatan_codes)
    user.active = active
    changes = auditlog.diff(before, {"role": user.role, "full_name": user.full_name,
                                     "kecamatan": user.kecamatan_codes, "active": active})
    if password:
        _check_password(password)
        user.set_password(password)
        changes["password"] = ["***", "***"]
    if changes:
        session.flush()
        signals.user_changed.send(session, user=user)
        auditlog.record(session, action="update", entity="user", entity_id=user.id, changes=changes,
                        user_id=actor_id, device_id=device_id)
    return user


def may_sign_in(session: Session, user: User | None, demo: bool = False) -> bool:
    """An active account; a demo account (password `demo`) only in demo mode, or on a device its demo hub sent
    it to (sync answers that: a hub publishes demo accounts only while in demo mode, docs/sync.md "Publishing")."""
    if user is None or not user.active:
        return False
    if demo or not user.is_demo:
        return True
    return any(answer for _receiver, answer in signals.demo_account_received.send(session, user=user))


def device_is_new(session: Session, role: str, demo: bool = False) -> bool:
    """A field device with no account anyone can sign in with: only enrolling it, or syncing it again until
    the hub sends an account, makes sense (its setup page stays open until then)."""
    if role != "field":
        return False
    return not any(may_sign_in(session, user, demo) for user in active_users(session))


def kecamatan_list(session: Session, codes) -> list[Wilayah]:
    """The kecamatan with these codes; an unknown code is refused by name."""
    codes = sorted(set(codes))
    if not codes:
        return []
    found = session.execute(select(Wilayah).where(Wilayah.code.in_(codes), Wilayah.level == "kecamatan")).scalars()
    by_code = {w.code: w for w in found}
    missing = [c for c in codes if c not in by_code]
    if missing:
        raise GEO_PROBLEMS("wilayah.unknown_kecamatan", codes=", ".join(missing))
    return [by_code[c] for c in codes]


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AUTH_PROBLEMS("user.bad_role", role=role)
    return role


def _check_password(password: str) -> None:
    if len(password or "") < 8:
        raise AUTH_PROBLEMS("user.weak_password")
