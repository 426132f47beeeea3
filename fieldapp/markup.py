"""A checklist's page markup for the offline app, made by the same macros as the desktop checklist page.

The hub renders every section once per language with nothing answered, every item shown and one instance of each
repeat inside a `<template>`; the app (static/app/capture.js) inserts it and shows, hides, fills and copies it with
the JavaScript engine, which passes the same conformance vectors as survey.form.
"""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

from flask import get_template_attribute
from flask_babel import force_locale

from survey.checklist import Checklist
from survey.form import blank_layout

# The page's forms name an audit in their URLs; offline they are never sent, so any id serves.
INDENT = re.compile(r"\n[ \t]*")
NO_AUDIT = SimpleNamespace(id=uuid.UUID(int=0))


class _Everything:
    """Relevance as the blank markup sees it: every entry is there; the app hides what the answers make irrelevant."""

    def __contains__(self, address: object) -> bool:
        return True


def offline_cards() -> dict:
    """What the item macros read (survey.audits.pages.cards), for a blank page the app fills in."""
    return {"audit": NO_AUDIT, "answers": {}, "editable": True, "relevant": _Everything(), "notes": {}, "photos": {},
            "versions": {}, "state": None, "problems": {}, "photo_times": {}, "offline": True}


def render_sections(checklist: Checklist, locale: str) -> str:
    """Every section of a checklist as the offline app shows it, in one language (call inside a request)."""
    with force_locale(locale):
        sections = get_template_attribute("audits/_macros.html", "section_blocks")
        chips = get_template_attribute("audits/_macros.html", "section_chips")
        progress = {section.id: (0, 0) for section in checklist.sections}
        layout = lambda section: blank_layout(checklist, section)  # noqa: E731 (the macro calls it per section)
        html = str(chips(checklist, progress)) + str(sections(checklist, layout, progress, offline_cards()))
    return INDENT.sub("\n", html)  # a tenth of the size is indentation, stored on every tablet
