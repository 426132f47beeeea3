"""What sync announces, so that packages above it follow without sync importing them (blinker).

The merge (sync.apply) sends nothing. The code that runs it in a request or a command
(sync.service for batches, sync.reviews for decisions) sends after the merge, in the same
transaction: a receiver's writes commit or roll back with the batch or the decision. A receiver
gets everything it needs as arguments and reads no Flask globals; it connects in its package's
init_app (indicators.init_app), and blinker keeps one connection per receiver function however
many apps a process makes.

Every signal is sent with sender None and these keyword arguments:

* `session`: the SQLAlchemy session of the transaction (never committed by a receiver);
* `node`: this node's settings (Node: its role and time zone), from the app's configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from blinker import Namespace


@dataclass(frozen=True)
class Node:
    """The configuration receivers need, built by the sender from the app's configuration."""

    role: str  # "hub" or "field" (PANTAU_ROLE)
    zone: ZoneInfo  # the installation's time zone (TIMEZONE): the day and year an audit counts in

    @classmethod
    def from_config(cls, config: Mapping) -> Node:
        """The settings from a Flask app's config (or any mapping with ROLE and TIMEZONE)."""
        return cls(role=config.get("ROLE"), zone=ZoneInfo(config["TIMEZONE"]))


signals = Namespace()

changes_applied = signals.signal("changes-applied", doc="""A batch received (push, pull, bundle) was merged.

Sent by sync.service after sync.apply.receive, only when the batch applied something, with
`changes`: the list of sync.changes.Change objects applied (new ones and waiting ones unblocked),
besides `session` and `node`.""")

review_decided = signals.signal("review-decided", doc="""A review decision was made on this node.

Sent by sync.reviews.decide after the audit's review state is set, with `audit_ids`: the ids
(uuid.UUID) of the audits decided, besides `session` and `node`.""")
