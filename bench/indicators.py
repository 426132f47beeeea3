"""Indicators on a hub: what the review hook adds to a supervisor's decision, a full recompute, a dashboard.

    python -m bench.indicators [--facilities 3000] [--runs 30]

A hub with Kota Serang, `--facilities` confirmed facilities (schools, play spaces, puskesmas, PKA)
spread over the six kecamatan, each with an approved audit of its checklist and half with an
approved KTR audit, the year computed. Baseline in the same run: `sync.reviews.decide` on one
submitted audit with the indicator hook switched off. Then the same decision with the hook (it
recomputes the kabupaten/kota's year), `flask indicators compute` for the year, and building the
dashboard report. Reported: p50/p95 and the ratio of each p95 to the baseline's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import report, summary

ZONE = ZoneInfo("Asia/Jakarta")
KINDS = (("sekolah", "sra"), ("ruang_bermain", "rbra"), ("puskesmas", "prap"), ("pka", "pka"))


def prepare(folder: Path, facilities: int):
    """The hub, its facilities and approved audits (bulk rows), the year computed; returns (app, auditor id)."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from app import create_app
    from app.auth.service import create_user
    from app.cli_support import write_transaction
    from indicators.service import compute_year
    from survey.audits.models import Audit
    from survey.demo import KECAMATAN, seed_regions
    from survey.facilities.models import Facility
    from survey.registry import installed, store_version
    from sync.service import ensure_self_device

    app = create_app({"INSTANCE_PATH": str(folder), "ROLE": "hub", "SECRET_KEY": "bench-" + "x" * 32, "SECURE_COOKIES": False})
    with app.app_context():
        upgrade()
        with write_transaction() as session:
            ensure_self_device(session, "hub")
            seed_regions(session)
            auditor = create_user(session, username="siti", role="auditor", password="kata-sandi-siti",
                                  kecamatan_codes=[k for k, _, _ in KECAMATAN])
            versions = {c.id: store_version(session, c).key for c in installed().values()}
            facility_rows, audit_rows = [], []
            at = dt.datetime(2026, 3, 1, 2, tzinfo=dt.timezone.utc)
            for n in range(facilities):
                kind, checklist_id = KINDS[n % len(KINDS)]
                facility_id = uuid.uuid4()
                facility_rows.append({"id": facility_id, "kind": kind, "name": f"Fasilitas {n}", "status": "active",
                                      "verified": True, "kecamatan_code": KECAMATAN[n % len(KECAMATAN)][0],
                                      "created_at": at, "updated_at": at})
                for key in [versions[checklist_id]] + ([versions["ktr"]] if n % 2 else []):
                    audit_rows.append({"id": uuid.uuid4(), "facility_id": facility_id, "checklist_key": key,
                                       "status": "submitted", "revision": 1, "auditor_id": auditor.id,
                                       "started_at": at, "updated_at": at, "submitted_at": at + dt.timedelta(minutes=n),
                                       "score": 0.9, "result": "memenuhi" if n % 3 else "belum_memenuhi",
                                       "position_warnings": [], "review_status": "approved", "reviewed_at": at})
            session.execute(insert(Facility), facility_rows)
            session.execute(insert(Audit), audit_rows)
            compute_year(session, 2026, ZONE)
            auditor_id = auditor.id
    return app, auditor_id, versions


def waiting_audit(app, auditor_id, versions) -> uuid.UUID:
    """One more submitted SRA audit of a school, waiting for review."""
    from sqlalchemy import select

    from app.cli_support import write_transaction
    from survey.audits.models import Audit
    from survey.facilities.models import Facility

    with app.app_context(), write_transaction() as session:
        school = session.execute(select(Facility.id).where(Facility.kind == "sekolah").limit(1)).scalar_one()
        at = dt.datetime(2026, 5, 1, 2, tzinfo=dt.timezone.utc)
        audit = Audit(facility_id=school, checklist_key=versions["sra"], status="submitted", auditor_id=auditor_id,
                      started_at=at, submitted_at=at, score=0.9, result="memenuhi")
        session.add(audit)
        session.flush()
        return audit.id


def time_decisions(app, auditor_id, versions, runs: int, hook: bool) -> list[float]:
    """Approve `runs` waiting audits one request-sized transaction each, with or without the indicator hook."""
    from app.cli_support import write_transaction
    from indicators import hooks
    from survey.audits.models import Audit
    from sync.reviews import decide

    original = hooks.audits_changed
    samples = []
    try:
        if not hook:
            hooks.audits_changed = lambda session, audit_ids, zone: None
        for _ in range(runs):
            audit_id = waiting_audit(app, auditor_id, versions)
            with app.app_context():
                start = time.perf_counter()
                with write_transaction() as session:
                    decide(session, session.get(Audit, audit_id), "approved", "", "budi")
                samples.append(time.perf_counter() - start)
    finally:
        hooks.audits_changed = original
    return samples


def time_compute(app, runs: int) -> list[float]:
    from app.cli_support import write_transaction
    from indicators.service import compute_year

    samples = []
    for _ in range(runs):
        with app.app_context():
            start = time.perf_counter()
            with write_transaction() as session:
                compute_year(session, 2026, ZONE)
            samples.append(time.perf_counter() - start)
    return samples


def time_report(app, runs: int) -> list[float]:
    from app.extensions import db
    from geo.models import Wilayah
    from indicators import report as reports

    samples = []
    with app.app_context():
        region = db.session.get(Wilayah, "36.73")
        for _ in range(runs):
            start = time.perf_counter()
            built = reports.build(db.session, region, 2026, ZONE)
            reports.kecamatan_values(db.session, built)
            samples.append(time.perf_counter() - start)
            db.session.rollback()
    return samples


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        app, auditor_id, versions = prepare(Path(folder), args.facilities)
        rows = [summary("baseline: decide, hook off", time_decisions(app, auditor_id, versions, args.runs, False)),
                summary("decide with indicator hook", time_decisions(app, auditor_id, versions, args.runs, True)),
                summary("compute year (all values)", time_compute(app, max(3, args.runs // 3))),
                summary("dashboard report", time_report(app, args.runs))]
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()
    report(f"indicators ({args.facilities} facilities, SQLite)", rows, {"facilities": args.facilities})
    return rows


if __name__ == "__main__":
    main()
