"""A hub's review of received audits: approve, return with a comment, reject. Never commits."""

from __future__ import annotations

from app import auditlog
from app.db import utcnow
from app.node import self_device_id
from survey.audits.models import Audit
from sync import outbox, publish, service, signals
from sync.apply_audits import refresh_review
from sync.models import AuditReview
from sync.problems import SYNC_PROBLEMS

DECISIONS = ("approved", "returned", "rejected")


def decide(session, audit: Audit, decision: str, comment: str, reviewer: str, user_id=None, device_id=None) -> AuditReview:
    """Record a decision; it travels to the device that made the audit. Returning or rejecting needs a reason."""
    if not decision:
        raise SYNC_PROBLEMS("review.decision_required", field="decision")
    if decision not in DECISIONS:
        raise SYNC_PROBLEMS("review.bad_decision", field="decision")
    comment = (comment or "").strip()
    if decision != "approved" and not comment:
        raise SYNC_PROBLEMS("review.comment_required", field="comment")
    if len(comment) > 2000:
        raise SYNC_PROBLEMS("review.comment_too_long", field="comment")
    if audit.status != "submitted":
        raise SYNC_PROBLEMS("review.not_submitted")
    device_id = device_id or self_device_id(session)
    review = AuditReview(audit_id=audit.id, decision=decision, comment=comment, reviewer=reviewer,
                         decided_at=utcnow(), hlc=outbox.now_hlc(session), device_id=device_id)
    session.add(review)
    session.flush()
    refresh_review(session, audit)
    signals.review_decided.send(None, session=session, audit_ids=[audit.id], node=service.this_node())
    publish.review_decided(session, review, audit.facility.kecamatan_code, str(audit.device_id) if audit.device_id else None)
    auditlog.record(session, action="review", entity="audit", entity_id=audit.id, user_id=user_id, device_id=device_id,
                    changes={"review": [None, decision], "comment": [None, comment or None]})
    return review
