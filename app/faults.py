"""Fault injection for the kill tests: `PANTAU_FAULT_POINT=N` kills this process at the Nth point.

Off (a no-op) unless the variable is set; the tests use it to prove that a process killed anywhere
in an import loses nothing and duplicates nothing (tests/test_sync_faults.py).
"""

from __future__ import annotations

import os
import signal

_target = int(os.environ.get("PANTAU_FAULT_POINT", "0") or 0)
_count = 0


def point(name: str) -> None:
    """A place where the process may be killed; counts only when fault injection is on."""
    global _count
    if not _target:
        return
    _count += 1
    if _count == _target:
        with open(os.environ.get("PANTAU_FAULT_LOG", os.devnull), "a") as log:
            log.write(f"{_target} {name}\n")
        os.kill(os.getpid(), signal.SIGKILL)
