"""What accounts announce and ask of the packages above them (sync connects in `sync.init_app`).

Receivers run inside the caller's transaction; the sender is the session.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

user_changed = _signals.signal("user-changed", doc="An account was created or changed (kwargs: user).")
# A demo account (password "demo") outside demo mode may sign in only where a demo hub sent it: sync knows.
demo_account_received = _signals.signal(
    "demo-account-received", doc="Asked for a demo account (kwargs: user); a receiver answers True when a hub sent it here.")
