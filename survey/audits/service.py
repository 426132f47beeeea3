"""Writing audits: start, answer, note, photo, position, submit, revise. Never commits.

Every write is checked against the audit's state (only drafts change) and recorded in the audit
log. Answers are stored as given, even when invalid, so nothing typed is lost; the review screen
lists what must be fixed before submitting.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import auditlog
from app.db import utcnow
from geo.coordinates import check_position
from geo.geofence import CONFIRM, REFUSE, Limits, decide, placement, position_warnings
from geo.models import Wilayah
from survey import registry, signals
from survey.audits.models import Answer, AnswerPhoto, Audit, GpsReading, Photo
from survey.audits.queries import answer_sheet, drafts_of, last_saved, open_revision_of
from survey.checklist import ADDRESS, MAX_INSTANCES, Checklist, Item, coerce_answer
from survey.facilities.models import Facility
from survey.form import FormState, compute, split_address
from survey.problems import SURVEY_PROBLEMS
from survey.scoring import ScoreResult, score_audit


@dataclass(frozen=True)
class Actor:
    """Who is writing, from which device."""

    user_id: uuid.UUID
    device_id: uuid.UUID | None


def start_audits(session: Session, facility: Facility, checklists: list[Checklist], actor: Actor) -> list[Audit]:
    """One draft audit per chosen checklist, each pinned to the version it starts with."""
    if not checklists:
        raise SURVEY_PROBLEMS("audit.no_checklist")
    # A draft of the same checklist already open here is resumed, not doubled (a second tab, a
    # double tap on Start).
    open_drafts = {a.checklist_id: a for a in drafts_of(session, actor.user_id) if a.facility_id == facility.id}
    audits = []
    for checklist in checklists:
        if not checklist.applies_to(facility.kind):
            raise SURVEY_PROBLEMS("audit.checklist_not_for_kind")
        if checklist.id in open_drafts:
            audits.append(open_drafts[checklist.id])
            continue
        registry.store_version(session, checklist)
        audit = Audit(facility_id=facility.id, checklist_key=checklist.key, auditor_id=actor.user_id,
                      device_id=actor.device_id)
        session.add(audit)
        session.flush()
        _log(session, actor, "start", audit, {"facility": [None, str(facility.id)], "checklist": [None, checklist.key]})
        keep_once(session, audit, form_state(session, audit, checklist))
        audits.append(audit)
    return audits


@dataclass(frozen=True)
class SaveOutcome:
    """What an answer did: its problem if any, the form's state before and after."""

    value: object
    problem: str | None
    before: FormState
    state: FormState
    version: int = 0

    @property
    def answers(self) -> dict[str, object]:
        return dict(self.state.answers)


def form_state(session: Session, audit: Audit, checklist: Checklist, today: dt.date | None = None,
               locale: str = "id", sheet=None) -> FormState:
    """The audit's form state from its stored answers (`sheet`, read when not given): in a draft, defaults
    apply to what was never saved; a submitted audit holds what was stored with it."""
    sheet = sheet or answer_sheet(session, audit.id)
    return compute(checklist, sheet.answers, today=today or dt.date.today(), now=dt.datetime.now(dt.timezone.utc),
                   locale=locale, touched=set(sheet.touched) if audit.is_draft else None,
                   last_saved=last_saved(session, audit) if checklist.uses_last_saved else None)


def save_answer(session: Session, audit: Audit, checklist: Checklist, address: str, raw, actor: Actor,
                today: dt.date | None = None, base_version: int | None = None) -> SaveOutcome:
    """Store one answer as given and report its problem and the form state it changed.

    `base_version` is the version of the answer the page showed when the auditor changed it; a save
    based on an older version than the stored one is refused (StaleAnswer), unless it brings the
    value already stored: a resend whose first reply was lost is acknowledged, not refused.
    Without `base_version` (scripts, old pages) the save is taken as it comes.
    """
    before = form_state(session, audit, checklist, today)
    item = _editable_item(audit, checklist, address, actor, before)
    if item.type in ("photo", "file"):
        raise SURVEY_PROBLEMS("audit.photo_by_upload")
    value = _coerce(item, raw)
    row = session.get(Answer, (audit.id, address))
    old = row.value if row else None
    current = row.version if row else 0
    if base_version is not None and base_version != current and old != value:
        raise SURVEY_PROBLEMS("answer.stale")
    if row is None:
        row = Answer(audit_id=audit.id, item_id=address, version=0)
        session.add(row)
    row.value = value
    audit.updated_at = utcnow()
    if old != value:
        row.version = current + 1
        _log(session, actor, "answer", audit, {address: [old, value]})
    answers = dict(before.answers)
    if value is None:
        answers.pop(address, None)
    else:
        answers[address] = value
    state = compute(checklist, answers, today=today or dt.date.today(), now=dt.datetime.now(dt.timezone.utc),
                    touched=(before.touched or frozenset()) | {address},
                    last_saved=last_saved(session, audit) if checklist.uses_last_saved else None)
    keep_once(session, audit, state)
    return SaveOutcome(value, state.problems.get(address), before, state, row.version)


def keep_once(session: Session, audit: Audit, state: FormState) -> None:
    """Store the first value of each once() calculation (once(uuid()), once(now())), so it never changes again,
    as ODK fixes it when the form or the repeat entry is created."""
    for address, item, _ in state.nodes:
        calculation = item.calculation
        if calculation is None or "once(" not in calculation.text or address in state.answers:
            continue
        value = state.values.get(address)
        if value not in (None, "") and session.get(Answer, (audit.id, address)) is None:
            session.add(Answer(audit_id=audit.id, item_id=address, value=value, version=1))


def add_instance(session: Session, audit: Audit, checklist: Checklist, address: str, actor: Actor) -> int:
    """One more instance of a repeat the auditor fills as often as needed; returns its number."""
    state = form_state(session, audit, checklist)
    repeat = _editable_repeat(audit, checklist, address, actor, state)
    count = state.counts.get(address, 0)
    if state.totals.get(repeat, 0) >= MAX_INSTANCES:  # in all its enclosing instances (survey.form)
        raise SURVEY_PROBLEMS("audit.too_many_instances", n=MAX_INSTANCES)
    row = session.get(Answer, (audit.id, address))
    if row is None:
        row = Answer(audit_id=audit.id, item_id=address, version=0)
        session.add(row)
    row.value, row.version = count + 1, row.version + 1
    audit.updated_at = utcnow()
    _log(session, actor, "instance_added", audit, {address: [count, count + 1], "repeat": [None, repeat]})
    session.flush()
    keep_once(session, audit, form_state(session, audit, checklist))
    return count + 1


def remove_instance(session: Session, audit: Audit, checklist: Checklist, address: str, number: int,
                    actor: Actor) -> None:
    """Remove one instance of a repeat with its answers and photos; later instances move up by one, as in ODK."""
    state = form_state(session, audit, checklist)
    _editable_repeat(audit, checklist, address, actor, state)
    count = state.counts.get(address, 0)
    if not 1 <= number <= count:
        raise SURVEY_PROBLEMS("audit.no_such_instance")
    gone = f"{address}[{number}]/"
    removed = {row.item_id: row.value for row in session.execute(
        select(Answer).where(Answer.audit_id == audit.id, Answer.item_id.startswith(gone, autoescape=True))).scalars()}
    session.execute(delete(Answer).where(Answer.audit_id == audit.id, Answer.item_id.startswith(gone, autoescape=True)))
    session.execute(delete(AnswerPhoto).where(AnswerPhoto.audit_id == audit.id,
                                              AnswerPhoto.item_id.startswith(gone, autoescape=True)))
    for later in range(number + 1, count + 1):
        _move_instance(session, audit, f"{address}[{later}]/", f"{address}[{later - 1}]/")
    row = session.get(Answer, (audit.id, address))
    row.value, row.version = count - 1, row.version + 1
    audit.updated_at = utcnow()
    _log(session, actor, "instance_removed", audit, {address: [count, count - 1], "removed": [removed, None]})
    session.flush()


def _move_instance(session: Session, audit: Audit, old: str, new: str) -> None:
    """Renumber one instance's answers and photos (their addresses start with `old`)."""
    for model in (Answer, AnswerPhoto):
        rows = session.execute(select(model).where(model.audit_id == audit.id,
                                                   model.item_id.startswith(old, autoescape=True))).scalars().all()
        for row in rows:
            row.item_id = new + row.item_id[len(old):]
    session.flush()


def save_note(session: Session, audit: Audit, checklist: Checklist, item_id: str, note: str, actor: Actor) -> None:
    """Store the auditor's note on an item (at its address)."""
    _editable_item(audit, checklist, item_id, actor, form_state(session, audit, checklist), notes=True)
    note = (note or "").strip()
    if len(note) > 2000:
        raise SURVEY_PROBLEMS("audit.note_too_long")
    row = session.get(Answer, (audit.id, item_id))
    if row is None:
        row = Answer(audit_id=audit.id, item_id=item_id, version=0)
        session.add(row)
    if (row.note or "") != note:
        _log(session, actor, "note", audit, {item_id: [row.note, note or None]})
    row.note = note or None
    audit.updated_at = utcnow()


def attach_photo(session: Session, audit: Audit, checklist: Checklist, item_id: str, info, actor: Actor,
                 camera_zone: dt.tzinfo) -> None:
    """Attach a stored photo (PhotoInfo) to an item; the same photo twice is one attachment.

    Cameras often write EXIF time without an offset: it is then read in `camera_zone` (the
    installation's time zone, WIB by default), the zone the tablet's clock was set to.
    """
    item = _editable_item(audit, checklist, item_id, actor, form_state(session, audit, checklist), notes=True)
    if item.type not in ("photo", "file", "note") and not item.is_answerable:
        raise SURVEY_PROBLEMS("audit.not_answerable")
    if session.get(Photo, info.sha256) is None:
        session.add(Photo(sha256=info.sha256, mime=info.mime, size_bytes=info.size_bytes, width=info.width,
                          height=info.height, taken_at=info.taken_at_aware(camera_zone), gps_lat=info.gps_lat,
                          gps_lon=info.gps_lon))
    if session.get(AnswerPhoto, (audit.id, item_id, info.sha256)) is None:
        session.add(AnswerPhoto(audit_id=audit.id, item_id=item_id, sha256=info.sha256))
        _log(session, actor, "photo", audit, {item_id: [None, info.sha256]})
    audit.updated_at = utcnow()
    session.flush()


def detach_photo(session: Session, audit: Audit, checklist: Checklist, item_id: str, sha256: str, actor: Actor) -> None:
    """Remove a photo from an item (the file stays: another audit may hold it)."""
    _check_draft(audit, actor)
    removed = session.execute(delete(AnswerPhoto).where(
        AnswerPhoto.audit_id == audit.id, AnswerPhoto.item_id == item_id, AnswerPhoto.sha256 == sha256)).rowcount
    if removed:
        _log(session, actor, "photo_removed", audit, {item_id: [sha256, None]})
        audit.updated_at = utcnow()


def record_position(session: Session, audit: Audit, *, lat: float, lon: float, accuracy_m: float | None,
                    source: str, taken_at: dt.datetime | None, limits: Limits, actor: Actor,
                    confirmed_outside: bool = False) -> GpsReading:
    """Keep a reading and make it the audit's position, with its warnings.

    Refused beyond `limits.far_m` from the kecamatan (geo.geofence.decide); a hand-set position outside
    the kecamatan needs `confirmed_outside` (gps.confirm_outside names how far outside it is).
    """
    _check_draft(audit, actor)
    _check_coordinates(lat, lon, accuracy_m)
    if source not in ("gps", "manual", "map"):
        raise SURVEY_PROBLEMS("gps.bad_source")
    facility = audit.facility
    kecamatan = session.get(Wilayah, facility.kecamatan_code)
    boundary = kecamatan.boundary if kecamatan else None
    where = placement(lat, lon, facility_lat=facility.lat, facility_lon=facility.lon, kecamatan_boundary=boundary)
    verdict = decide(where, source, limits)
    name = kecamatan.name if kecamatan else facility.kecamatan_code
    if verdict == REFUSE:
        raise SURVEY_PROBLEMS("gps.far_outside", field="lat", km=round(where.far_m / 1000), name=name)
    if verdict == CONFIRM and not confirmed_outside:
        raise SURVEY_PROBLEMS("gps.confirm_outside", field="lat", km=f"{where.outside_by_m / 1000:.1f}", name=name,
                              outside_m=where.outside_by_m)
    warnings = position_warnings(lat, lon, accuracy_m, source, facility_lat=facility.lat, facility_lon=facility.lon,
                                 kecamatan_boundary=boundary, limits=limits)
    now = utcnow()
    # A browser clock can be wrong or a reading stale; a time in the future is the server's now.
    taken = min(taken_at, now) if taken_at else now
    reading = GpsReading(audit_id=audit.id, lat=lat, lon=lon, accuracy_m=accuracy_m, source=source,
                         taken_at=taken, warnings=warnings)
    session.add(reading)
    audit.lat, audit.lon, audit.accuracy_m = lat, lon, accuracy_m
    audit.position_source, audit.position_at, audit.position_warnings = source, taken, warnings
    _log(session, actor, "position", audit, {"position": [None, [lat, lon, accuracy_m, source]]})
    session.flush()
    return reading


def review(session: Session, audit: Audit, checklist: Checklist, today: dt.date | None = None) -> ScoreResult:
    """Score and what stands in the way of submitting."""
    return score_audit(checklist, {}, state=form_state(session, audit, checklist, today))


def submit(session: Session, audit: Audit, checklist: Checklist, actor: Actor) -> ScoreResult:
    """Freeze the audit with its score and result, once nothing required is missing or invalid."""
    _check_draft(audit, actor)
    state = form_state(session, audit, checklist)
    result = score_audit(checklist, {}, state=state)
    if result.missing_required or result.invalid:
        raise SURVEY_PROBLEMS("audit.incomplete", n=len(result.missing_required) + len(result.invalid))
    if audit.lat is None:
        raise SURVEY_PROBLEMS("audit.no_position")
    _keep_computed(session, audit, state)
    audit.status = "submitted"
    audit.submitted_at = utcnow()
    audit.score = result.score
    audit.result = result.result
    _log(session, actor, "submit", audit, {"status": ["draft", "submitted"], "score": [None, result.score],
                                           "result": [None, result.result]})
    session.flush()
    signals.audit_submitted.send(session, audit=audit)
    return result


def _keep_computed(session: Session, audit: Audit, state: FormState) -> None:
    """Store what the form computed (calculations, defaults never changed) so the submitted audit carries it,
    as ODK writes them into the submission; a calculation that is blank or not relevant is stored as blank."""
    for address, item, _ in state.nodes:
        if item.calculation is None and address not in state.defaults and item.type != "hidden":
            continue
        value = state.values.get(address) if address in state.relevant else None
        row = session.get(Answer, (audit.id, address))
        if row is None and value in (None, ""):
            continue
        if row is None:
            row = Answer(audit_id=audit.id, item_id=address, version=0)
            session.add(row)
        if row.value != value:
            row.value, row.version = value if value != "" else None, row.version + 1
    session.flush()


def revise(session: Session, audit: Audit, actor: Actor) -> Audit:
    """A correction of a submitted audit: a new draft naming the one it replaces, with its answers."""
    if audit.status == "draft":
        raise SURVEY_PROBLEMS("audit.not_submitted")
    if audit.auditor_id != actor.user_id:
        raise SURVEY_PROBLEMS("audit.not_yours/correct")
    if open_revision_of(session, audit.id) is not None:
        raise SURVEY_PROBLEMS("audit.revision_open")
    revision = Audit(facility_id=audit.facility_id, checklist_key=audit.checklist_key, revision=audit.revision + 1,
                     revision_of=audit.id, auditor_id=actor.user_id, device_id=actor.device_id, lat=audit.lat,
                     lon=audit.lon, accuracy_m=audit.accuracy_m, position_source=audit.position_source,
                     position_at=audit.position_at, position_warnings=list(audit.position_warnings or []))
    session.add(revision)
    session.flush()
    for answer in session.execute(select(Answer).where(Answer.audit_id == audit.id)).scalars():
        session.add(Answer(audit_id=revision.id, item_id=answer.item_id, value=answer.value, note=answer.note,
                           version=answer.version))
    for link in session.execute(select(AnswerPhoto).where(AnswerPhoto.audit_id == audit.id)).scalars():
        session.add(AnswerPhoto(audit_id=revision.id, item_id=link.item_id, sha256=link.sha256))
    for reading in session.execute(select(GpsReading).where(GpsReading.audit_id == audit.id)).scalars():
        session.add(GpsReading(audit_id=revision.id, lat=reading.lat, lon=reading.lon, accuracy_m=reading.accuracy_m,
                               source=reading.source, taken_at=reading.taken_at, warnings=reading.warnings))
    _log(session, actor, "revise", revision, {"revision_of": [None, str(audit.id)]})
    session.flush()
    return revision


def discard_draft(session: Session, audit: Audit, actor: Actor) -> None:
    """Delete a draft the auditor does not want (started by mistake); logged."""
    _check_draft(audit, actor)
    _log(session, actor, "discard", audit, {"status": ["draft", None]})
    session.delete(audit)


def _editable_item(audit: Audit, checklist: Checklist, address: str, actor: Actor, state: FormState,
                   notes: bool = False) -> Item:
    """The item at an address of this audit's form, which the auditor may answer (or note, with `notes`)."""
    _check_draft(audit, actor)
    item = item_at(checklist, address)
    if not any(node_address == address for node_address, _, _ in state.nodes):
        raise SURVEY_PROBLEMS("audit.no_such_instance")
    if not notes and not item.is_answerable and item.type not in ("photo", "file"):
        raise SURVEY_PROBLEMS("audit.not_answerable")
    return item


def item_at(checklist: Checklist, address: str) -> Item:
    """The item an address names, with the repeats the address passes through checked against the checklist."""
    if not isinstance(address, str) or not ADDRESS.fullmatch(address):
        raise SURVEY_PROBLEMS("audit.unknown_item")
    steps, name = split_address(address)
    try:
        item = checklist.item(name)
    except KeyError:
        raise SURVEY_PROBLEMS("audit.unknown_item") from None
    if tuple(repeat for repeat, _ in steps) != checklist.repeats_of(item):
        raise SURVEY_PROBLEMS("audit.unknown_item")
    return item


def _editable_repeat(audit: Audit, checklist: Checklist, address: str, actor: Actor, state: FormState) -> str:
    """The repeat whose instances live at `address` (rep, or trees[1]/stems), if the auditor adds them."""
    _check_draft(audit, actor)
    if not isinstance(address, str) or not ADDRESS.fullmatch(address):
        raise SURVEY_PROBLEMS("audit.unknown_item")
    steps, name = split_address(address)
    if not checklist.has_container(name) or checklist.container(name).type != "repeat":
        known = checklist.has_container(name) or name in {item.id for item in checklist.items}
        raise SURVEY_PROBLEMS("audit.not_a_repeat" if known else "audit.unknown_item")
    repeat = checklist.container(name)
    if tuple(r for r, _ in steps) != checklist.repeats_of(repeat)[:-1] or address not in state.counts:
        raise SURVEY_PROBLEMS("audit.no_such_instance")
    if repeat.count is not None:
        raise SURVEY_PROBLEMS("audit.counted_repeat")
    if address not in state.relevant:
        raise SURVEY_PROBLEMS("audit.not_answerable/hidden")
    return name


def _check_draft(audit: Audit, actor: Actor) -> None:
    if audit.status != "draft":
        # Seen most in a second tab after the first one submitted: say what happened and what to do.
        raise SURVEY_PROBLEMS("audit.read_only")
    if audit.auditor_id != actor.user_id:
        raise SURVEY_PROBLEMS("audit.not_yours")


def _coerce(item: Item, raw) -> object:
    if raw is None or raw == [] or raw == "":
        return None
    if isinstance(raw, str) and len(raw) > 10_000:
        raise SURVEY_PROBLEMS("audit.answer_too_long")
    return coerce_answer(item, raw)


def _check_coordinates(lat, lon, accuracy_m) -> None:
    check_position(lat, lon)
    if accuracy_m is not None and not (isinstance(accuracy_m, (int, float)) and 0 <= accuracy_m <= 100_000):
        raise SURVEY_PROBLEMS("gps.bad_accuracy")


def _log(session: Session, actor: Actor, action: str, audit: Audit, changes: dict) -> None:
    auditlog.record(session, action=action, entity="audit", entity_id=audit.id, changes=changes,
                    user_id=actor.user_id, device_id=actor.device_id)
