"""Facilities: the places auditors visit."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, new_id, utcnow
from geo.models import Wilayah
from survey.kinds import KIND_CODES

# "deleted" is a tombstone: kept so the deletion syncs like any other value.
STATUSES = ("active", "closed", "deleted")
# The fields that travel between nodes, each merged on its own (docs/sync.md).
FACILITY_FIELDS = ("kind", "name", "official_id", "address", "lat", "lon", "kecamatan_code", "desa_code", "status",
                   "verified")


class Facility(Base):
    """A playground, school, puskesmas or other child facility, with its position and region."""

    __tablename__ = "facility"
    __table_args__ = (
        CheckConstraint(f"kind IN {KIND_CODES!r}", name="kind"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat_range"),
        CheckConstraint("lon IS NULL OR (lon BETWEEN -180 AND 180)", name="lon_range"),
        # One NPSN (or puskesmas code) names one facility of a kind.
        Index("uq_facility_kind_official_id", "kind", "official_id", unique=True,
              sqlite_where="official_id IS NOT NULL", postgresql_where="official_id IS NOT NULL"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(160))
    official_id: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("wilayah.code"), index=True)
    desa_code: Mapped[str | None] = mapped_column(ForeignKey("wilayah.code"))
    status: Mapped[str] = mapped_column(String(10), default="active")
    # Registered in the field by an auditor: a supervisor confirms it is real and not a duplicate.
    verified: Mapped[bool] = mapped_column(default=True)
    # Where the position falls by the loaded boundaries (geo.locate); differs from kecamatan_code
    # when the registry and the map disagree, which a supervisor must look at.
    located_kecamatan_code: Mapped[str | None] = mapped_column(String(16))
    located_desa_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("user_account.id"))
    origin_device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("device.id"))

    kecamatan: Mapped[Wilayah] = relationship(foreign_keys=[kecamatan_code])
    desa: Mapped[Wilayah | None] = relationship(foreign_keys=[desa_code])

    @property
    def kecamatan_mismatch(self) -> bool:
        """The position lies in another kecamatan than the registry says (or outside every one loaded)."""
        return self.lat is not None and self.located_kecamatan_code != self.kecamatan_code \
            and self.located_kecamatan_code is not None

    def __repr__(self) -> str:
        return f"<Facility {self.kind} {self.name!r}>"
