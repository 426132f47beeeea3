"""The evidence package of an indicator and year, for the KLA evaluation team.

A zip:
    report.html       printable report: value, per kecamatan, and for a facility-derived indicator
                      every facility with the audits that count (result, score, dates, auditor, GPS
                      with accuracy, review), photo thumbnails with their SHA-256; for an entered
                      indicator every entered value (kecamatan or kabupaten/kota) with its note, who
                      entered it and when, and its evidence files with their SHA-256
    files/<sha256>.<ext>    the original evidence files of entered values, byte for byte
    report.css        its styles (screen and print)
    photos/<sha256>.<ext>   the original photos, byte for byte
    thumbs/<sha256>.jpg     the thumbnails the report shows
    SHA256SUMS        the SHA-256 of every other member (`sha256sum -c SHA256SUMS`)
"""

from __future__ import annotations

import datetime
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from geo.models import Wilayah
from indicators import queries
from indicators import report as reports
from indicators.evidence import EvidenceStore
from indicators.models import IndicatorEntry
from indicators.problems import INDICATOR_PROBLEMS
from survey.audits.models import AnswerPhoto, Audit, Photo
from survey.checklist import Checklist
from survey.form import item_of, split_address
from survey.photos import PhotoStore, is_picture
from survey.registry import for_audit

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "evidence-report.css"


@dataclass(frozen=True)
class PhotoEntry:
    """A photo in the package."""

    sha256: str
    item_id: str  # the answer's address: `foto`, or `alat[2]/foto` inside a repeat instance
    item_label: object  # survey.checklist.Text of the item it is evidence for
    original: str  # member name
    thumb: str
    width: int
    height: int
    taken_at: datetime.datetime | None
    instance: str | None = None  # inside a repeat: the instance number, nested ones joined ("1.3")


@dataclass(frozen=True)
class AuditEntry:
    """An audit that counts, as the report shows it."""

    checklist_id: str
    audit: Audit
    auditor: str
    photos: tuple[PhotoEntry, ...]


def build(session: Session, kabkota: Wilayah, year: int, number: int, zone: datetime.tzinfo, photos: PhotoStore,
          locale: str = "id") -> bytes:
    """The package as zip bytes (small packages and tests; `write` streams to a file)."""
    buffer = io.BytesIO()
    write(session, kabkota, year, number, zone, photos, buffer, locale)
    return buffer.getvalue()


def write(session: Session, kabkota: Wilayah, year: int, number: int, zone: datetime.tzinfo, photos: PhotoStore,
          target: BinaryIO, locale: str = "id") -> None:
    """Write the package to a seekable binary file; photos are copied one at a time, never all in memory.

    NotFound/AppError when the year or indicator has nothing to package, or a photo is missing or no
    longer matches its SHA-256 (then what was written is incomplete: the caller discards it).
    """
    built = reports.build(session, kabkota, year, zone)
    if built is None:
        raise INDICATOR_PROBLEMS("indicators.not_computed")
    try:
        row = built.row(number)
    except StopIteration:
        raise INDICATOR_PROBLEMS("indicators.unknown_indicator", number=number) from None
    members: dict[str, bytes | Path] = {}  # small members as bytes; photos and files as the stored file
    facilities, entered = [], []
    if row.indicator.is_facility:
        facilities = _facilities(session, built, row, year, zone, photos, members)
    else:
        entered = _entered(session, built, row, year, members)
    values = reports.kecamatan_values(session, built)
    with force_locale(locale):
        # Rendered from the environment, not render_template: no request is needed (the CLI has none).
        html = current_app.jinja_env.get_template("indicators/package_report.html").render(report=built, row=row, facilities=facilities,
                               entered=entered, file_count=sum(1 for name in members if name.startswith("files/")),
                               kecamatan_values=values, generated_at=datetime.datetime.now(zone), locale=locale,
                               photo_count=sum(1 for name in members if name.startswith("photos/")))
    members["report.html"] = html.encode("utf-8")
    members["report.css"] = CSS.read_bytes()
    # An original's SHA-256 is its name; it is checked again while it is copied into the zip.
    sums = "".join(f"{Path(name).stem if isinstance(data, Path) else hashlib.sha256(data).hexdigest()}  {name}\n"
                   for name, data in sorted(members.items()))
    members["SHA256SUMS"] = sums.encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ["report.html", "report.css", "SHA256SUMS", *sorted(n for n in members if "/" in n)]:
            data = members[name]
            if isinstance(data, Path):
                _copy_photo(archive, name, data)
            else:
                # Thumbnails are JPEGs already: stored as they are.
                archive.writestr(name, data, zipfile.ZIP_STORED if name.startswith("thumbs/") else zipfile.ZIP_DEFLATED)


@dataclass(frozen=True)
class EnteredFile:
    """An evidence file of an entered value, as the package holds it."""

    sha256: str
    filename: str
    member: str
    size_bytes: int
    added_at: datetime.datetime


@dataclass(frozen=True)
class EnteredEntry:
    """An entered value with its note, who entered it, and its files."""

    region: Wilayah
    entry: IndicatorEntry
    entered_by: str
    files: tuple[EnteredFile, ...]


def _facilities(session: Session, built, row, year: int, zone: datetime.tzinfo, photos: PhotoStore, members: dict) -> list:
    """Every counted facility of the indicator's kinds with the audits that count and their photos."""
    standing = reports.facility_standing(session, [k.code for k in built.kecamatan], year, zone,
                                         row.indicator.formula.facility_kinds)
    facilities = []
    for entry in standing:
        audits = []
        for checklist_id in row.indicator.formula.checklists:
            record = entry.counting.get(checklist_id)
            if record is None:
                continue
            audit = session.get(Audit, record.id)
            audits.append(AuditEntry(checklist_id, audit, _auditor(session, audit), _photos(session, audit, photos, members)))
        facilities.append((entry, audits))
    return facilities


def _entered(session: Session, built, row, year: int, members: dict) -> list[EnteredEntry]:
    """The entered values of the kabupaten/kota and its kecamatan, with their original evidence files."""
    store = EvidenceStore(Path(current_app.config["DATA_DIR"]) / "evidence")
    regions = [built.region, *built.kecamatan]
    entries = queries.entries_of(session, built.indicator_set.id, year, [r.code for r in regions])
    result = []
    for region in regions:
        entry = entries.get((row.indicator.number, region.code))
        if entry is None:
            continue
        files = []
        for evidence in entry.evidence:
            member = f"files/{evidence.sha256}.{evidence.file.extension}"
            path = store.path(evidence.sha256, evidence.file.extension)
            if not path.is_file():
                raise INDICATOR_PROBLEMS("evidence.file_missing", sha=evidence.sha256[:12])
            members[member] = path
            files.append(EnteredFile(evidence.sha256, evidence.filename, member, evidence.file.size_bytes, evidence.added_at))
        user = session.get(User, entry.entered_by) if entry.entered_by else None
        result.append(EnteredEntry(region, entry, (user.full_name or user.username) if user else "–", tuple(files)))
    return result


def _copy_photo(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    """Stream an original (photo or evidence file) into the zip unchanged (stored), checking its SHA-256 on the way."""
    digest = hashlib.sha256()
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    with path.open("rb") as source, archive.open(info, "w", force_zip64=True) as sink:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
            sink.write(chunk)
    if digest.hexdigest() != Path(name).stem:
        raise INDICATOR_PROBLEMS("evidence.photo_damaged", sha=Path(name).stem[:12])


def _auditor(session: Session, audit: Audit) -> str:
    user = session.get(User, audit.auditor_id)
    return (user.full_name or user.username) if user else "–"


def _photos(session: Session, audit: Audit, store: PhotoStore, members: dict[str, bytes]) -> tuple[PhotoEntry, ...]:
    """The audit's photos in the order of its form (repeat instances in number order), each labelled by its item."""
    stmt = (select(AnswerPhoto.item_id, Photo).join(Photo, Photo.sha256 == AnswerPhoto.sha256)
            .where(AnswerPhoto.audit_id == audit.id).order_by(AnswerPhoto.added_at, AnswerPhoto.item_id))
    checklist = for_audit(session, audit.checklist_key)
    entries = []
    for address, photo in session.execute(stmt):
        if not is_picture(photo.mime):
            continue  # a file item's recording or document: the package holds photos only
        try:
            original = store.path(photo.sha256)
            thumb = store.ensure_variants(photo.sha256)["thumb"]
        except FileNotFoundError:
            raise INDICATOR_PROBLEMS("evidence.photo_missing", sha=photo.sha256[:12]) from None
        original_name = f"photos/{original.name}"
        if original_name not in members:
            members[original_name] = original
            members[f"thumbs/{photo.sha256}.jpg"] = thumb.read_bytes()
        label, numbers = answer_label(checklist, address)
        entries.append(PhotoEntry(photo.sha256, address, label, original_name, f"thumbs/{photo.sha256}.jpg",
                                  photo.width, photo.height, photo.taken_at,
                                  ".".join(map(str, numbers)) if numbers else None))
    order = {item.id: index for index, item in enumerate(checklist.items)}
    # Stable: photos of one answer stay in the order they were added.
    return tuple(sorted(entries, key=lambda e: (order.get(item_of(e.item_id), len(order)),
                                                answer_label(checklist, e.item_id)[1])))


def answer_label(checklist: Checklist, address: str) -> tuple[object, tuple[int, ...]]:
    """The label (survey.checklist.Text) of the item an answer's address names, and its repeat instance numbers;
    (None, ()) when the checklist has no such item (the report then shows the address)."""
    try:
        steps, _ = split_address(address)
        return checklist.item(item_of(address)).label, tuple(number for _, number in steps)
    except (KeyError, ValueError):
        return None, ()
