"""The wilayah hierarchy: provinsi, kabupaten/kota, kecamatan, desa/kelurahan, keyed by Kemendagri code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow
from geo.codes import LEVELS


class Wilayah(Base):
    """One administrative region. The Kemendagri code is its id everywhere, on devices and hubs."""

    __tablename__ = "wilayah"
    __table_args__ = (CheckConstraint(f"level IN {LEVELS!r}", name="level"),)

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    level: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # kota/kabupaten for a kabkota, kelurahan/desa for a desa; empty above.
    kind: Mapped[str | None] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("wilayah.code"), index=True)
    # BPS numbers kecamatan differently from Kemendagri (BPS 3673040 = 36.73.01): keep both.
    bps_code: Mapped[str | None] = mapped_column(String(16))
    # Boundary as WKB in EPSG:4326; shapely reads it on devices without geopandas.
    boundary: Mapped[bytes | None] = mapped_column(LargeBinary)
    boundary_note: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped["Wilayah | None"] = relationship(remote_side=[code])

    def __repr__(self) -> str:
        return f"<Wilayah {self.code} {self.name}>"
