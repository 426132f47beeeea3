"""How indicators follow sync: when review states change on this node, the affected values are recomputed.

Two receivers of sync.signals, connected by indicators.init_app: `review_decided` (a decision made
here, sent by sync.reviews.decide) and `changes_applied` (audits, revisions and decisions arriving,
sent by sync.service after a batch). Everything they need comes with the signal (the session, the
node's role and time zone): no Flask globals. Audits without a review cannot change a value, so an
ingest of new, unreviewed audits costs one query.

Indicators must never refuse a review or a sync batch: the hook uses only the stored indicator sets
(never the YAML files), runs in a savepoint, and when anything fails it logs the error, undoes its own
writes and marks the affected years as needing a recompute (`indicator_year.computed_at` empty).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import tzinfo

from sync import signals

log = logging.getLogger(__name__)


def connect() -> None:
    """Listen to sync's announcements; connecting again (another app in this process) changes nothing."""
    signals.review_decided.connect(review_decided)
    signals.changes_applied.connect(changes_applied)


def audits_changed(session, audit_ids: Iterable[uuid.UUID], zone: tzinfo) -> None:
    """Recompute the values these audits count in; on any failure mark their years stale instead of raising."""
    from indicators.service import mark_stale, recompute_for_audits

    ids = list(audit_ids)
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


def review_decided(sender, *, session, audit_ids: Iterable[uuid.UUID], node: signals.Node) -> None:
    """After a decision made here: recompute for the audits decided."""
    audits_changed(session, audit_ids, node.zone)


def changes_applied(sender, *, session, changes: Iterable, node: signals.Node) -> None:
    """After a sync batch on the hub: recompute for every audit change and review change that was applied.

    Only the hub holds every approved audit; a field device would compute from partial data.
    """
    if node.role != "hub":
        return
    audit_ids = set()
    for change in changes:
        if change.kind == "audit":
            audit_ids.add(uuid.UUID(change.entity_id))
        elif change.kind == "review":
            audit_ids.add(uuid.UUID(change.payload["audit_id"]))
    if audit_ids:
        audits_changed(session, audit_ids, node.zone)
