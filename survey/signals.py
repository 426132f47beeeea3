"""What survey announces when it changes a record that travels between nodes (sync logs it as a change).

Receivers run at once, inside the caller's transaction (blinker calls them in `send`), so the record and
whatever receivers write commit together or not at all, and an error in a receiver rolls the write back.
The sender is the session; sync connects its receivers in `sync.init_app`.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

audit_submitted = _signals.signal("audit-submitted", doc="An audit was submitted (kwargs: audit); it never changes again.")
facility_changed = _signals.signal(
    "facility-changed", doc="Synced fields of a facility changed (kwargs: facility, fields: their names).")
checklist_stored = _signals.signal(
    "checklist-stored", doc="A checklist version was stored for audits to use (kwargs: version: ChecklistVersion).")
checklist_released = _signals.signal(
    "checklist-released", doc="A catalog version was published or retired (kwargs: release: ChecklistRelease).")
