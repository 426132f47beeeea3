"""Evidence files for entered indicator values: checked by content, stored by SHA-256. Pure; no Flask.

Stored like photos (survey.photos): `<root>/ab/<sha256>.<ext>`, written atomically (app.files), so
the same file uploaded twice is stored once and every copy can be re-verified. Accepted: PDF,
JPEG/PNG/WebP pictures (checked whole by survey.photos), Office Open XML and OpenDocument files
(xlsx, docx, ods, odt: a zip with their marker member), and UTF-8 text or CSV.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from app.files import write_atomic
from indicators.problems import INDICATOR_PROBLEMS
from survey.photos import inspect_photo
from survey.problems import PhotoError

_SHA256 = re.compile(r"[0-9a-f]{64}")
EXTENSIONS = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp",
              "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "ods": "application/vnd.oasis.opendocument.spreadsheet", "odt": "application/vnd.oasis.opendocument.text",
              "csv": "text/csv", "txt": "text/plain"}
_OFFICE = {"xl/workbook.xml": "xlsx", "word/document.xml": "docx"}
_OPENDOCUMENT = {b"application/vnd.oasis.opendocument.spreadsheet": "ods", b"application/vnd.oasis.opendocument.text": "odt"}
MAX_FILENAME = 200


@dataclass(frozen=True)
class EvidenceInfo:
    """What an accepted file is."""

    sha256: str
    extension: str
    mime: str
    size_bytes: int


def inspect_evidence(data: bytes, filename: str, max_bytes: int) -> EvidenceInfo:
    """Check an upload by its content (never by its name) and describe it; EvidenceError if refused."""
    if not filename or len(filename) > MAX_FILENAME or any(c in filename for c in "/\\\0"):
        raise INDICATOR_PROBLEMS("evidence.bad_name", field="files")
    if not data:
        raise INDICATOR_PROBLEMS("evidence.empty", field="files", name=filename)
    if len(data) > max_bytes:
        raise INDICATOR_PROBLEMS("evidence.too_large", field="files", name=filename, limit_mb=max_bytes // (1024 * 1024))
    extension = _sniff(data, max_bytes)
    if extension is None:
        raise INDICATOR_PROBLEMS("evidence.bad_type", field="files", name=filename)
    return EvidenceInfo(hashlib.sha256(data).hexdigest(), extension, EXTENSIONS[extension], len(data))


def _sniff(data: bytes, max_bytes: int) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf" if b"%%EOF" in data[-1024:] else None  # a PDF cut off in transfer
    if data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n" or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        try:
            return {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[inspect_photo(data, max_bytes).mime]
        except PhotoError:
            return None
    if data[:4] == b"PK\x03\x04":
        return _zip_kind(data)
    return _text_kind(data)


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if archive.testzip() is not None:
                return None
            if "mimetype" in names:
                return _OPENDOCUMENT.get(archive.read("mimetype").strip())
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return None
    if "[Content_Types].xml" in names:
        return next((kind for marker, kind in _OFFICE.items() if marker in names), None)
    return None


def _text_kind(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    first = text.splitlines()[0] if text.splitlines() else ""
    return "csv" if ("," in first or ";" in first) else "txt"


class EvidenceStore:
    """Evidence files on disk, addressed by the SHA-256 of their bytes."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def save(self, data: bytes, info: EvidenceInfo) -> Path:
        """Store checked bytes under their hash; the same bytes again write nothing."""
        path = self.path(info.sha256, info.extension)
        if not (path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == info.sha256):
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
        return path

    def path(self, sha256: str, extension: str) -> Path:
        """Where a file is kept; the hash and extension are checked so no path leaves the root."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256) or extension not in EXTENSIONS:
            raise ValueError(f"bad evidence name {sha256!r}.{extension!r}")
        return self.root / sha256[:2] / f"{sha256}.{extension}"
