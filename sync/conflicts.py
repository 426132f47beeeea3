"""Resolving sync conflicts on a hub: a note, a facility value, or the other version of an audit. Never commits.

A resolution never rewrites what arrived. A facility value chosen by a supervisor is a new edit on
top of the concurrent ones; the other version of an audit becomes a new revision of the kept one
(submitted audits are immutable, rule 2 of docs/sync.md), so it syncs, is reviewed and counts like
any correction, and both versions stay in the history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import auditlog
from app.auth.models import User
from app.db import utcnow
from app.node import Device
from survey import registry
from survey.audits.models import Answer, AnswerPhoto, Audit, ChecklistVersion, GpsReading
from survey.checklist import Checklist, Item
from survey.facilities.models import Facility
from survey.facilities.service import FacilityInput, update_facility
from survey.form import item_of
from survey.photos import PhotoStore
from survey.problems import SURVEY_PROBLEMS
from sync import documents, publish, wire
from sync.models import SyncConflict
from sync.problems import SYNC_PROBLEMS


@dataclass(frozen=True)
class Resolver:
    """The supervisor resolving, on this hub."""

    username: str
    user_id: uuid.UUID | None
    device_id: uuid.UUID | None


@dataclass(frozen=True)
class AnswerDifference:
    """One checklist item answered differently in the two versions of an audit."""

    item_id: str
    kept: object
    other: object


def find(session: Session, conflict_id: str) -> SyncConflict:
    """The conflict, or NotFound."""
    try:
        conflict = session.get(SyncConflict, uuid.UUID(conflict_id))
    except ValueError:
        conflict = None
    if conflict is None:
        raise SYNC_PROBLEMS("conflict.not_found")
    return conflict


def resolve_with_note(session: Session, conflict: SyncConflict, resolver: Resolver, note: str) -> None:
    """Close a conflict as it stands: the kept version stays, the note says why."""
    _close(session, conflict, resolver, note.strip()[:300] or "-")


def keep_facility_value(session: Session, conflict: SyncConflict, index: int, resolver: Resolver, note: str) -> None:
    """The chosen value of a concurrently edited field becomes a new edit on top of all of them."""
    if conflict.kind != "facility":
        raise SYNC_PROBLEMS("conflict.bad_choice")
    facility = session.get(Facility, uuid.UUID(conflict.entity_id))
    versions = conflict.detail.get("versions", [])
    if facility is None or not 0 <= index < len(versions) or "field" not in conflict.detail:
        raise SYNC_PROBLEMS("conflict.bad_choice")
    values = {f: getattr(facility, f) for f in documents.FACILITY_FIELDS if f in FacilityInput.__dataclass_fields__}
    values[conflict.detail["field"]] = versions[index]["value"]
    update_facility(session, facility, FacilityInput(**values), user_id=resolver.user_id, device_id=resolver.device_id)
    _close(session, conflict, resolver, note.strip()[:300] or f"kept: {versions[index]['value']}")


@dataclass(frozen=True)
class AuditComparison:
    """The kept audit as stored here and the other version as it arrived, for the conflict screen."""

    kept: dict
    other: dict
    kept_at: datetime | None
    other_at: datetime | None
    kept_from: str
    other_from: str
    facility: str
    checklist: Checklist
    differences: list[AnswerDifference]
    items: dict[str, Item]


def compare_audit(session: Session, conflict: SyncConflict) -> AuditComparison | None:
    """Both versions of a conflicting audit and what differs; None when the kept audit is gone."""
    audit = session.get(Audit, uuid.UUID(conflict.entity_id))
    if audit is None:
        return None
    kept, other = documents.audit_document(session, audit), conflict.detail.get("other_document") or {}
    checklist = registry.for_audit(session, audit.checklist_key)
    differences = answer_differences(kept, other)
    items = {}
    for difference in differences:
        try:
            items[difference.item_id] = checklist.item(item_of(difference.item_id))  # an address: rep[2]/item
        except KeyError:
            pass  # an item the checklist does not have (a bad or altered device): shown by its id
    facility = session.get(Facility, audit.facility_id)
    return AuditComparison(kept, other, wire.parse_time(kept.get("submitted_at")),
                           wire.parse_time(other.get("submitted_at")),
                           _device_name(session, conflict.detail.get("kept")), _device_name(session, conflict.detail.get("other")),
                           facility.name if facility else "", checklist, differences, items)


def answer_differences(kept: dict, other: dict) -> list[AnswerDifference]:
    """Items whose answer, note or photos differ between two audit documents, in item order. Pure."""
    items = sorted(set(kept.get("answers") or {}) | set(other.get("answers") or {})
                   | set(kept.get("photos") or {}) | set(other.get("photos") or {}))
    out = []
    for item_id in items:
        mine, theirs = _answer(kept, item_id), _answer(other, item_id)
        if mine != theirs:
            out.append(AnswerDifference(item_id, mine, theirs))
    return out


def keep_other_audit(session: Session, conflict: SyncConflict, store: PhotoStore, resolver: Resolver,
                     note: str = "") -> Audit:
    """The other version becomes a new submitted revision of the kept audit, waiting for review."""
    if conflict.kind != "audit":
        raise SYNC_PROBLEMS("conflict.bad_choice")
    if conflict.resolved_at is not None:
        raise SYNC_PROBLEMS("conflict.resolved")
    kept = session.get(Audit, uuid.UUID(conflict.entity_id))
    other = conflict.detail.get("other_document") or {}
    if kept is None or not other:
        raise SURVEY_PROBLEMS("audit.not_found")
    _check_revisable(session, kept, other, store)
    revision = _revision_from(session, kept, other, resolver)
    publish.audit_submitted(session, revision)
    auditlog.record(session, action="keep_other_version", entity="audit", entity_id=revision.id,
                    user_id=resolver.user_id, device_id=resolver.device_id,
                    changes={"revision_of": [None, str(kept.id)], "from_change": [None, conflict.detail.get("other")]})
    _close(session, conflict, resolver, note.strip()[:300] or f"kept the other version as revision {revision.revision}")
    return revision


def _check_revisable(session: Session, kept: Audit, other: dict, store: PhotoStore) -> None:
    """Refuse, changing nothing, what would make a revision that is not whole or not the newest."""
    later = session.execute(select(Audit.id).where(Audit.revision_of == kept.id)).first()
    if later is not None:
        raise SYNC_PROBLEMS("conflict.already_revised")
    if session.get(ChecklistVersion, other.get("checklist_key") or "") is None:
        raise SYNC_PROBLEMS("sync.unknown_checklist/other_version")
    if _user_id(session, other.get("auditor")) is None:
        raise SYNC_PROBLEMS("conflict.unknown_auditor")
    missing = sorted({sha for shas in (other.get("photos") or {}).values() for sha in shas if not store.exists(sha)})
    if missing:
        raise SYNC_PROBLEMS("sync.photo_missing/other_version", sha=missing[0][:12])


def _revision_from(session: Session, kept: Audit, other: dict, resolver: Resolver) -> Audit:
    """A submitted audit with the other version's answers, photos and readings, correcting the kept one."""
    values = wire.audit_values(other, _user_id(session, other["auditor"]))
    del values["id"]  # a new audit: the revision of the kept one, made by the resolving device
    submitted_at = values["submitted_at"] or utcnow()
    values.update(facility_id=kept.facility_id, status="submitted", revision=kept.revision + 1, revision_of=kept.id,
                  device_id=resolver.device_id, started_at=values["started_at"] or submitted_at,
                  submitted_at=submitted_at)
    revision = Audit(**values)
    session.add(revision)
    session.flush()
    for item_id, answer in (other.get("answers") or {}).items():
        session.add(Answer(audit_id=revision.id, item_id=item_id, **wire.answer_values(answer)))
    for item_id, shas in (other.get("photos") or {}).items():
        for sha in shas:
            session.add(AnswerPhoto(audit_id=revision.id, item_id=item_id, sha256=sha))
    for reading in other.get("readings") or []:
        # New reading ids: the kept version may carry the same readings under the same ids.
        values = {name: value for name, value in wire.reading_values(reading).items() if name != "id"}
        session.add(GpsReading(audit_id=revision.id, **values))
    session.flush()
    return revision


def _device_name(session: Session, change_key: str | None) -> str:
    """The name of the device a change came from ("origin:seq"), or its id when unknown here."""
    origin = (change_key or "").split(":")[0]
    try:
        device = session.get(Device, uuid.UUID(origin))
    except ValueError:
        device = None
    return device.name if device else origin[:8]


def _answer(doc: dict, item_id: str) -> tuple:
    answer = (doc.get("answers") or {}).get(item_id) or {}
    return answer.get("value"), answer.get("note"), tuple(sorted((doc.get("photos") or {}).get(item_id) or ()))


def _user_id(session: Session, username: str | None) -> uuid.UUID | None:
    if not username:
        return None
    return session.execute(select(User.id).where(User.username == username)).scalar_one_or_none()


def _close(session: Session, conflict: SyncConflict, resolver: Resolver, resolution: str) -> None:
    if conflict.resolved_at is not None:
        raise SYNC_PROBLEMS("conflict.resolved")
    conflict.resolved_at, conflict.resolved_by, conflict.resolution = utcnow(), resolver.username, resolution
    auditlog.record(session, action="resolve", entity="sync_conflict", entity_id=conflict.id,
                    user_id=resolver.user_id, device_id=resolver.device_id,
                    changes={"resolution": [None, resolution]})
