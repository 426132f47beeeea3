"""What a browser sends, cleaned at the door: characters no text of this app may hold (NUL and the other control
characters but tab, newline and carriage return; DEL and the C1 controls; U+FFFE/U+FFFF) never reach a form, a
service or the database. A browser never sends them from typing; a hostile client or a paste from a word processor
may, and PostgreSQL refuses NUL outright (a generic error page instead of the form), SQLite would store it, and the
sync door refuses such text (sync.schemas), so a hub would hold names its own devices cannot take.

Single-line fields go further (app.forms, `one_line`): no line breaks, tabs or bidirectional overrides.
"""

from __future__ import annotations

import re

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

# The complement of sync.schemas' _TEXT_CHARS: what free text may never hold.
_NEVER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# What a name, a code or any one-line text may not hold beyond that (sync.schemas' _NAME_CHARS).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile("[\t\n\r]+")


def clean(text: str) -> str:
    """The text without the characters no text may hold."""
    return _NEVER.sub("", text)


def one_line(text: str) -> str:
    """A one-line text: line breaks and tabs as one space, bidirectional overrides dropped."""
    return _BREAKS.sub(" ", _BIDI.sub("", clean(text)))


class CleanMultiDict(ImmutableMultiDict):
    """Query and form values as parsed, each text value cleaned (files are left to their own checks)."""

    def __init__(self, mapping=None):
        if isinstance(mapping, MultiDict):
            mapping = list(mapping.items(multi=True))
        elif isinstance(mapping, dict):
            mapping = [(key, value) for key, values in mapping.items()
                       for value in (values if isinstance(values, (list, tuple)) else [values])]
        if mapping is not None:
            mapping = [(key, clean(value) if isinstance(value, str) else value) for key, value in mapping]
        super().__init__(mapping)


class CleanRequest(Request):
    """Flask's request, its query and form values cleaned as they are parsed."""

    parameter_storage_class = CleanMultiDict


def init_app(app: Flask) -> None:
    """Every request of the app parses its values through CleanMultiDict."""
    app.request_class = CleanRequest
