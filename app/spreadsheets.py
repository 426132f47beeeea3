"""Cells for CSV and XLSX files that planners open in Excel. Pure.

Facility names, addresses and notes come from field devices. A text starting with = + - @ (or a tab or
carriage return) is taken by Excel or LibreOffice as a formula, which can fetch a link or run a
command ("CSV injection", OWASP); openpyxl even stores such a string as a live formula. Such text
is written as text: prefixed with an apostrophe, which spreadsheet programs show as a plain value.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as a spreadsheet cell that can never be a formula; numbers, dates and None unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
