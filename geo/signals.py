"""What geo announces to the packages above it (survey locates its facilities again; connected in survey.init_app).

Receivers run inside the caller's transaction; the sender is the session.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

boundaries_changed = _signals.signal(
    "boundaries-changed",
    doc="Boundaries of a level were imported (kwargs: level); a receiver may return a geo.service.LocateReport.")
