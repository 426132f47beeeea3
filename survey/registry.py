"""Installed checklists: shipped files, files imported into the data folder, versions a hub published, and
stored versions.

A version an audit used is stored in `checklist_version` (canonical YAML) and from then on that
copy is what the audit is shown and scored with, whatever happens to the files. A version published in
the catalog (survey.catalog) is stored the same way and reaches devices by sync; a retired one starts no
new audit, while drafts already started with it keep it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from survey import signals
from survey.audits.models import ChecklistVersion
from survey.catalog.models import ChecklistRelease
from survey.checklist import (Checklist, ChecklistError, dump_checklist_yaml, load_checklist, load_checklist_text,
                              load_directory)

log = logging.getLogger(__name__)
SHIPPED = Path(__file__).resolve().parent / "checklists"
_lock = threading.Lock()
_cache: dict[tuple, dict[str, Checklist]] = {}
_parsed: dict[tuple[str, str], Checklist] = {}  # (key, sha256) of stored versions; they never change


def imported_dir() -> Path:
    """Where `flask checklists import` puts checklists on this installation."""
    return Path(current_app.config["DATA_DIR"]) / "checklists"


def installed(session: Session | None = None) -> dict[str, Checklist]:
    """Every checklist version available here, by key: the files (reloaded when one is added or changed) and the
    versions published in the catalog, here or on the hub this device syncs with. Retired ones included."""
    found = dict(_files())
    for key, checklist in _published(session or db.session).items():
        found.setdefault(key, checklist)  # a file and a published version of one key hold the same text
    return found


def retired(session: Session | None = None) -> set[str]:
    """Keys of the versions retired in the catalog: no new audit starts with them."""
    stmt = select(ChecklistRelease.key).where(ChecklistRelease.state == "retired")
    return set((session or db.session).execute(stmt).scalars())


def newest_for_kind(kind: str, session: Session | None = None) -> list[Checklist]:
    """The newest version of each checklist that applies to a facility kind and is not retired, by id."""
    session = session or db.session
    gone = retired(session)
    newest: dict[str, Checklist] = {}
    for checklist in installed(session).values():
        if checklist.key in gone or not checklist.applies_to(kind):
            continue
        if checklist.version > getattr(newest.get(checklist.id), "version", 0):
            newest[checklist.id] = checklist
    # Kind-specific checklists first, the ones for every facility (KTR) after.
    return sorted(newest.values(), key=lambda c: ("all" in c.facility_kinds, c.id))


def store_version(session: Session, checklist: Checklist) -> ChecklistVersion:
    """Keep the text of a version the first time an audit uses it; later, the stored text wins."""
    stored = session.get(ChecklistVersion, checklist.key)
    if stored is None:
        content = dump_checklist_yaml(checklist)
        stored = ChecklistVersion(key=checklist.key, checklist_id=checklist.id, version=checklist.version,
                                  sha256=hashlib.sha256(content.encode()).hexdigest(), content=content)
        session.add(stored)
        session.flush()
        signals.checklist_stored.send(session, version=stored)
    return stored


def for_audit(session: Session, key: str) -> Checklist:
    """The exact checklist version an audit was filled with (parsed once per process)."""
    sha256 = session.execute(select(ChecklistVersion.sha256).where(ChecklistVersion.key == key)).scalar_one_or_none()
    if sha256 is None:
        raise KeyError(key)
    return _parsed_version(session, key, sha256)


def _parsed_version(session: Session, key: str, sha256: str) -> Checklist:
    """A stored version's text, parsed once per process (a stored text never changes)."""
    with _lock:
        cached = _parsed.get((key, sha256))
    if cached is None:
        content = session.execute(select(ChecklistVersion.content).where(ChecklistVersion.key == key)).scalar_one()
        cached = load_checklist_text(content, origin=f"stored {key}")
        with _lock:
            _parsed[(key, sha256)] = cached
    return cached


def _published(session: Session) -> dict[str, Checklist]:
    """The stored versions whose catalog state is published or retired (received from a hub, or published here)."""
    stmt = (select(ChecklistVersion.key, ChecklistVersion.sha256)
            .join(ChecklistRelease, ChecklistRelease.key == ChecklistVersion.key)
            .where(ChecklistRelease.state.in_(("published", "retired"))).order_by(ChecklistVersion.key))
    return {key: _parsed_version(session, key, sha256) for key, sha256 in session.execute(stmt)}


def _files() -> dict[str, Checklist]:
    """The shipped and imported checklist files, reloaded when a file is added or changed."""
    folders = [SHIPPED, imported_dir()]
    stamp = tuple((str(f), _stamp(f)) for f in folders)
    with _lock:
        if stamp not in _cache:
            _cache.clear()
            _cache[stamp] = _load(folders)
        return _cache[stamp]


def changed_after_use(session: Session) -> list[str]:
    """Keys whose file now differs from the text audits were filled with (a new version was due)."""
    changed = []
    for key, checklist in installed().items():
        stored = session.get(ChecklistVersion, key)
        if stored is not None and stored.sha256 != hashlib.sha256(dump_checklist_yaml(checklist).encode()).hexdigest():
            changed.append(key)
    return changed


def _stamp(folder: Path) -> tuple:
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.yaml")))


def _load(folders: list[Path]) -> dict[str, Checklist]:
    shipped, *others = folders
    found = load_directory(shipped)  # shipped files are tested; a broken one is a bug to fail on
    for folder in others:
        for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
            try:
                checklist = load_checklist(file)
            except ChecklistError as error:
                # One broken imported file must not take the others down; `flask checklists list` shows it.
                log.error("checklist %s not loaded: %s", file, error)
                continue
            if file.name == f"{checklist.id}-v{checklist.version}.yaml":
                found.setdefault(checklist.key, checklist)
    return found
