"""Catalog writes: an uploaded XLSForm becomes a draft version, a draft is published, a published version retired.

Never commits (one transaction per request, app.tx). Every write is in the audit log; publishing and retiring
are announced (survey.signals.checklist_released) so that sync carries the state to every device.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from app import auditlog
from app.db import utcnow
from survey import registry, signals
from survey.catalog import queries
from survey.catalog.models import ChecklistRelease
from survey.checklist import Checklist, dump_checklist_yaml
from survey.problems import SURVEY_PROBLEMS

@dataclasses.dataclass(frozen=True)
class ImportOutcome:
    """What an upload did: the version it made, or the existing version with the same content."""

    key: str
    created: bool
    notes: tuple[dict, ...]


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who writes, for the audit log."""

    user_id: uuid.UUID | None
    username: str | None
    device_id: uuid.UUID | None


def import_form(session: Session, form: Path, attachments: dict[str, bytes], facility_kinds: list[str],
                actor: Actor) -> ImportOutcome:
    """Import a workbook as the next draft version of its checklist; XLSFormError refuses it storing nothing.

    A form whose content equals a version already known (its number and label aside) stores nothing new.
    """
    from survey.xlsform import import_xlsform  # pyxform with it: loaded by an import, not by every process

    # The version number is the catalog's (below); the workbook's `version` text stays the author's label.
    result = import_xlsform(form, version=1, facility_kinds=facility_kinds or None, attachments=attachments)
    notes = import_notes(result)
    read = result.checklist
    known = queries.known_versions(session, read.id)
    for number in sorted(known):
        if same_content(read, known[number]):
            return ImportOutcome(known[number].key, False, notes)
    checklist = dataclasses.replace(read, version=max(known, default=0) + 1)
    content = dump_checklist_yaml(checklist)
    release = ChecklistRelease(key=checklist.key, checklist_id=checklist.id, version=checklist.version,
                               version_label=checklist.version_label, state="draft", content=content,
                               sha256=hashlib.sha256(content.encode()).hexdigest(), notes=list(notes),
                               source_name=form.name[:200], imported_by=actor.username, imported_at=utcnow())
    session.add(release)
    session.flush()
    _log(session, actor, "import", release, {"state": [None, "draft"], "source": [None, form.name]})
    return ImportOutcome(checklist.key, True, notes)


def publish(session: Session, key: str, actor: Actor) -> ChecklistRelease:
    """Publish a draft (or a version installed from a file): stored for audits, and sent to every device."""
    checklist = queries.version_checklist(session, key)
    if checklist is None:
        raise SURVEY_PROBLEMS("catalog.not_found")
    release = session.get(ChecklistRelease, key)
    if release is None:  # a shipped or command-line file: the catalog takes it over as it publishes it
        release = ChecklistRelease(key=key, checklist_id=checklist.id, version=checklist.version,
                                   version_label=checklist.version_label, state="draft", notes=[])
        session.add(release)
    if release.state != "draft":
        raise SURVEY_PROBLEMS("catalog.not_draft")
    release.state, release.published_at = "published", utcnow()
    session.flush()
    registry.store_version(session, checklist)  # audits and sync read the stored text
    signals.checklist_released.send(session, release=release)
    _log(session, actor, "publish", release, {"state": ["draft", "published"]})
    return release


def retire(session: Session, key: str, actor: Actor) -> ChecklistRelease:
    """Retire a published version: no new audit starts with it; drafts already started keep it."""
    release = session.get(ChecklistRelease, key)
    if release is None and queries.version_checklist(session, key) is None:
        raise SURVEY_PROBLEMS("catalog.not_found")
    if release is None or release.state != "published":
        raise SURVEY_PROBLEMS("catalog.not_published")
    release.state, release.retired_at = "retired", utcnow()
    session.flush()
    signals.checklist_released.send(session, release=release)
    _log(session, actor, "retire", release, {"state": ["published", "retired"]})
    return release


def same_content(one: Checklist, other: Checklist) -> bool:
    """Whether two versions ask the same (their number and the author's version label aside, and the workbook's
    file name, which an import writes into its sources: the same form saved as "form (1).xlsx" is the same)."""
    one = dataclasses.replace(one, version=other.version, version_label=other.version_label)
    if (one.source.startswith("XLSForm ") and other.source.startswith("XLSForm ")
            and len(one.sections) == len(other.sections)):
        sections = tuple(dataclasses.replace(mine, source=theirs.source) if mine.source == one.source else mine
                         for mine, theirs in zip(one.sections, other.sections))
        one = dataclasses.replace(one, source=other.source, source_note=other.source_note, sections=sections)
    return one == other


def import_notes(result) -> tuple[dict, ...]:
    """The importer's warnings as {sheet, rows, english, indonesian}: the report lists the rows in their own column."""
    return tuple({"sheet": note.sheet, "rows": list(note.rows), "english": _unprefixed(note.message, note.sheet),
                  "indonesian": _unprefixed(note.message_id, note.sheet)} for note in result.notes)


def _unprefixed(text: str, sheet: str | None) -> str:
    """A note's text without the "sheet: " it starts with (the report shows the sheet in its own column)."""
    return text.removeprefix(f"{sheet}: ") if sheet else text


def _log(session: Session, actor: Actor, action: str, release: ChecklistRelease, changes: dict) -> None:
    auditlog.record(session, action=action, entity="checklist", entity_id=release.key, changes=changes,
                    user_id=actor.user_id, device_id=actor.device_id)
