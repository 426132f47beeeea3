"""Demo audits for the planner's dashboard: a share of the demo facilities audited and approved this
year and last year, a photo on each, and entered values. Loaded by `flask indicators demo` on a
demo installation (not by `flask init`: the plain demo stays free of audits, as other demos and
tests expect).

Sample data, marked as such by the demo banner: results are drawn with a fixed seed, not observed.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.db import utcnow
from app.node import self_device_id
from indicators.evidence import EvidenceStore
from indicators.service import EntryInput, compute_year, enter_value
from survey.audits.models import AnswerPhoto, Audit, GpsReading, Photo
from survey.facilities.models import Facility
from survey.photos import PhotoStore
from survey.registry import installed, store_version
from sync.models import AuditReview

# kind -> (checklist, photo item)
AUDITED = {"sekolah": ("sra", "foto_bukti_sra"), "ruang_bermain": ("rbra", "foto_area_bermain"),
           "puskesmas": ("prap", "foto_ruang_anak"), "pka": ("pka", "foto_pka")}
# (indicator, value last year, value this year); None = not entered. Kabupaten/kota level, sample values.
ENTERED = ((1, "1", "1"), (2, "50", "75"), (3, "6", "8"), (4, "81,2", "87,5"), (5, "3", "4"), (6, "50", "66,7"),
           (7, "40", "55"), (8, "0", "1"), (9, None, "40"), (10, "93", "96"), (11, "78", "81"), (12, "60", "64"),
           (14, "70", "74"), (16, "45", "52"), (17, "80", "83"), (21, "60", "72"), (22, None, "30"), (23, None, None),
           (24, "50", "58"))
NOTE = "Contoh demo: angka rekaan, bukan data dinas."


def seed(session: Session) -> int:
    """Add approved demo audits for this year and last year and compute both years; returns the audits added."""
    from flask import current_app

    data_dir, zone = Path(current_app.config["DATA_DIR"]), ZoneInfo(current_app.config["TIMEZONE"])
    rng = random.Random(2026)
    store = PhotoStore(data_dir / "photos")
    auditor = session.execute(select(User).where(User.username == "auditor")).scalar_one()
    planner = session.execute(select(User).where(User.username == "planner")).scalar_one()
    checklists = {c.id: c for c in installed().values()}
    this_year = dt.datetime.now(zone).year
    facilities = list(session.execute(select(Facility).order_by(Facility.kecamatan_code, Facility.name)).scalars())
    added = 0
    for year, share in ((this_year - 1, 0.45), (this_year, 0.7)):
        for facility in facilities:
            if facility.kind not in AUDITED or rng.random() > share:
                continue
            checklist_id, photo_item = AUDITED[facility.kind]
            when = dt.datetime(year, rng.randint(2, 9), rng.randint(1, 28), rng.randint(8, 15), tzinfo=zone)
            meets = rng.random() < (0.5 if year < this_year else 0.65)
            _audit(session, facility, checklists[checklist_id], photo_item, auditor, when, meets, store)
            if rng.random() < 0.5:
                _audit(session, facility, checklists["ktr"], "foto_bukti_ktr", auditor, when, rng.random() < 0.6, store)
            added += 1
    for year in (this_year - 1, this_year):
        compute_year(session, year, zone)
    evidence = EvidenceStore(data_dir / "evidence")
    for number, *values in ENTERED:
        for year, value in zip((this_year - 1, this_year), values):
            if value is not None:
                enter_value(session, EntryInput(year, number, "36.73", value, note=NOTE), evidence, 1 << 20, zone,
                            user_id=planner.id)
    return added


def _audit(session: Session, facility: Facility, checklist, photo_item: str, auditor: User, when: dt.datetime,
           meets: bool, store: PhotoStore) -> None:
    version = store_version(session, checklist)
    at = when.astimezone(dt.timezone.utc)
    lat = (facility.lat or -6.12) + 0.00005
    lon = (facility.lon or 106.16) + 0.00005
    audit = Audit(facility_id=facility.id, checklist_key=version.key, status="submitted", auditor_id=auditor.id,
                  started_at=at - dt.timedelta(minutes=40), submitted_at=at, score=0.9 if meets else 0.62,
                  result="memenuhi" if meets else "belum_memenuhi", lat=lat, lon=lon, accuracy_m=6.0,
                  position_source="gps", position_at=at, review_status="approved", reviewed_at=at + dt.timedelta(days=3))
    session.add(audit)
    session.flush()
    session.add(GpsReading(audit_id=audit.id, lat=lat, lon=lon, accuracy_m=6.0, source="gps", taken_at=at))
    session.add(AuditReview(audit_id=audit.id, decision="approved", comment="", reviewer="supervisor",
                            decided_at=at + dt.timedelta(days=3), hlc="0000000000000000.0000", device_id=_device(session)))
    info = store.save(_picture(facility.name, meets), 5 << 20)
    if session.get(Photo, info.sha256) is None:
        session.add(Photo(sha256=info.sha256, mime=info.mime, size_bytes=info.size_bytes, width=info.width,
                          height=info.height, taken_at=at, stored_at=utcnow()))
        session.flush()
    session.add(AnswerPhoto(audit_id=audit.id, item_id=photo_item, sha256=info.sha256))
    session.flush()


def _device(session: Session):
    return self_device_id(session)


def _picture(name: str, meets: bool) -> bytes:
    """A placeholder JPEG labelled as a demo photo."""
    image = Image.new("RGB", (640, 480), (46, 125, 70) if meets else (170, 90, 40))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 620, 460), outline=(255, 255, 255), width=4)
    draw.text((40, 40), f"DEMO\n{name}", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
