"""What sync calls when review states change on this node: the affected indicator values are recomputed.

Two one-line calls: `sync.reviews.decide` (a decision made here) and `sync.apply.receive` (audits,
revisions and decisions arriving). Audits without a review cannot change a value, so an ingest of
new, unreviewed audits costs one query.

Indicators must never refuse a review or a sync batch: the hook uses only the stored indicator sets
(never the YAML files), runs in a savepoint, and when anything fails it logs the error, undoes its own
writes and marks the affected years as needing a recompute (`indicator_year.computed_at` empty).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask import current_app

log = logging.getLogger(__name__)


def audits_changed(session, audit_ids: Iterable[uuid.UUID]) -> None:
    """Recompute the values these audits count in; on any failure mark their years stale instead of raising."""
    from indicators.service import mark_stale, recompute_for_audits

    ids = list(audit_ids)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    try:
        with session.begin_nested():
            recompute_for_audits(session, ids, zone)
    except Exception:  # noqa: BLE001 - the review or sync batch must commit whatever indicators do
        log.exception("indicators: recompute after a review failed; the affected years need a recompute")
        try:
            with session.begin_nested():
                mark_stale(session, ids, zone)
        except Exception:  # noqa: BLE001
            log.exception("indicators: could not mark the affected years as needing a recompute")


def changes_applied(session, changes: Iterable) -> None:
    """After a sync batch on the hub: recompute for every audit change and review change that was applied.

    Only the hub holds every approved audit; a field device would compute from partial data.
    """
    if current_app.config.get("ROLE") != "hub":
        return
    audit_ids = set()
    for change in changes:
        if change.kind == "audit":
            audit_ids.add(uuid.UUID(change.entity_id))
        elif change.kind == "review":
            audit_ids.add(uuid.UUID(change.payload["audit_id"]))
    if audit_ids:
        audits_changed(session, audit_ids)
