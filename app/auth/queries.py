"""Queries about users."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.auth.models import User


def user_by_id(session: Session, user_id: str) -> User | None:
    """The user with this id, or None (also for a malformed id)."""
    try:
        return session.get(User, uuid.UUID(str(user_id)))
    except ValueError:
        return None


def user_by_username(session: Session, username: str) -> User | None:
    """The user with this username, compared without case."""
    stmt = select(User).where(func.lower(User.username) == username.strip().lower())
    return session.execute(stmt).scalar_one_or_none()


def list_users(session: Session) -> list[User]:
    """Every user, by role then name, with their kecamatan loaded."""
    stmt = select(User).options(selectinload(User.kecamatan)).order_by(User.role, User.username)
    return list(session.execute(stmt).scalars())


def active_users(session: Session) -> list[User]:
    """Every account that is not switched off."""
    return list(session.execute(select(User).where(User.active.is_(True))).scalars())
