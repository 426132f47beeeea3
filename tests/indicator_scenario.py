"""A scenario with known indicator answers, shared by the indicator tests and the evidence tests.

Kota Serang, 2026. Kecamatan Serang (36.73.01) has seven schools A–G, two play spaces, a
puskesmas and an unconfirmed school; Kasemen (36.73.02) has schools H and I, a PKA and a
puskesmas. The audits (all submitted on the hub, reviews through `sync.reviews.decide`):

- A: SRA approved memenuhi, KTR approved memenuhi        -> counts for SRA and KTR
- B: SRA approved belum_memenuhi                         -> in the denominator only
- C: SRA returned (memenuhi)                              -> does not count
- D: SRA rejected (memenuhi)                              -> does not count
- E: no audit                                             -> in the denominator only
- F: SRA approved belum, its revision approved memenuhi   -> the revision replaces it: counts
- G: SRA approved memenuhi, its revision (belum) waiting  -> the approved one still counts
- play 1: RBRA approved memenuhi, KTR approved belum      -> RBRA 1
- play 2: RBRA approved memenuhi in 2025                  -> not in 2026
- Puskesmas Serang: PRAP approved memenuhi
- unconfirmed school: SRA approved memenuhi               -> not counted at all (not confirmed)
- H: SRA approved memenuhi; I: no audit; PKA: PKA approved memenuhi; Puskesmas Kasemen: none

Known answers for 2026 (numerator/denominator):
  SRA (18)  Serang 3/7, Kasemen 1/2, Kota Serang 4/9
  RBRA (20) Serang 1 (of 2), Kasemen 0 (of 0), Kota Serang 1 (of 2)
  PRAP (13) Serang 1/1, Kasemen 0/1, Kota Serang 1/2
  PKA (19)  Serang 0 (of 0), Kasemen 1 (of 1), Kota Serang 1
  KTR (15)  Serang 1/10, Kasemen 0/4, Kota Serang 1/14
"""

from __future__ import annotations

import datetime as dt
import uuid

from app.cli_support import write_transaction
from app.db import utcnow
from survey.audits.models import Audit, GpsReading
from survey.facilities.models import Facility
from survey.registry import installed, store_version
from tests.conftest import make_facility, make_user

WIB = dt.timezone(dt.timedelta(hours=7))
EXPECTED_2026 = {
    18: {"36.73.01": (3, 7), "36.73.02": (1, 2), "36.73": (4, 9)},
    20: {"36.73.01": (1, 2), "36.73.02": (0, 0), "36.73": (1, 2)},
    13: {"36.73.01": (1, 1), "36.73.02": (0, 1), "36.73": (1, 2)},
    19: {"36.73.01": (0, 0), "36.73.02": (1, 1), "36.73": (1, 1)},
    15: {"36.73.01": (1, 10), "36.73.02": (0, 4), "36.73": (1, 14)},
}


def submitted_audit(session, facility_id: str, checklist_id: str, result: str, auditor_id, when: dt.datetime,
                    revision_of: Audit | None = None) -> Audit:
    """A submitted audit as it stands on the hub after sync, with one GPS reading."""
    checklist = next(c for c in installed().values() if c.id == checklist_id)
    store_version(session, checklist)
    audit = Audit(facility_id=uuid.UUID(facility_id), checklist_key=checklist.key, status="submitted",
                  revision=(revision_of.revision + 1) if revision_of else 1, revision_of=revision_of.id if revision_of else None,
                  auditor_id=auditor_id, started_at=when, submitted_at=when, score=0.9 if result == "memenuhi" else 0.5,
                  result=result, lat=-6.115, lon=106.16, accuracy_m=8.0, position_source="gps", position_at=when)
    session.add(audit)
    session.flush()
    session.add(GpsReading(audit_id=audit.id, lat=-6.115, lon=106.16, accuracy_m=8.0, source="gps", taken_at=when))
    session.flush()
    return audit


def review(session, audit: Audit, decision: str) -> None:
    """A supervisor's decision on the hub, through the real review service (and its indicator hook)."""
    from sync.reviews import decide

    decide(session, audit, decision, "" if decision == "approved" else "Foto kurang jelas.", "budi")


def build(app) -> dict[str, object]:
    """Load the scenario; return facility ids and audits by letter."""
    make_user(app, "siti", "auditor", ["36.73.01", "36.73.02"])
    ids = {}
    for letter in "ABCDEFG":
        ids[letter] = make_facility(app, kind="sekolah", name=f"SD Negeri {letter} Serang", lat=None, lon=None)
    ids["play1"] = make_facility(app, name="Taman Bermain RW 01")
    ids["play2"] = make_facility(app, name="RTH Taman Serang", lat=-6.113, lon=106.158)
    ids["pusk1"] = make_facility(app, kind="puskesmas", name="Puskesmas Serang", lat=None, lon=None)
    ids["U"] = make_facility(app, kind="sekolah", name="SD Belum Dicek", lat=None, lon=None)
    for letter in "HI":
        ids[letter] = make_facility(app, kind="sekolah", name=f"SD Negeri {letter} Kasemen", kecamatan_code="36.73.02",
                                    lat=None, lon=None)
    ids["pka"] = make_facility(app, kind="pka", name="PKA Kasemen", kecamatan_code="36.73.02", lat=None, lon=None)
    ids["pusk2"] = make_facility(app, kind="puskesmas", name="Puskesmas Kasemen", kecamatan_code="36.73.02", lat=None, lon=None)
    march = dt.datetime(2026, 3, 2, 9, 0, tzinfo=WIB)
    audits = {}
    with app.app_context(), write_transaction() as session:
        session.get(Facility, uuid.UUID(ids["U"])).verified = False
        from app.auth.models import User
        from sqlalchemy import select

        siti = session.execute(select(User.id).where(User.username == "siti")).scalar_one()

        def audit(key, facility, checklist, result, decision, day=0, revision_of=None, when=None):
            made = submitted_audit(session, ids[facility], checklist, result, siti,
                                   when or march + dt.timedelta(days=day), audits.get(revision_of))
            if decision:
                review(session, made, decision)
            audits[key] = made

        audit("A", "A", "sra", "memenuhi", "approved")
        audit("A-ktr", "A", "ktr", "memenuhi", "approved")
        audit("B", "B", "sra", "belum_memenuhi", "approved")
        audit("C", "C", "sra", "memenuhi", "returned")
        audit("D", "D", "sra", "memenuhi", "rejected")
        audit("F", "F", "sra", "belum_memenuhi", "approved")
        audit("F2", "F", "sra", "memenuhi", "approved", day=10, revision_of="F")
        audit("G", "G", "sra", "memenuhi", "approved")
        audit("G2", "G", "sra", "belum_memenuhi", None, day=12, revision_of="G")
        audit("play1", "play1", "rbra", "memenuhi", "approved")
        audit("play1-ktr", "play1", "ktr", "belum_memenuhi", "approved")
        audit("play2", "play2", "rbra", "memenuhi", "approved", when=dt.datetime(2025, 8, 1, 9, 0, tzinfo=WIB))
        audit("pusk1", "pusk1", "prap", "memenuhi", "approved")
        audit("U", "U", "sra", "memenuhi", "approved")
        audit("H", "H", "sra", "memenuhi", "approved")
        audit("pka", "pka", "pka", "memenuhi", "approved")
        photos = {"A": attach_photo(app, session, audits["A"], "foto_bukti_sra", (30, 120, 200)),
                  "F2": attach_photo(app, session, audits["F2"], "foto_bukti_sra", (200, 120, 30)),
                  "F2b": attach_photo(app, session, audits["F2"], "foto_bukti_sra", (90, 90, 90))}
        session.flush()
        audit_ids = {key: str(a.id) for key, a in audits.items()}
    return {"facilities": ids, "audits": audit_ids, "photos": photos, "now": utcnow()}


def attach_photo(app, session, audit: Audit, item_id: str, color) -> str:
    """A real JPEG stored as the photo store does, attached to an item of the audit; returns its SHA-256."""
    from pathlib import Path

    from survey.audits.models import AnswerPhoto, Photo
    from survey.photos import PhotoStore
    from tests.support import make_jpeg

    info = PhotoStore(Path(app.config["DATA_DIR"]) / "photos").save(make_jpeg(color=color), 10 << 20)
    session.add(Photo(sha256=info.sha256, mime=info.mime, size_bytes=info.size_bytes, width=info.width,
                      height=info.height, gps_lat=info.gps_lat, gps_lon=info.gps_lon))
    session.flush()
    session.add(AnswerPhoto(audit_id=audit.id, item_id=item_id, sha256=info.sha256))
    session.flush()
    return info.sha256
