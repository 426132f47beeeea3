"""XLSForm import: workbooks built with openpyxl, each construct mapped or refused by sheet and row."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from survey.checklist import dump_checklist_yaml, load_checklist_text
from survey.xlsform import ImportResult, XLSFormError, import_xlsform
from tests.support import SHARED, require

SHARED_FORMS = SHARED / "data" / "xlsform"  # ../shared from the repository root
SHARED_FILES = sorted(SHARED_FORMS.glob("*.xls*")) if SHARED_FORMS.is_dir() else []

SETTINGS = [["form_id", "version", "form_title::Indonesian (id)", "form_title::English (en)"],
            ["audit_taman", "2", "Audit Taman", "Park audit"]]
HEADER = ["type", "name", "label::Indonesian (id)", "label::English (en)"]
YA_TIDAK = [["list_name", "name", "label"], ["ya_tidak", "ya", "Ya"], ["ya_tidak", "tidak", "Tidak"]]


def write_form(tmp_path: Path, survey_rows, choices_rows=None, settings_rows=SETTINGS,
               name: str = "form.xlsx") -> Path:
    """A workbook with a header row then data rows per sheet; Excel row n is rows[n - 1]."""
    book = openpyxl.Workbook()
    book.active.title = "survey"
    for row in survey_rows:
        book["survey"].append(row)
    for title, rows in (("choices", choices_rows), ("settings", settings_rows)):
        if rows is not None:
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def imported(tmp_path, survey_rows, choices_rows=None, settings_rows=SETTINGS, **kwargs) -> ImportResult:
    return import_xlsform(write_form(tmp_path, survey_rows, choices_rows, settings_rows), **kwargs)


def refused(tmp_path, survey_rows, choices_rows=None, settings_rows=SETTINGS, **kwargs) -> XLSFormError:
    with pytest.raises(XLSFormError) as caught:
        imported(tmp_path, survey_rows, choices_rows, settings_rows, **kwargs)
    return caught.value


# --- What is mapped --------------------------------------------------------------------------


def test_groups_become_sections_and_loose_questions_go_to_umum(tmp_path):
    result = imported(tmp_path, [
        HEADER,
        ["text", "catatan", "Catatan", "Notes"],
        ["begin group", "lokasi", "Lokasi", "Location"],
        ["integer", "luas", "Luas", "Area"],
        ["begin group", "detail", "Detail", "Detail"],
        ["date", "tanggal", "Tanggal", "Date"],
        ["end group"],
        ["end group"],
        ["decimal", "skor", "Skor", "Score"],
    ])
    checklist = result.checklist
    assert [(s.id, s.title.id, s.title.en) for s in checklist.sections] == [
        ("umum", "Umum", "General"), ("lokasi", "Lokasi", "Location")]
    assert [i.id for i in checklist.sections[0].items] == ["catatan", "skor"]
    assert [i.id for i in checklist.sections[1].items] == ["luas", "tanggal"]  # nested: flattened
    assert any("flattened" in w and "row 5" in w for w in result.warnings)
    assert all(s.source == "XLSForm form.xlsx" for s in checklist.sections)


def test_settings_and_fixed_fields(tmp_path):
    checklist = imported(tmp_path, [HEADER, ["text", "a", "A", "A"]]).checklist
    assert (checklist.id, checklist.version, checklist.title.id, checklist.title.en) == (
        "audit_taman", 2, "Audit Taman", "Park audit")
    assert checklist.facility_kinds == ("all",)
    assert (checklist.source, checklist.source_status) == ("XLSForm form.xlsx", "unverified")
    assert checklist.scoring.memenuhi_min == 0.8


def test_arguments_override_settings(tmp_path):
    checklist = imported(tmp_path, [HEADER, ["text", "a", "A", "A"]], checklist_id="lain",
                         version=7, facility_kinds=["sekolah", "pka"]).checklist
    assert (checklist.id, checklist.version, checklist.facility_kinds) == ("lain", 7, ("sekolah", "pka"))


@pytest.mark.parametrize("settings_rows, expected_id, expected_version", [
    pytest.param([["form_id", "version"], ["AuditTaman", "2024010101"]], "audittaman", 2024010101,
                 id="form_id lower-cased, long integer version"),
    pytest.param(None, "form", 1, id="no settings sheet: file name and version 1"),
    pytest.param([["form_id"], ["x"]], "x", 1, id="no version"),
])
def test_id_and_version_from_settings(tmp_path, settings_rows, expected_id, expected_version):
    result = imported(tmp_path, [HEADER, ["text", "a", "A", "A"]], settings_rows=settings_rows)
    assert (result.checklist.id, result.checklist.version) == (expected_id, expected_version)
    if expected_version == 1:
        assert "settings: no version, so the version is 1" in result.warnings


@pytest.mark.parametrize("header, row, expected, warned", [
    pytest.param(["label::Indonesian (id)", "label::English (en)"], ["Pagar", "Fence"],
                 ("Pagar", "Fence"), None, id="Indonesian (id) and English (en)"),
    pytest.param(["label::id", "label::en"], ["Pagar", "Fence"], ("Pagar", "Fence"), None,
                 id="id and en"),
    pytest.param(["label::English (en)", "label::Indonesian (id)"], ["Fence", "Pagar"],
                 ("Pagar", "Fence"), None, id="column order does not matter"),
    pytest.param(["label"], ["Pagar"], ("Pagar", "Pagar"), "no language", id="plain label"),
    pytest.param(["label::English (en)"], ["Fence"], ("Fence", "Fence"), "no Indonesian text",
                 id="English only"),
    pytest.param(["label::id", "label::Swahili (sw)"], ["Pagar", "Uzio"], ("Pagar", "Pagar"),
                 "no English text", id="other languages dropped"),
])
def test_labels_in_both_languages(tmp_path, header, row, expected, warned):
    result = imported(tmp_path, [["type", "name", *header], ["text", "pagar", *row]])
    label = result.checklist.item("pagar").label
    assert (label.id, label.en) == expected
    if warned:
        assert any(warned in w and "row 2" in w for w in result.warnings)
    else:
        assert not any("label" in w for w in result.warnings)


def test_other_languages_are_reported(tmp_path):
    result = imported(tmp_path, [["type", "name", "label::id", "label::en", "label::Swahili (sw)"],
                                 ["text", "pagar", "Pagar", "Fence", "Uzio"]])
    assert "languages other than Indonesian and English are ignored: Swahili (sw)" in result.warnings


def test_default_language_makes_the_plain_label_that_language(tmp_path):
    result = imported(tmp_path, [["type", "name", "label", "label::English (en)"],
                                 ["text", "pagar", "Pagar", "Fence"]],
                      settings_rows=[["form_id", "default_language"], ["x", "Indonesian (id)"]])
    label = result.checklist.item("pagar").label
    assert (label.id, label.en) == ("Pagar", "Fence")


def test_hint_and_old_style_headers(tmp_path):
    checklist = imported(tmp_path, [
        ["type", "name", "label:Indonesian (id)", "label:English (en)", "hint:Indonesian (id)",
         "hint:English (en)"],
        ["text", "pagar", "Pagar", "Fence", "Lihat keliling", "Walk around"],
    ]).checklist
    hint = checklist.item("pagar").hint
    assert (hint.id, hint.en) == ("Lihat keliling", "Walk around")


@pytest.mark.parametrize("xlsform_type, expected", [
    ("integer", "integer"), ("decimal", "decimal"), ("text", "text"), ("date", "date"),
    ("image", "photo"), ("photo", "photo"), ("geopoint", "gps"), ("int", "integer"),
])
def test_question_types(tmp_path, xlsform_type, expected):
    checklist = imported(tmp_path, [HEADER, [xlsform_type, "q", "Q", "Q"]]).checklist
    assert checklist.item("q").type == expected


def test_select_one_and_select_multiple_take_their_choices(tmp_path):
    choices = [["list_name", "name", "label::id", "label::en"],
               ["bahan", "beton", "Beton", "Concrete"],
               ["bahan", "kayu", "Kayu", "Wood"],
               ["fasilitas", "ayunan", "Ayunan", "Swing"],
               ["fasilitas", "perosotan", "Perosotan", "Slide"]]
    checklist = imported(tmp_path, [HEADER, ["select_one bahan", "lantai", "Lantai", "Floor"],
                                    ["select_multiple fasilitas", "alat", "Alat", "Equipment"]],
                         choices).checklist
    floor, equipment = checklist.item("lantai"), checklist.item("alat")
    assert floor.type == "select_one" and floor.choice_values == ("beton", "kayu")
    assert (floor.choices[1].label.id, floor.choices[1].label.en) == ("Kayu", "Wood")
    assert equipment.type == "select_multiple" and equipment.choice_values == ("ayunan", "perosotan")


@pytest.mark.parametrize("names, select, expected_type, allow_na", [
    pytest.param(["ya", "tidak"], "select_one", "ynp", False, id="ya/tidak"),
    pytest.param(["Ya", "TIDAK", "Sebagian", "Tidak_Berlaku"], "select_one", "ynp", True,
                 id="all four, any case"),
    pytest.param(["yes", "no", "partial", "na"], "select_one", "ynp", True, id="English names"),
    pytest.param(["Yes", "No"], "select_one", "ynp", False, id="Yes/No"),
    pytest.param(["yes", "no", "maybe"], "select_one", "select_one", None, id="another name"),
    pytest.param(["ya"], "select_one", "select_one", None, id="ya alone"),
    pytest.param(["ya", "yes", "tidak"], "select_one", "select_one", None, id="two names for ya"),
    pytest.param(["ya", "tidak"], "select_multiple", "select_multiple", None, id="multiple"),
])
def test_yes_no_lists_become_ynp(tmp_path, names, select, expected_type, allow_na):
    choices = [["list_name", "name", "label"], *[["l", name, name] for name in names]]
    item = imported(tmp_path, [HEADER, [f"{select} l", "pagar", "Pagar", "Fence"]],
                    choices).checklist.item("pagar")
    assert item.type == expected_type
    if allow_na is not None:
        assert item.allow_na is allow_na and item.choices == ()


def test_weight_and_critical_columns(tmp_path):
    item = imported(tmp_path, [[*HEADER, "weight", "critical"],
                               ["select_one ya_tidak", "pagar", "Pagar", "Fence", "2", "yes"]],
                    YA_TIDAK).checklist.item("pagar")
    assert (item.weight, item.critical) == (2, True)


@pytest.mark.parametrize("relevant, constraint, expected_relevant, expected_constraint", [
    pytest.param("${pagar} = 'yes'", None, "${pagar} = 'ya'", None, id="comparison"),
    pytest.param("'no' != ${pagar}", None, "'tidak' != ${pagar}", None, id="literal first"),
    pytest.param("selected(${pagar}, \"no\")", None, "selected(${pagar}, \"tidak\")", None,
                 id="selected()"),
    pytest.param(None, ". != 'no' or ${n} > 1", None, ". != 'no' or ${n} > 1",
                 id="'.' of another item is not translated"),
])
def test_literals_compared_with_a_ynp_item_are_translated(tmp_path, relevant, constraint,
                                                           expected_relevant, expected_constraint):
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
    result = imported(tmp_path, [
        [*HEADER, "relevant", "constraint", "constraint_message"],
        ["select_one yn", "pagar", "Pagar", "Fence"],
        ["integer", "n", "N", "N", relevant, constraint, "Salah" if constraint else None],
    ], choices)
    item = result.checklist.item("n")
    assert (item.relevant and item.relevant.text) == expected_relevant
    assert (item.constraint and item.constraint.text) == expected_constraint


def test_own_constraint_of_a_ynp_item_is_translated(tmp_path):
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
    item = imported(tmp_path, [[*HEADER, "constraint", "constraint_message"],
                               ["select_one yn", "pagar", "Pagar", "Fence", ". != 'no'", "Wajib"]],
                    choices).checklist.item("pagar")
    assert item.constraint.text == ". != 'tidak'"


def test_relevance_constraint_and_messages_in_both_languages(tmp_path):
    result = imported(tmp_path, [
        [*HEADER, "relevant", "constraint", "constraint_message::Indonesian (id)",
         "constraint_message::English (en)", "required"],
        ["select_one ya_tidak", "ada_pagar", "Ada pagar?", "Is there a fence?", None, None, None,
         None, "yes"],
        ["integer", "tinggi", "Tinggi", "Height", "${ada_pagar} = 'ya'", ". >= 0 and . <= 500",
         "Antara 0 dan 500", "Between 0 and 500", "TRUE()"],
        ["decimal", "lebar", "Lebar", "Width", None, ". > 0", None, None, "no"],
    ], YA_TIDAK)
    height, width = result.checklist.item("tinggi"), result.checklist.item("lebar")
    assert height.relevant.text == "${ada_pagar} = 'ya'"
    assert height.constraint.text == ". >= 0 and . <= 500"
    assert (height.constraint_message.id, height.constraint_message.en) == (
        "Antara 0 dan 500", "Between 0 and 500")
    assert height.required and result.checklist.item("ada_pagar").required and not width.required
    assert width.constraint_message.en == "The answer does not meet the constraint."
    assert any("generic message" in w and "row 4" in w for w in result.warnings)


def test_group_relevance_is_anded_into_its_questions(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "relevant"],
        ["select_one ya_tidak", "ada", "Ada?", "Any?"],
        ["begin group", "alat", "Alat", "Equipment", "${ada} = 'ya'"],
        ["integer", "jumlah", "Jumlah", "Count"],
        ["text", "catatan", "Catatan", "Notes", "${jumlah} > 0"],
        ["end group"],
    ], YA_TIDAK).checklist
    assert checklist.item("jumlah").relevant.text == "${ada} = 'ya'"
    assert checklist.item("catatan").relevant.text == "(${ada} = 'ya') and (${jumlah} > 0)"


@pytest.mark.parametrize("value, expected", [
    ("yes", True), ("TRUE", True), ("true()", True), ("1", True), ("Yes", True),
    ("no", False), ("FALSE", False), ("false()", False),
])
def test_required_values(tmp_path, value, expected):
    item = imported(tmp_path, [[*HEADER, "required"], ["text", "a", "A", "A", value]]).checklist.item("a")
    assert item.required is expected


def test_metadata_is_ignored_silently_and_notes_with_a_warning(tmp_path):
    result = imported(tmp_path, [HEADER, ["start", "start"], ["end", "end"], ["today", "today"],
                                 ["deviceid", "deviceid"], ["audit", "audit"],
                                 ["note", "intro", "Halo", "Hello"], ["text", "a", "A", "A"]])
    assert [item.id for item in result.checklist.items] == ["a"]
    assert [w for w in result.warnings if "survey" in w] == ["survey: notes are not imported (row 7)"]


def test_upper_case_names_are_lower_cased_with_their_references(tmp_path):
    result = imported(tmp_path, [[*HEADER, "relevant"], ["integer", "Jumlah", "Jumlah", "Count"],
                                 ["text", "catatan", "Catatan", "Notes", "${Jumlah} > 0"]])
    assert result.checklist.item("catatan").relevant.text == "${jumlah} > 0"
    assert any("lower-cased" in w for w in result.warnings)


def test_presentation_columns_are_ignored_with_a_warning(tmp_path):
    result = imported(tmp_path, [[*HEADER, "appearance", "my_notes"],
                                 ["text", "a", "A", "A", "multiline", "for the team"]])
    assert "survey: column 'appearance' only affects how a form looks and is ignored (row 2)" in result.warnings
    assert "survey: column 'my_notes' is not an XLSForm column and is ignored (row 2)" in result.warnings


def test_import_round_trips_through_yaml(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "relevant"], ["select_one ya_tidak", "ada", "Ada?", "Any?"],
        ["begin group", "alat", "Alat", "Equipment", "${ada} = 'ya'"], ["geopoint", "titik", "Titik", "Point"],
        ["end group"]], YA_TIDAK).checklist
    assert load_checklist_text(dump_checklist_yaml(checklist)) == checklist


# --- What is refused -------------------------------------------------------------------------

CHOICES = [["list_name", "name", "label"], ["bahan", "beton", "Beton"], ["bahan", "kayu", "Kayu"],
           ["bahan", "batu bata", "Batu bata"]]


@pytest.mark.parametrize("rows, code, sheet, row, fragment", [
    pytest.param([HEADER, ["text", "a", "A", "A"], ["begin repeat", "pohon", "Pohon", "Trees"],
                  ["integer", "b", "B", "B"], ["end repeat"]],
                 "xlsform.unsupported_type", "survey", 3, "'begin repeat' is not supported (repeats)",
                 id="repeat"),
    pytest.param([HEADER, ["begin_loop over bahan", "l"], ["end loop"]],
                 "xlsform.unsupported_type", "survey", 2, "(loops)", id="loop"),
    pytest.param([[*HEADER, "calculation"], ["integer", "a", "A", "A"], ["calculate", "dua", None, None, "2"]],
                 "xlsform.unsupported_type", "survey", 3, "'calculate' is not supported (calculations)",
                 id="calculate"),
    pytest.param([HEADER, ["range", "r", "R", "R"]], "xlsform.unsupported_type", "survey", 2,
                 "'range'", id="range"),
    pytest.param([HEADER, ["audio", "r", "R", "R"]], "xlsform.unsupported_type", "survey", 2,
                 "'audio'", id="audio"),
    pytest.param([HEADER, ["select_one_from_file kota.csv", "k", "K", "K"]],
                 "xlsform.unsupported_type", "survey", 2, "choices from a file", id="from file"),
    pytest.param([HEADER, ["select_one bahan or_other", "k", "K", "K"]],
                 "xlsform.unsupported_type", "survey", 2, "or_other", id="or_other"),
    pytest.param([[*HEADER, "choice_filter"], ["select_one bahan", "k", "K", "K", "name != 'kayu'"]],
                 "xlsform.unsupported_column", "survey", 2, "column 'choice_filter'", id="choice_filter"),
    pytest.param([[*HEADER, "default"], ["text", "a", "A", "A"], ["integer", "k", "K", "K", "3"]],
                 "xlsform.unsupported_column", "survey", 3, "column 'default'", id="default"),
    pytest.param([[*HEADER, "relevant"], ["text", "a", "A", "A"],
                  ["text", "b", "B", "B", "pulldata('kota', 'nama', 'id', ${a}) = 'x'"]],
                 "xlsform.bad_expression", "survey", 3, "unknown function pulldata()",
                 id="pulldata in relevance"),
    pytest.param([[*HEADER, "constraint"], ["text", "a", "A", "A", "jr:choice-name(., 'x') != ''"]],
                 "xlsform.bad_expression", "survey", 2, "constraint", id="jr:choice-name"),
    pytest.param([HEADER, ["text", "a", "A", "A"], ["begin group", "g", "G", "G"], ["text", "b", "B", "B"]],
                 "xlsform.unclosed_group", "survey", 3, "group 'g' is never closed", id="unclosed group"),
    pytest.param([HEADER, ["text", "a", "A", "A"], ["end group"]],
                 "xlsform.unexpected_end", "survey", 3, "'end group'", id="end without begin"),
    pytest.param([HEADER, ["select_one warna", "w", "W", "W"]],
                 "xlsform.missing_choices", "survey", 2, "'warna'", id="select with a missing list"),
    pytest.param([HEADER, ["text", "label-test", "A", "A"]],
                 "xlsform.bad_name", "survey", 2, "'label-test'", id="bad name"),
    pytest.param([HEADER, ["text", None, "A", "A"]], "xlsform.bad_name", "survey", 2, "no name",
                 id="no name"),
    pytest.param([HEADER, ["text", "a"]], "xlsform.missing_label", "survey", 2, "no label",
                 id="no label"),
    pytest.param([HEADER, ["text", "a", "A", "A"], ["integer", "a", "B", "B"]],
                 "xlsform.duplicate_id", "survey", 3, "'a' is used twice", id="duplicate name"),
    pytest.param([[*HEADER, "relevant"], ["text", "a", "A", "A", "${b} = 'x'"]],
                 "xlsform.unknown_reference", "survey", 2, "${b}", id="unknown reference"),
    pytest.param([[*HEADER, "relevant"], ["note", "n", "N", "N"], ["text", "a", "A", "A", "${n} = 'x'"]],
                 "xlsform.unknown_reference", "survey", 3, "row 2 is a 'note' row", id="reference to a note"),
    pytest.param([[*HEADER, "relevant"], ["text", "a", "A", "A", ". = 'x'"]],
                 "xlsform.bad_expression", "survey", 2, "relevant", id="'.' in relevant"),
    pytest.param([[*HEADER, "required"], ["text", "a", "A", "A"], ["text", "b", "B", "B", "${a} = 'x'"]],
                 "xlsform.bad_value", "survey", 3, "required must be yes or no", id="conditional required"),
    pytest.param([[*HEADER, "weight"], ["text", "a", "A", "A", "2"]],
                 "xlsform.field_not_allowed", "survey", 2, "weight", id="weight on a text item"),
    pytest.param([HEADER, ["select_one bahan", "b", "B", "B"]],
                 "xlsform.bad_choices", "choices", 4, "'batu bata'", id="bad choice value"),
    pytest.param([HEADER, ["begin group", "g", "G", "G"], ["note", "n", "N", "N"], ["end group"]],
                 "xlsform.no_questions", "survey", None, "no questions", id="nothing to import"),
    pytest.param([["name", "label"], ["a", "A"]], "xlsform.bad_header", "survey", 1, "type",
                 id="no type column"),
])
def test_unsupported_constructs_are_refused_with_sheet_and_row(tmp_path, rows, code, sheet, row,
                                                                 fragment):
    error = refused(tmp_path, rows, CHOICES)
    assert (error.code, error.sheet, error.row) == (code, sheet, row)
    assert fragment in str(error)
    if row is not None:
        assert str(error).startswith(f"{sheet} row {row}: ")
        assert error.indonesian().startswith(f"{sheet} baris {row}: ")
    assert error.message_id and error.construct


def test_entities_sheet_is_refused(tmp_path):
    path = write_form(tmp_path, [HEADER, ["text", "a", "A", "A"]])
    book = openpyxl.load_workbook(path)
    sheet = book.create_sheet("entities")
    sheet.append(["list_name", "label"])
    sheet.append(["pohon", "${a}"])
    book.save(path)
    with pytest.raises(XLSFormError) as caught:
        import_xlsform(path)
    assert (caught.value.code, caught.value.sheet, caught.value.row) == (
        "xlsform.unsupported_sheet", "entities", 2)


def test_repeat_message_reads_like_the_spreadsheet(tmp_path):
    error = refused(tmp_path, [HEADER, *[["text", f"q{n}", "Q", "Q"] for n in range(5)],
                               ["begin repeat", "pohon", "Pohon", "Trees"], ["end repeat"]])
    assert str(error) == ("survey row 7: 'begin repeat' is not supported (repeats) "
                          "[xlsform.unsupported_type]")
    assert error.construct == "begin repeat"
    assert error.indonesian() == "survey baris 7: 'begin repeat' tidak didukung (pengulangan)"


def test_ambiguous_ynp_literal_is_refused(tmp_path):
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
    error = refused(tmp_path, [[*HEADER, "relevant"], ["select_one yn", "pagar", "P", "P"],
                               ["text", "a", "A", "A", "coalesce(${pagar}, 'no') = 'yes'"]], choices)
    assert (error.code, error.row) == ("xlsform.bad_expression", 3)
    assert "cannot be translated" in str(error)


@pytest.mark.parametrize("settings_rows, arguments, code, row, fragment", [
    pytest.param([["form_id"], ["Spec test"]], {}, "xlsform.bad_name", 2, "form_id 'Spec test'",
                 id="bad form_id"),
    pytest.param([["form_id", "version"], ["x", "2022-04-11 16:26"]], {}, "xlsform.bad_version", 2,
                 "version '2022-04-11 16:26'", id="version not a whole number"),
    pytest.param([["form_id", "version"], ["x", "0"]], {}, "xlsform.bad_version", 2, "version '0'",
                 id="version 0"),
    pytest.param([["form_title"], ["Tanpa id"]], {}, None, None, None, id="file name as id"),
    pytest.param([["form_id"], ["x"]], {"checklist_id": "Bad-Id"}, "xlsform.bad_name", None,
                 "'Bad-Id'", id="bad id argument"),
])
def test_settings_errors(tmp_path, settings_rows, arguments, code, row, fragment):
    rows = [HEADER, ["text", "a", "A", "A"]]
    if code is None:
        assert imported(tmp_path, rows, settings_rows=settings_rows, **arguments).checklist.id == "form"
        return
    error = refused(tmp_path, rows, settings_rows=settings_rows, **arguments)
    assert (error.code, error.row) == (code, row) and fragment in str(error)


def test_version_argument_rescues_a_date_version(tmp_path):
    result = imported(tmp_path, [HEADER, ["text", "a", "A", "A"]],
                      settings_rows=[["form_id", "version"], ["x", "2022-04-11 16:26"]], version=3)
    assert result.checklist.version == 3


def test_file_name_that_is_not_an_id_needs_form_id(tmp_path):
    path = write_form(tmp_path, [HEADER, ["text", "a", "A", "A"]], settings_rows=None,
                      name="my-form.xlsx")
    with pytest.raises(XLSFormError) as caught:
        import_xlsform(path)
    assert caught.value.code == "xlsform.no_settings_id" and "'my-form'" in str(caught.value)
    assert import_xlsform(path, checklist_id="my_form").checklist.id == "my_form"


@pytest.mark.parametrize("name, content", [
    ("missing.xlsx", None), ("broken.xlsx", b"not a zip file"), ("form.csv", b"type,name\n"),
])
def test_unreadable_files(tmp_path, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(XLSFormError) as caught:
        import_xlsform(path)
    assert caught.value.code == "xlsform.unreadable"


# --- The shared corpus of real workbooks -----------------------------------------------------

# file -> (code, sheet, row) of the refusal, or None when it imports
EXPECTED = {
    "yes_or_no_question.xlsx": None,
    "text_and_integer.xlsx": None,
    "loop.xlsx": ("xlsform.unsupported_type", "survey", 2),  # 'or specify other' precedes the loop
    "specify_other.xlsx": ("xlsform.unsupported_type", "survey", 2),
    "xlsform_spec_test.xlsx": ("xlsform.unsupported_type", "survey", 15),  # begin repeat
    "UCL_Biomass_Plot_Form.xlsx": ("xlsform.unsupported_type", "survey", 16),  # select_one_from_file
    "case_insensitivity.xlsx": ("xlsform.unsupported_type", "survey", 3),  # select_one_external
    "choice_filter_test.xlsx": ("xlsform.unsupported_column", "survey", 3),
    "group.xlsx": ("xlsform.unsupported_type", "survey", 4),  # 'phone number'
    "field-list.xlsx": ("xlsform.no_settings_id", "settings", None),
}


@pytest.mark.shared_data
def test_shared_workbooks_are_present():
    require(bool(SHARED_FILES), f"the XLSForm corpus is missing: {SHARED_FORMS} (../shared/data/xlsform)")
    assert set(EXPECTED) <= {path.name for path in SHARED_FILES}


@pytest.mark.shared_data
@pytest.mark.parametrize("path", SHARED_FILES, ids=lambda path: path.name)
def test_shared_workbook_imports_or_is_refused_cleanly(path):
    try:
        result = import_xlsform(path)
    except XLSFormError as error:
        outcome = (error.code, error.sheet, error.row)
        assert error.message and error.message_id and error.construct
    else:
        outcome = None
        assert load_checklist_text(dump_checklist_yaml(result.checklist)) == result.checklist
    if path.name in EXPECTED:
        assert outcome == EXPECTED[path.name]


@pytest.mark.shared_data
def test_shared_yes_or_no_question_becomes_a_ynp_item():
    path = SHARED_FORMS / "yes_or_no_question.xlsx"
    require(path.is_file(), f"{path} is missing")
    checklist = import_xlsform(path).checklist
    item = checklist.item("good_day")
    assert (checklist.key, item.type, item.allow_na) == ("yes_or_no_question@1", "ynp", False)
    assert item.label.en == "have you had a good day today?"


@pytest.mark.shared_data
def test_shared_spec_test_names_the_repeat():
    path = SHARED_FORMS / "xlsform_spec_test.xlsx"
    require(path.is_file(), f"{path} is missing")
    with pytest.raises(XLSFormError, match=r"^survey row 15: 'begin repeat' is not supported \(repeats\)"):
        import_xlsform(path)
