"""`flask checklists import|list`: files written whole into DATA_DIR/checklists, or nothing at all."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from survey.checklist import load_checklist
from survey.cli import register

HEADER = ["type", "name", "label::Indonesian (id)", "label::English (en)", "relevant", "scored"]
CHOICES = [["list_name", "name", "label"], ["ya_tidak", "ya", "Ya"], ["ya_tidak", "tidak", "Tidak"]]
SETTINGS = [["form_id", "version", "form_title"], ["audit_taman", "3", "Audit Taman"]]
SURVEY = [HEADER,
          ["begin group", "lokasi", "Lokasi", "Location"],
          ["select_one ya_tidak", "pagar", "Ada pagar?", "Is there a fence?", None, "yes"],  # scored: ynp
          ["integer", "tinggi", "Tinggi pagar", "Fence height", "${pagar} = 'ya'"],
          ["end group"],
          ["image", "foto", "Foto", "Photo"]]


def write_form(folder: Path, name: str, survey_rows, choices_rows=CHOICES, settings_rows=SETTINGS) -> Path:
    """An XLSForm workbook with survey, choices and settings sheets."""
    book = openpyxl.Workbook()
    book.active.title = "survey"
    sheets = {"survey": survey_rows, "choices": choices_rows, "settings": settings_rows}
    for title, rows in sheets.items():
        sheet = book[title] if title in book.sheetnames else book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = folder / name
    book.save(path)
    return path


@pytest.fixture
def checklists(app):
    """The app with `flask checklists` registered; returns DATA_DIR/checklists."""
    if "checklists" not in app.cli.commands:
        register(app)
    return Path(app.config["DATA_DIR"]) / "checklists"


@pytest.fixture
def form(tmp_path) -> Path:
    """A small park audit form: one group with a ya/tidak question and a height, and a photo."""
    return write_form(tmp_path, "audit_taman.xlsx", SURVEY)


def files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def test_import_writes_the_checklist_and_list_shows_it(runner, checklists, form):
    result = runner.invoke(args=["checklists", "import", str(form), "--kind", "ruang_bermain"])
    assert result.exit_code == 0, result.output
    written = checklists / "audit_taman-v3.yaml"
    assert files(checklists) == ["audit_taman-v3.yaml"]  # no temporary file left behind
    checklist = load_checklist(written)
    assert (checklist.key, checklist.facility_kinds) == ("audit_taman@3", ("ruang_bermain",))
    assert [item.type for item in checklist.items] == ["ynp", "integer", "photo"]
    assert str(written) in result.output and "3 items" in result.output
    assert "warning: settings: no form_title" not in result.output

    listing = runner.invoke(args=["checklists", "list"])
    assert listing.exit_code == 0, listing.output
    lines = {line.split("  ")[0]: line.split("  ") for line in listing.output.splitlines()}
    assert lines["audit_taman@3"] == ["audit_taman@3", "ruang_bermain", "2/3", "Audit Taman", "imported"]
    assert lines["ktr@1"][-1] == "shipped" and lines["ktr@1"][1] == "all"


def test_import_prints_warnings(runner, checklists, tmp_path):
    form = write_form(tmp_path, "f.xlsx", [["type", "name", "label"], ["text", "catatan", "Catatan"]])
    result = runner.invoke(args=["checklists", "import", str(form)])
    assert result.exit_code == 0, result.output
    assert "warning: survey: label has no language" in result.output


def test_same_content_again_is_already_installed(runner, checklists, form):
    assert runner.invoke(args=["checklists", "import", str(form)]).exit_code == 0
    before = (checklists / "audit_taman-v3.yaml").stat().st_mtime_ns
    again = runner.invoke(args=["checklists", "import", str(form)])
    assert again.exit_code == 0, again.output
    assert "already installed" in again.output
    assert (checklists / "audit_taman-v3.yaml").stat().st_mtime_ns == before


def test_different_content_with_the_same_version_is_refused(runner, checklists, form, tmp_path):
    assert runner.invoke(args=["checklists", "import", str(form)]).exit_code == 0
    original = (checklists / "audit_taman-v3.yaml").read_text(encoding="utf-8")
    changed = write_form(tmp_path, "changed.xlsx", [*SURVEY, ["text", "catatan", "Catatan", "Notes"]])
    result = runner.invoke(args=["checklists", "import", str(changed)])
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "[checklist.version_exists]" in line)
    assert "sudah ada" in line and " / " in line and "already exists" in line
    assert (checklists / "audit_taman-v3.yaml").read_text(encoding="utf-8") == original
    assert files(checklists) == ["audit_taman-v3.yaml"]
    assert runner.invoke(args=["checklists", "import", str(changed), "--version", "4"]).exit_code == 0


def test_a_shipped_version_cannot_be_replaced(runner, checklists, form):
    result = runner.invoke(args=["checklists", "import", str(form), "--id", "ktr", "--version", "1"])
    assert result.exit_code == 1
    assert "[checklist.version_exists]" in result.output and "ktr-v1.yaml" in result.output
    assert files(checklists) == []


def test_unsupported_form_is_refused_naming_the_row(runner, checklists, tmp_path):
    form = write_form(tmp_path, "garis.xlsx", [*SURVEY, ["geotrace", "jalur", "Jalur", "Path"]])
    result = runner.invoke(args=["checklists", "import", str(form)])
    assert result.exit_code == 1
    assert ("[xlsform.unsupported_type] survey baris 7: 'geotrace' tidak didukung (garis di peta) / "
            "survey row 7: 'geotrace' is not supported (lines on a map)") in result.output
    assert files(checklists) == []


def test_out_folder(runner, checklists, form, tmp_path):
    out = tmp_path / "keluar"
    result = runner.invoke(args=["checklists", "import", str(form), "--out", str(out), "--id", "taman"])
    assert result.exit_code == 0, result.output
    assert files(out) == ["taman-v3.yaml"] and files(checklists) == []


def test_missing_file_is_refused(runner, checklists, tmp_path):
    result = runner.invoke(args=["checklists", "import", str(tmp_path / "tidak_ada.xlsx")])
    assert result.exit_code == 1 and "[xlsform.unreadable]" in result.output


def test_list_shows_a_broken_file_instead_of_failing(runner, checklists, form):
    assert runner.invoke(args=["checklists", "import", str(form)]).exit_code == 0
    (checklists / "rusak-v1.yaml").write_text("id: rusak\nversion: [\n", encoding="utf-8")
    result = runner.invoke(args=["checklists", "list"])
    assert result.exit_code == 0, result.output
    broken = [line for line in result.output.splitlines() if line.startswith("rusak-v1.yaml")]
    assert len(broken) == 1 and "BROKEN" in broken[0] and "checklist.bad_yaml" in broken[0]
    assert any(line.startswith("audit_taman@3") for line in result.output.splitlines())


def test_attachments_are_given_by_file(runner, checklists, tmp_path):
    form = write_form(tmp_path, "kota.xlsx", [*SURVEY, ["select_one_from_file kota.csv", "kota", "Kota", "City"]])
    refused = runner.invoke(args=["checklists", "import", str(form)])
    assert refused.exit_code == 1 and "[xlsform.missing_attachment]" in refused.output and "kota.csv" in refused.output
    csv_file = tmp_path / "kota.csv"
    csv_file.write_text("name,label\nserang,Serang\ncilegon,Cilegon\n", encoding="utf-8")
    result = runner.invoke(args=["checklists", "import", str(form), "--attach", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert "kota" in (checklists / files(checklists)[0]).read_text(encoding="utf-8")
