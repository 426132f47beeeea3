"""Who may do what, and which kecamatan they see: the role sets and the scope rule, in one place.

Pure (no Flask, no database): views pass `current_user`, the sync door passes an account row.
"""

from __future__ import annotations

ROLES = ("auditor", "supervisor", "planner", "admin")

AUDITORS = ("auditor",)  # fill in audits on a field device
REGISTRARS = ("auditor", "supervisor", "admin")  # register facilities
REVIEWERS = ("supervisor", "admin")  # check facilities, review audits, run sync and devices
PLANNERS = ("planner", "supervisor", "admin")  # indicators, maps' exports
INDICATOR_EDITORS = ("planner", "admin")  # enter indicator values and evidence
ADMINS = ("admin",)  # accounts, indicator sets
# Accounts that may be named as an audit's auditor (never an admin or a planner), and that a lower hub may
# hand up (only of kecamatan in its scope).
NAMED_AUDITORS = frozenset({"auditor", "supervisor"})

# An auditor without kecamatan sees nothing, never everything: a code no kecamatan has.
NOWHERE = ("-",)


def kecamatan_scope(user) -> tuple[str, ...]:
    """Kecamatan a user is limited to: an auditor's own (none: NOWHERE); every other role: () meaning all."""
    if user.role != "auditor":
        return ()
    return tuple(user.kecamatan_codes) or NOWHERE


def in_scope(scope: tuple[str, ...], kecamatan_code: str | None) -> bool:
    """Whether a kecamatan lies in a scope (an empty scope is everywhere)."""
    return not scope or kecamatan_code in scope
