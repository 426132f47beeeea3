"""What sync calls when review states change on this node: the affected indicator values are recomputed.

Two one-line calls: `sync.reviews.decide` (a decision made here) and `sync.apply.receive` (audits,
revisions and decisions arriving). Audits without a review cannot change a value, so an ingest of
new, unreviewed audits costs one query.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask import current_app


def audits_changed(session, audit_ids: Iterable[uuid.UUID]) -> None:
    """Recompute the values these audits count in."""
    from indicators.service import recompute_for_audits

    recompute_for_audits(session, list(audit_ids), ZoneInfo(current_app.config["TIMEZONE"]))


def changes_applied(session, changes: Iterable) -> None:
    """After a sync batch: recompute for every audit change and review change that was applied."""
    audit_ids = set()
    for change in changes:
        if change.kind == "audit":
            audit_ids.add(uuid.UUID(change.entity_id))
        elif change.kind == "review":
            audit_ids.add(uuid.UUID(change.payload["audit_id"]))
    if audit_ids:
        audits_changed(session, audit_ids)
