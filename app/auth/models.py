"""Users, their roles and the kecamatan an auditor is assigned to."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.scope import ROLES
from app.db import Base, UTCDateTime, new_id, utcnow
from app.problems import N_
from geo.models import Wilayah

ROLE_NAMES = {"auditor": N_("Auditor"), "supervisor": N_("Supervisor"), "planner": N_("Planner"),
              "admin": N_("Administrator")}

user_kecamatan = Table(
    "user_kecamatan",
    Base.metadata,
    Column("user_id", Uuid, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("kecamatan_code", ForeignKey("wilayah.code"), primary_key=True),
)


class User(UserMixin, Base):
    """A person who signs in: an auditor, supervisor, planner or admin."""

    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(12))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Demo users exist only in demo mode; signing in as one is refused otherwise.
    is_demo: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    kecamatan: Mapped[list[Wilayah]] = relationship(secondary=user_kecamatan, order_by=Wilayah.code)

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of the password, never the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when the password matches."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def kecamatan_codes(self) -> list[str]:
        """Codes of the kecamatan this user works in."""
        return [k.code for k in self.kecamatan]

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
