"""Evidence files are checked by content, never by name, and stored by SHA-256; table-driven refusals."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from openpyxl import Workbook

from indicators.evidence import EvidenceStore, inspect_evidence
from indicators.problems import EvidenceError
from tests.support import make_jpeg

LIMIT = 1 << 20


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["kecamatan", "akta"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def plain_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize("data, name, extension", [
    (PDF, "sk-gugus-tugas.pdf", "pdf"),
    (make_jpeg(), "foto.jpg", "jpg"),
    (xlsx(), "rekap.xlsx", "xlsx"),
    (plain_zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"}), "laporan.docx", "docx"),
    (plain_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}), "r.ods", "ods"),
    ("kecamatan;jumlah\nSerang;412\n".encode(), "rekap.csv", "csv"),
    ("Catatan rapat Gugus Tugas KLA.".encode(), "catatan.txt", "txt"),
    (PDF, "named-wrongly.xlsx", "pdf"),  # the content decides, not the name
])
def test_accepted_files(data, name, extension):
    info = inspect_evidence(data, name, LIMIT)
    assert (info.extension, info.sha256, info.size_bytes) == (extension, hashlib.sha256(data).hexdigest(), len(data))


@pytest.mark.parametrize("data, name, code", [
    (b"", "kosong.pdf", "evidence.empty"),
    (b"x" * (LIMIT + 1), "besar.txt", "evidence.too_large"),
    (PDF, "", "evidence.bad_name"),
    (PDF, "../../etc/passwd", "evidence.bad_name"),
    (PDF, "a" * 201, "evidence.bad_name"),
    (b"MZ\x90\x00" + bytes(100), "setup.exe", "evidence.bad_type"),
    (b"%PDF-1.4 cut off", "akta.pdf", "evidence.bad_type"),
    (make_jpeg()[:300], "foto.jpg", "evidence.bad_type"),
    (plain_zip({"a.txt": b"x"}), "arsip.zip", "evidence.bad_type"),
    (b"PK\x03\x04 not really a zip", "x.xlsx", "evidence.bad_type"),
    ("teks".encode("utf-16"), "utf16.txt", "evidence.bad_type"),
])
def test_refused_files(data, name, code):
    with pytest.raises(EvidenceError) as refused:
        inspect_evidence(data, name, LIMIT)
    assert refused.value.code == code and refused.value.field == "files"


def test_store_is_content_addressed_and_idempotent(tmp_path):
    store = EvidenceStore(tmp_path)
    info = inspect_evidence(PDF, "a.pdf", LIMIT)
    path = store.save(PDF, info)
    assert path == tmp_path / info.sha256[:2] / f"{info.sha256}.pdf" and path.read_bytes() == PDF
    assert store.save(PDF, info) == path  # the same bytes again: one file
    with pytest.raises(ValueError):
        store.path("../" + info.sha256[3:], "pdf")
