"""Kemendagri region codes: levels, parents and validation. Pure; no Flask."""

from __future__ import annotations

import re

LEVELS = ("provinsi", "kabkota", "kecamatan", "desa")

# 36 / 36.73 / 36.73.01 / 36.73.01.1001 (Kepmendagri 300.2.2-2138/2025).
_PATTERNS = {
    "provinsi": re.compile(r"^\d{2}$"),
    "kabkota": re.compile(r"^\d{2}\.\d{2}$"),
    "kecamatan": re.compile(r"^\d{2}\.\d{2}\.\d{2}$"),
    "desa": re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$"),
}


def level_of(code: str) -> str | None:
    """The level a code belongs to, or None when it is not a Kemendagri code."""
    for level, pattern in _PATTERNS.items():
        if pattern.match(code or ""):
            return level
    return None


def parent_of(code: str) -> str | None:
    """The code one level up (36.73.01 -> 36.73), or None for a provinsi."""
    return code.rsplit(".", 1)[0] if "." in code else None


def desa_kind(code: str) -> str:
    """A 4th segment starting with 1 is a kelurahan, with 2 a desa."""
    return "kelurahan" if code.rsplit(".", 1)[-1].startswith("1") else "desa"


def kabkota_kind(code: str) -> str:
    """Kemendagri numbers kota from 71 upward, kabupaten below."""
    return "kota" if int(code.split(".")[1]) >= 71 else "kabupaten"
