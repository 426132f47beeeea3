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
MAX_COUNTER = 9999  # four digits
# How far ahead of a receiver's wall clock a timestamp may be: a tablet whose date is a day wrong still
# syncs, one set to next year is refused (sync.clock_ahead) and cannot drag every clock along with it.
MAX_SKEW_MS = 24 * 3600 * 1000

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


def wall_ms() -> int:
    """This machine's clock in milliseconds."""
    return int(time.time() * 1000)


def ceiling(now_ms: int) -> str:
    """The largest timestamp a node accepts or issues at wall-clock time `now_ms`."""
    return encode(min(max(now_ms, 0) + MAX_SKEW_MS, MAX_MS), MAX_COUNTER)


def ahead(value: str, now_ms: int | None = None) -> bool:
    """True when a timestamp is more than MAX_SKEW_MS ahead of the wall clock (or not a timestamp)."""
    return not valid(value) or value > ceiling(wall_ms() if now_ms is None else now_ms)


def tick(last: str, now_ms: int | None = None) -> str:
    """The next timestamp after `last` at wall-clock time `now_ms`; always one every peer can parse.

    A stored clock beyond now + MAX_SKEW_MS (written before receivers refused such timestamps) is
    pulled back to that bound: otherwise every change this node made would be refused by its peers.
    """
    now_ms = wall_ms() if now_ms is None else now_ms
    now_ms = min(max(now_ms, 0), MAX_MS)
    last = min(last or ZERO, ceiling(now_ms))
    last_ms, counter = decode(last)
    if now_ms > last_ms:
        return encode(now_ms, 0)
    if counter < MAX_COUNTER:
        return encode(last_ms, counter + 1)
    if last_ms < MAX_MS:  # the counter is 4 digits: carry into the milliseconds instead of overflowing
        return encode(last_ms + 1, 0)
    raise ValueError("the clock is at its last timestamp")


def observe(last: str, seen: str, now_ms: int | None = None) -> str:
    """The clock after seeing a timestamp from another node: never below it, never beyond now + MAX_SKEW_MS."""
    bound = ceiling(wall_ms() if now_ms is None else now_ms)
    return min(max(last or ZERO, seen or ZERO), bound)
