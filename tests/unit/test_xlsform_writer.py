"""Download as XLSForm: every checklist version written out and imported back is the same checklist."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from survey.checklist import checklist_from_dict, dump_checklist_yaml, load_checklist
from survey.registry import SHIPPED
from survey.xlsform import import_xlsform
from survey.xlsform_writer import attachments, file_name, write_xlsform
from tests.support import SHARED, require

SHARED_FORMS = SHARED / "data" / "xlsform"


def round_trip(checklist, tmp_path: Path):
    path = tmp_path / file_name(checklist)
    path.write_bytes(write_xlsform(checklist))
    return import_xlsform(path, version=checklist.version, attachments=attachments(checklist))


def same(a, b) -> bool:
    return a == b and dump_checklist_yaml(a) == dump_checklist_yaml(b)


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_checklists_round_trip(path, tmp_path):
    checklist = load_checklist(path)
    result = round_trip(checklist, tmp_path)
    assert same(result.checklist, checklist)
    assert result.warnings == ()


def T(text):
    return {"id": text, "en": text + " (en)"}


EVERYTHING = {
    "id": "semua", "version": 3, "version_label": "2026.1-rc", "title": T("Semua"), "description": T("Uji"),
    "facility_kinds": ["sekolah", "puskesmas"], "source": "tests", "source_status": "weak",
    "source_note": T("catatan"), "source_text": T("sumber"), "scoring": {"memenuhi_min": 0.75},
    "tables": {"harga": [{"kode": "a", "nilai": "1"}, {"kode": "b", "nilai": "2"}]},
    "sections": [{"id": "s1", "title": T("Satu"), "source": "tests s1", "source_status": "verified",
                  "source_text": T("s1"), "items": [
        {"id": "ya", "type": "ynp", "label": T("Ya?"), "weight": 2.5, "critical": True, "allow_na": False,
         "required": True, "source": "butir", "source_status": "observable_practice"},
        {"id": "n", "type": "decimal", "label": T("N"), "min": 0, "max": 9.5, "default": "1.5",
         "constraint": ". != 3", "constraint_message": T("bukan 3")},
        {"id": "prov", "type": "select_one", "label": T("Prov"), "choices": [
            {"value": "a", "label": T("A")}, {"value": "b", "label": T("B")}]},
        {"id": "kota", "type": "select_multiple", "label": T("Kota"), "choice_filter": "p = ${prov}", "choices": [
            {"value": "k1", "label": T("K1"), "columns": {"p": "a"}},
            {"value": "k2", "label": T("K2"), "columns": {"p": "b"}}]},
        {"id": "g", "type": "group", "label": T("Grup"), "hint": T("petunjuk"), "relevant": "${ya} = 'ya'",
         "appearance": "field-list", "items": [
            {"id": "t", "type": "time", "label": T("Jam"), "required": "${n} > 1"},
            {"id": "dt", "type": "datetime", "label": T("Waktu")},
            {"id": "r", "type": "repeat", "label": T("Ulang"), "count": "${n}", "items": [
                {"id": "foto", "type": "photo", "label": T("Foto")},
                {"id": "rekaman", "type": "file", "accept": "audio", "label": T("Rekaman")},
                {"id": "nilai", "type": "calculate", "calculation": "pulldata('harga', 'nilai', 'kode', 'a')"},
                {"id": "nested", "type": "repeat", "label": T("Dalam"), "items": [
                    {"id": "pos", "type": "gps", "label": T("Posisi"), "read_only": True}]}]}]},
        {"id": "ok", "type": "acknowledge", "label": T("Setuju")},
        {"id": "favorit", "type": "select_multiple", "label": T("Favorit"), "choices_from": "nilai"},
        {"id": "tersembunyi", "type": "hidden", "default": "today()"},
        {"id": "catatan", "type": "note", "label": T("Nilai ${nilai}")},
        {"id": "teks", "type": "text", "label": T("Teks"), "appearance": "multiline", "hint": T("h")},
    ]}],
}


def test_every_construct_round_trips(tmp_path):
    checklist = checklist_from_dict(EVERYTHING)
    result = round_trip(checklist, tmp_path)
    assert same(result.checklist, checklist)


def test_the_workbook_is_plain_xlsform(tmp_path):
    """Other XLSForm tools read it: standard sheets and columns, Pantau KLA's own in kla_* columns."""
    path = tmp_path / "f.xlsx"
    path.write_bytes(write_xlsform(checklist_from_dict(EVERYTHING)))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["survey", "choices", "settings"]
    header = [cell.value for cell in book["survey"][1]]
    assert header[:4] == ["type", "name", "label::Indonesian (id)", "label::English (en)"]
    types = [row[0] for row in book["survey"].iter_rows(min_row=2, values_only=True)]
    assert "begin repeat" in types and "select_one ynp_wajib" in types and "audio" in types
    assert "select_multiple kota" in types


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["choice_filter_test.xlsx", "loop.xlsx", "specify_other.xlsx", "group.xlsx",
                                  "xlsform_spec_test.xlsx", "case_insensitivity.xlsx"])
def test_imported_forms_round_trip(name, tmp_path):
    path = SHARED_FORMS / name
    require(path.is_file(), f"{path} is missing (../shared/data/xlsform)")
    checklist = import_xlsform(path).checklist
    assert same(round_trip(checklist, tmp_path).checklist, checklist)
