"""Cells for CSV, XLSX, GeoJSON and GeoPackage files that planners open in Excel or QGIS. Pure.

Facility names, addresses, notes and answers come from field devices, so a file must be written
whatever they hold:

- A text starting with = + - @ (or a tab or carriage return) is taken by Excel or LibreOffice as a
  formula, which can fetch a link or run a command ("CSV injection", OWASP); openpyxl even stores
  such a string as a live formula. Such text is written as text: prefixed with an apostrophe, which
  spreadsheet programs show as a plain value.
- XLSX cannot hold C0 control characters other than tab, newline and carriage return (openpyxl raises
  IllegalCharacterError); they are removed from every format so the files agree.
- A lone surrogate cannot be encoded as UTF-8; it becomes U+FFFD.
- NaN and Infinity are not numbers a spreadsheet or JSON knows; they become an empty cell.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The same set as openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE, plus DEL's neighbours left alone.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text any file format can hold: no forbidden control characters, no lone surrogates."""
    return LONE_SURROGATE.sub("\ufffd", ILLEGAL_CHARACTERS.sub("", text))


def clean_value(value):
    """A value every export format can write: clean text, finite numbers (else None), the rest unchanged."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    return value


def safe_cell(value):
    """The value as a spreadsheet cell that can never be a formula nor break the file; None stays None."""
    value = clean_value(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
