"""Hybrid logical clocks: timestamps that never go backwards, even when a device's clock does. Pure.

An HLC is `(milliseconds, counter)`, written as a fixed-width string so that string order is time
order: "0001795000000000.0003". A node issues max(its clock, the largest HLC it has seen) and bumps
the counter when that does not move forward (Kulkarni et al., 2014).
"""

from __future__ import annotations

import re
import time

PATTERN = re.compile(r"^\d{16}\.\d{4}$")
MAX_MS = 253_402_300_799_999  # 9999-12-31: a reading beyond it is a corrupt clock, not a time

ZERO = "0000000000000000.0000"


def encode(ms: int, counter: int) -> str:
    """The string form of an HLC."""
    return f"{ms:016d}.{counter:04d}"


def decode(value: str) -> tuple[int, int]:
    """(milliseconds, counter) of an HLC string; ValueError when it is not one."""
    if not isinstance(value, str) or not PATTERN.match(value):
        raise ValueError(f"not an HLC: {value!r}")
    ms, counter = value.split(".")
    return int(ms), int(counter)


def valid(value) -> bool:
    """True for a well-formed HLC string."""
    return isinstance(value, str) and bool(PATTERN.match(value)) and int(value[:16]) <= MAX_MS


def tick(last: str, now_ms: int | None = None) -> str:
    """The next timestamp after `last` at wall-clock time `now_ms`."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    last_ms, counter = decode(last or ZERO)
    if now_ms > last_ms:
        return encode(now_ms, 0)
    if counter >= 9999:  # the counter is 4 digits: carry into the milliseconds instead of overflowing
        return encode(last_ms + 1, 0)
    return encode(last_ms, counter + 1)


def observe(last: str, seen: str) -> str:
    """The clock after seeing a timestamp from another node (never below it)."""
    return max(last or ZERO, seen or ZERO)
