"""Queries about wilayah."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import Wilayah


def kecamatan_choices(session: Session) -> list[tuple[str, str]]:
    """(code, "code name") for every kecamatan, for select boxes."""
    stmt = select(Wilayah.code, Wilayah.name).where(Wilayah.level == "kecamatan").order_by(Wilayah.code)
    return [(code, f"{name} ({code})") for code, name in session.execute(stmt)]


def wilayah(session: Session, code: str) -> Wilayah | None:
    """The wilayah with this code."""
    return session.get(Wilayah, code)


def children(session: Session, code: str) -> list[Wilayah]:
    """The regions directly under `code`, by code."""
    stmt = select(Wilayah).where(Wilayah.parent_code == code).order_by(Wilayah.code)
    return list(session.execute(stmt).scalars())


def kabkota_list(session: Session) -> list[Wilayah]:
    """Every kabupaten/kota loaded on this installation."""
    stmt = select(Wilayah).where(Wilayah.level == "kabkota").order_by(Wilayah.code)
    return list(session.execute(stmt).scalars())


def count_by_level(session: Session) -> dict[str, int]:
    """How many regions of each level are loaded."""
    stmt = select(Wilayah.level, func.count()).group_by(Wilayah.level)
    return dict(session.execute(stmt).all())

def kabkota_of(session: Session, region: Wilayah) -> Wilayah | None:
    """The kabupaten/kota a kabupaten/kota or kecamatan belongs to."""
    return region if region.level == "kabkota" else session.get(Wilayah, region.parent_code)
