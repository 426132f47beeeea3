"""Audits made directly in the database for map and export tests: submitted, scored, reviewed as a test needs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.auth.models import User
from app.cli_support import write_transaction

# Item ids of the shipped RBRA v1 checklist used as answers below.
RBRA = "rbra@1"


def make_audit(app, facility_id: str, username: str, result: str, score: float, submitted_at: dt.datetime,
               review_status: str | None = None, checklist: str = RBRA, answers: dict | None = None,
               lat: float | None = None, lon: float | None = None, revision_of: str | None = None) -> str:
    """Factory: a submitted audit of a facility with a result, score, time and review decision; returns its id."""
    import uuid

    from survey import registry
    from survey.audits.models import Answer, Audit

    with app.app_context(), write_transaction() as session:
        registry.store_version(session, registry.installed()[checklist])
        auditor = session.execute(select(User).where(User.username == username)).scalar_one()
        audit = Audit(facility_id=uuid.UUID(facility_id), checklist_key=checklist, status="submitted",
                      auditor_id=auditor.id, started_at=submitted_at - dt.timedelta(hours=1),
                      submitted_at=submitted_at, score=score, result=result, review_status=review_status,
                      lat=lat, lon=lon, position_source="gps" if lat is not None else None,
                      revision=2 if revision_of else 1, revision_of=uuid.UUID(revision_of) if revision_of else None)
        session.add(audit)
        session.flush()
        for item_id, value in (answers or {}).items():
            session.add(Answer(audit_id=audit.id, item_id=item_id, value=value))
        return str(audit.id)


def this_year_utc(month: int = 3, day: int = 10) -> dt.datetime:
    """A moment earlier this year (Jakarta time), in UTC."""
    year = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).year
    return dt.datetime(year, month, day, 2, 0, tzinfo=dt.timezone.utc)
