"""What the catalog pages read: every checklist with its versions, their state and use."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import registry
from survey.audits.models import Audit, ChecklistVersion
from survey.catalog.models import ChecklistRelease
from survey.checklist import Checklist, Text, load_checklist_text

FILE_STATE = "file"  # a version installed from a file (shipped, or `flask checklists import`), not yet published


@dataclass
class VersionRow:
    """One version as the catalog lists it."""

    key: str
    version: int
    label: str | None
    state: str  # draft, published, retired, or file
    audits: int
    title: Text
    release: ChecklistRelease | None = None


@dataclass
class ChecklistRow:
    """One checklist id and its versions, newest first."""

    id: str
    title: Text
    versions: list[VersionRow] = field(default_factory=list)


def release(session: Session, key: str) -> ChecklistRelease | None:
    return session.get(ChecklistRelease, key)


def releases_of(session: Session, checklist_id: str) -> list[ChecklistRelease]:
    stmt = select(ChecklistRelease).where(ChecklistRelease.checklist_id == checklist_id)
    return list(session.execute(stmt).scalars())


def audit_counts(session: Session) -> dict[str, int]:
    """How many audits (drafts and submitted, every revision) use each version."""
    stmt = select(Audit.checklist_key, func.count()).group_by(Audit.checklist_key)
    return dict(session.execute(stmt).all())


def version_checklist(session: Session, key: str) -> Checklist | None:
    """The checklist of a catalog version: a draft's text, a stored version, or an installed file."""
    row = session.get(ChecklistRelease, key)
    if row is not None and row.content:
        return load_checklist_text(row.content, origin=f"draft {key}")
    if session.get(ChecklistVersion, key) is not None:
        return registry.for_audit(session, key)
    return registry.installed(session).get(key)


def known_versions(session: Session, checklist_id: str) -> dict[int, Checklist]:
    """Every version of a checklist id known here, by number: files, stored versions and catalog drafts."""
    found = {c.version: c for c in registry.installed(session).values() if c.id == checklist_id}
    stored = select(ChecklistVersion.key, ChecklistVersion.version).where(ChecklistVersion.checklist_id == checklist_id)
    for key, number in session.execute(stored):
        found.setdefault(number, registry.for_audit(session, key))
    for row in releases_of(session, checklist_id):
        if row.version not in found and row.content:
            found[row.version] = load_checklist_text(row.content, origin=f"draft {row.key}")
    return found


def catalog(session: Session) -> list[ChecklistRow]:
    """Every checklist id with each version's number, label, state and audit count, ids in order."""
    releases = {r.key: r for r in session.execute(select(ChecklistRelease)).scalars()}
    counts = audit_counts(session)
    versions: dict[str, Checklist | None] = dict(registry.installed(session))
    for key in releases:
        if key not in versions:
            versions[key] = version_checklist(session, key)
    rows: dict[str, ChecklistRow] = {}
    for key, checklist in sorted(versions.items(), key=lambda kv: _order(kv[0])):
        if checklist is None:
            continue
        found = releases.get(key)
        state = found.state if found else FILE_STATE
        label = found.version_label if found and found.version_label else checklist.version_label
        row = rows.setdefault(checklist.id, ChecklistRow(checklist.id, checklist.title))
        row.title = checklist.title  # the newest version's title names the checklist
        row.versions.append(VersionRow(key, checklist.version, label, state, counts.get(key, 0),
                                       checklist.title, found))
    for row in rows.values():
        row.versions.reverse()
    return [rows[k] for k in sorted(rows)]


def _order(key: str) -> tuple[str, int]:
    checklist_id, _, number = key.partition("@")
    return checklist_id, int(number)

