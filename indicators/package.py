"""The evidence package of a facility-derived indicator and year, for the KLA evaluation team.

A zip:
    report.html       printable report: value, per kecamatan, every facility with the audits that
                      count (result, score, dates, auditor, GPS with accuracy, review), photo
                      thumbnails with their SHA-256
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
from app.problems import AppError, NotFound, N_
from geo.models import Wilayah
from indicators import report as reports
from survey.audits.models import Audit, AnswerPhoto, Photo
from survey.photos import PhotoStore

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "evidence-report.css"


@dataclass(frozen=True)
class PhotoEntry:
    """A photo in the package."""

    sha256: str
    item_id: str
    item_label: object  # survey.checklist.Text of the item it is evidence for
    original: str  # member name
    thumb: str
    width: int
    height: int
    taken_at: datetime.datetime | None


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
        raise NotFound("indicators.not_computed", N_("The indicators of this year have not been computed yet."))
    try:
        row = built.row(number)
    except StopIteration:
        raise NotFound("indicators.unknown_indicator", N_("There is no indicator %(number)s."), number=number) from None
    if not row.indicator.is_facility:
        raise AppError("evidence.entered_indicator",
                       N_("Indicator %(number)s is entered by planners: its evidence is the files attached to its values."),
                       number=number)
    standing = reports.facility_standing(session, [k.code for k in built.kecamatan], year, zone,
                                         row.indicator.formula.facility_kinds)
    members: dict[str, bytes | Path] = {}  # small members as bytes; photos as the stored file
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
    values = reports.kecamatan_values(session, built)
    with force_locale(locale):
        # Rendered from the environment, not render_template: no request is needed (the CLI has none).
        html = current_app.jinja_env.get_template("indicators/package_report.html").render(report=built, row=row, facilities=facilities,
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


def _copy_photo(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    """Stream an original into the zip unchanged (stored, not deflated), checking its SHA-256 on the way."""
    digest = hashlib.sha256()
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    with path.open("rb") as source, archive.open(info, "w", force_zip64=True) as sink:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
            sink.write(chunk)
    if digest.hexdigest() != Path(name).stem:
        raise AppError("evidence.photo_damaged", N_("A stored photo no longer matches its SHA-256: %(sha)s."),
                       sha=Path(name).stem[:12])


def _auditor(session: Session, audit: Audit) -> str:
    user = session.get(User, audit.auditor_id)
    return (user.full_name or user.username) if user else "–"


def _photos(session: Session, audit: Audit, store: PhotoStore, members: dict[str, bytes]) -> tuple[PhotoEntry, ...]:
    stmt = (select(AnswerPhoto.item_id, Photo).join(Photo, Photo.sha256 == AnswerPhoto.sha256)
            .where(AnswerPhoto.audit_id == audit.id).order_by(AnswerPhoto.item_id, AnswerPhoto.added_at))
    from survey.registry import for_audit

    checklist = for_audit(session, audit.checklist_key)
    entries = []
    for item_id, photo in session.execute(stmt):
        try:
            original = store.path(photo.sha256)
            thumb = store.ensure_variants(photo.sha256)["thumb"]
        except FileNotFoundError:
            raise AppError("evidence.photo_missing", N_("A photo of an audit is missing from this hub: %(sha)s."),
                           sha=photo.sha256[:12]) from None
        original_name = f"photos/{original.name}"
        if original_name not in members:
            members[original_name] = original
            members[f"thumbs/{photo.sha256}.jpg"] = thumb.read_bytes()
        try:
            label = checklist.item(item_id).label
        except KeyError:
            label = None
        entries.append(PhotoEntry(photo.sha256, item_id, label, original_name, f"thumbs/{photo.sha256}.jpg", photo.width,
                                  photo.height, photo.taken_at))
    return tuple(entries)
