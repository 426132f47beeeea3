"""XLSForm import, construct by construct: workbooks built with openpyxl, each mapped or refused by sheet and row.

The decisions tested here are the ones in survey/xlsform.py's docstring (and docs/xlsform.md).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from pyxform import aliases
from pyxform.question_type_dictionary import QUESTION_TYPE_DICT
from pyxform.xls2json import RE_SELECT

from survey.checklist import checklist_from_dict, checklist_to_dict, dump_checklist_yaml, load_checklist_text
from survey.xlsform import _MESSAGES_ID, ImportNote, ImportResult, XLSFormError, import_xlsform
from tests.support import ROOT, SHARED, require

SHARED_FORMS = SHARED / "data" / "xlsform"  # ../shared from the repository root
SHARED_FILES = sorted(SHARED_FORMS.glob("*.xls*")) if SHARED_FORMS.is_dir() else []

SETTINGS = [["form_id", "version", "form_title::Indonesian (id)", "form_title::English (en)"],
            ["audit_taman", "2", "Audit Taman", "Park audit"]]
HEADER = ["type", "name", "label::Indonesian (id)", "label::English (en)"]
YA_TIDAK = [["list_name", "name", "label"], ["ya_tidak", "ya", "Ya"], ["ya_tidak", "tidak", "Tidak"]]
YES_NO = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


def write_form(tmp_path: Path, survey_rows, choices_rows=None, settings_rows=SETTINGS, name: str = "form.xlsx",
               **sheets) -> Path:
    """A workbook with a header row then data rows per sheet; Excel row n is rows[n - 1]."""
    book = openpyxl.Workbook()
    book.active.title = "survey"
    for row in survey_rows:
        book["survey"].append(row)
    for title, rows in (("choices", choices_rows), ("settings", settings_rows), *sheets.items()):
        if rows is not None:
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def imported(tmp_path, survey_rows, choices_rows=None, settings_rows=SETTINGS, sheets=None,
             **kwargs) -> ImportResult:
    return import_xlsform(write_form(tmp_path, survey_rows, choices_rows, settings_rows, **(sheets or {})), **kwargs)


def refused(tmp_path, survey_rows, choices_rows=None, settings_rows=SETTINGS, sheets=None,
            **kwargs) -> XLSFormError:
    with pytest.raises(XLSFormError) as caught:
        imported(tmp_path, survey_rows, choices_rows, settings_rows, sheets, **kwargs)
    return caught.value


def round_trips(checklist) -> bool:
    """The checklist survives YAML and checklist_from_dict unchanged."""
    return (load_checklist_text(dump_checklist_yaml(checklist)) == checklist
            and checklist_from_dict(checklist_to_dict(checklist)) == checklist)


# --- Question types: every type and alias pyxform knows ----------------------------------------

# What each pyxform type name or alias becomes: an item type, or the reason it is refused. Every key of
# pyxform's QUESTION_TYPE_DICT and of its type aliases must be listed once (test_every_pyxform_type_is_decided),
# so a pyxform upgrade that adds a type fails here instead of importing it unseen.
TYPE_FAMILIES = {
    "text": ["text", "string", "q string", "add text prompt"],
    "text (barcode, typed in)": ["barcode", "q barcode", "add barcode prompt"],
    "text (digits only)": ["phone number"],
    "integer": ["integer", "int", "q int", "add integer prompt"],
    "integer (bounded)": ["percentage", "number of days in last month", "number of days in last six months",
                          "number of days in last year"],
    "integer (range 1-10)": ["range"],
    "decimal": ["decimal", "q decimal", "add decimal prompt"],
    "date": ["date", "q date", "add date prompt"],
    "time": ["time"],
    "datetime": ["datetime", "dateTime", "q dateTime", "q date time", "date time", "add dateTime prompt",
                 "add date time prompt"],
    "gps": ["geopoint", "gps", "location", "q geopoint", "q location", "add location prompt"],
    "photo": ["photo", "image", "q picture", "q image", "add image prompt", "add photo prompt"],
    "note": ["note", "q note", "add note prompt"],
    "acknowledge": ["acknowledge", "q acknowledge", "add acknowledge prompt"],
    "calculate": ["calculate", "q calculate", "add calculate prompt"],
    "hidden (now)": ["start", "end", "start time", "end time", "get start time", "get end time"],
    "hidden (today)": ["today", "get today"],
    "hidden": ["hidden", "deviceid", "device id", "get device id", "imei", "uri:deviceid", "subscriberid",
               "subscriber id", "get subscriber id", "uri:subscriberid", "simserial", "sim id", "get sim id",
               "uri:simserial", "phonenumber", "get phone number", "uri:phonenumber", "username", "uri:username",
               "email", "uri:email"],
    "select_one": ["select one", "add select one prompt using"],
    "select_multiple": ["select all that apply", "select all that apply from", "add select multiple prompt using"],
    "skipped (audit log)": ["audit"],
    "table (csv-external)": ["csv-external"],
    # pyxform parses these as `select one` of a list named by the last word ('external', 'using'); so do we.
    "select_one of a list named by the last word": ["select one external", "select one using"],
    "file (audio)": ["audio", "q audio", "add audio prompt"],
    "file (video)": ["video", "q video", "add video prompt"],
    "file (file)": ["file", "add file prompt"],
    "file (osm)": ["osm"],
    "hidden (never asked)": ["background-audio", "start-geopoint", "background-geopoint"],
    "refused: map lines and shapes": ["geotrace", "q geotrace", "geoshape", "q geoshape"],
    "refused: ranking": ["rank"],
    "refused: trigger": ["trigger"],
    "refused: external xml": ["xml-external"],
    # pyxform itself refuses these without a list ("'itemset' and 'list_name' must not both be None").
    "refused: select without a list": ["q select", "q select1", "select multiple using", "select multiple from"],
}
ALIASES = {alias: family for family, names in TYPE_FAMILIES.items() for alias in names}


def _type_cell(alias: str) -> str:
    """The type cell for an alias: a select command takes the list `yn`, as pyxform parses it."""
    return f"{alias} yn" if RE_SELECT.fullmatch(f"{alias} yn") else alias


def test_every_pyxform_type_is_decided():
    names = [alias for family in TYPE_FAMILIES.values() for alias in family]
    assert len(names) == len(set(names)), "an alias is listed twice"
    assert set(QUESTION_TYPE_DICT) | set(aliases._type_alias_map) == set(names)


@pytest.mark.parametrize("alias", sorted(ALIASES, key=str.lower), ids=str)
def test_pyxform_type_alias(tmp_path, alias):
    family = ALIASES[alias]
    rows = [[*HEADER, "calculation"], [_type_cell(alias), "q", "Q", "Q", "1" if family == "calculate" else None],
            ["text", "t", "T", "T"]]
    choices = [*YES_NO, ["external", "a", "A"], ["using", "b", "B"]]
    attachments = {"q.csv": b"kode,nilai\n1,satu\n"}
    if family.startswith("refused"):
        error = refused(tmp_path, rows, choices, attachments=attachments)
        assert (error.code, error.sheet, error.row, error.construct) == (
            "xlsform.unsupported_type", "survey", 2, _type_cell(alias))
        assert str(error).startswith(f"survey row 2: '{_type_cell(alias)}' is not supported (")
        assert error.indonesian().startswith(f"survey baris 2: '{_type_cell(alias)}' tidak didukung (")
        return
    checklist = imported(tmp_path, rows, choices, attachments=attachments).checklist
    ids = [item.id for item in checklist.items]
    if family == "skipped (audit log)":
        assert ids == ["t"]
        return
    if family == "table (csv-external)":
        assert ids == ["t"] and checklist.table("q") == ({"kode": "1", "nilai": "satu"},)
        return
    item = checklist.item("q")
    expected_type = family.split(" ")[0]
    assert item.type == expected_type
    if family == "select_one of a list named by the last word":
        assert item.choice_values == (("a",) if alias.endswith("external") else ("b",))
    elif expected_type.startswith("select"):
        assert item.choice_values == ("yes", "no")
    if expected_type == "file":
        assert item.accept == family.split("(")[1].rstrip(")")
    expected_default = {"hidden (now)": "now()", "hidden (today)": "today()"}.get(family)
    assert item.default == expected_default
    if family == "integer (bounded)":
        assert item.constraint.text.startswith("0 <= . and . <= ")
        assert (item.hint is not None) == ("hint" in QUESTION_TYPE_DICT[alias])  # pyxform's own hint
    elif family == "text (digits only)":
        assert item.constraint.text == r"regex(., '^\d*$')" and item.hint.en == "Enter numbers only."
    elif family == "integer (range 1-10)":
        assert (item.min, item.max) == (1, 10)
    else:
        assert item.constraint is None
    assert round_trips(checklist)


@pytest.mark.parametrize("type_cell, expected_type, choices", [
    pytest.param("select_one yn", "select_one", ("yes", "no"), id="select_one"),
    pytest.param("select1 yn", "select_one", ("yes", "no"), id="select1"),
    pytest.param("select one from yn", "select_one", ("yes", "no"), id="select one from"),
    pytest.param("select_multiple yn", "select_multiple", ("yes", "no"), id="select_multiple"),
    pytest.param("select_one yn or_other", "select_one", ("yes", "no", "other"), id="or_other"),
    pytest.param("select_one yn or specify other", "select_one", ("yes", "no", "other"), id="or specify other"),
    pytest.param("select_multiple yn or other", "select_multiple", ("yes", "no", "other"), id="or other"),
    pytest.param("select_one_external yn", "select_one", ("ext",), id="select_one_external"),
    pytest.param("select_one_from_file yn.csv", "select_one", ("f1", "f2"), id="select_one_from_file"),
    pytest.param("select one from file yn.csv", "select_one", ("f1", "f2"), id="select one from file"),
    pytest.param("select_multiple_from_file yn.csv", "select_multiple", ("f1", "f2"),
                 id="select_multiple_from_file"),
    pytest.param("select multiple from file yn.csv", "select_multiple", ("f1", "f2"),
                 id="select multiple from file"),
])
def test_select_commands(tmp_path, type_cell, expected_type, choices):
    result = imported(tmp_path, [HEADER, [type_cell, "q", "Q", "Q"]], YES_NO,
                      sheets={"external_choices": [["list_name", "name", "label"], ["yn", "ext", "Ext"]]},
                      attachments={"yn.csv": b"name,label\nf1,F1\nf2,F2\n"})
    item = result.checklist.item("q")
    assert (item.type, item.choice_values) == (expected_type, choices)
    assert round_trips(result.checklist)


@pytest.mark.parametrize("type_cell, code, fragment", [
    pytest.param("select_one", "xlsform.missing_choices", "'select_one' names no choice list", id="no list"),
    pytest.param("rank yn", "xlsform.unsupported_type", "ranking", id="rank"),
    pytest.param("begin_section", "xlsform.unsupported_type", "not an XLSForm type", id="begin of an unknown"),
    pytest.param("foo", "xlsform.unsupported_type", "'foo' is not supported (not an XLSForm type we know)",
                 id="unknown"),
    pytest.param("select_one nope", "xlsform.missing_choices", "'nope' is not in the choices sheet",
                 id="list not in choices"),
])
def test_type_cells_refused(tmp_path, type_cell, code, fragment):
    error = refused(tmp_path, [HEADER, ["text", "a", "A", "A"], [type_cell, "q", "Q", "Q"]], YES_NO)
    assert (error.code, error.sheet, error.row) == (code, "survey", 3)
    assert fragment in str(error)


# --- Calculations, hidden metadata, notes, inputs -----------------------------------------------


def test_calculate_is_stored_and_usable_in_relevance(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "calculation", "relevant"],
        ["integer", "panjang", "Panjang", "Length"],
        ["integer", "lebar", "Lebar", "Width"],
        ["calculate", "luas", None, None, "${panjang} * ${lebar}"],
        ["calculate", "luas_label", "Luas", "Area", "${luas}"],
        ["note", "info", "Luas ${luas} m2", "Area ${luas} m2", None, "${luas} > 0"],
    ]).checklist
    area = checklist.item("luas")
    assert (area.type, area.calculation.text, area.label.en, area.is_answerable) == (
        "calculate", "${panjang} * ${lebar}", "luas", False)
    assert checklist.item("luas_label").label.en == "Area"
    note = checklist.item("info")
    assert (note.type, note.label.en, note.relevant.text) == ("note", "Area ${luas} m2", "${luas} > 0")
    assert round_trips(checklist)


@pytest.mark.parametrize("type_cell, default, stored", [
    pytest.param("integer", "3", "3", id="a number"),
    pytest.param("date", "2022-03-14", "2022-03-14", id="a date: its '-' is no minus"),
    pytest.param("text", "f-4", "f-4", id="a name-like text"),
    pytest.param("text", "(https://peta.id)", "(https://peta.id)", id="brackets around a text that is no expression"),
    pytest.param("text", "Catat: (a)~!", "Catat: (a)~!", id="symbols"),
    pytest.param("date", "today()", "today()", id="a function"),
    pytest.param("integer", "${a} + 1", "${a} + 1", id="a reference"),
    pytest.param("integer", "7 - 4", "(7 - 4)", id="arithmetic: put in parentheses so the checklist evaluates it"),
    pytest.param("text", "5 div 5", "(5 div 5)", id="div, as pyxform reads it"),
])
def test_defaults_are_literals_or_expressions_as_pyxform_decides(tmp_path, type_cell, default, stored):
    checklist = imported(tmp_path, [[*HEADER, "default"], ["integer", "a", "A", "A"],
                                    [type_cell, "q", "Q", "Q", default]]).checklist
    assert checklist.item("q").default == stored


def test_a_calculate_with_only_a_default_is_set_once_from_it(tmp_path):
    # ODK sets such a calculate once when the form opens (random() to draw a sample): a hidden item with a default.
    checklist = imported(tmp_path, [[*HEADER, "calculation", "default"],
                                    ["calculate", "undian", None, None, None, "random()"],
                                    ["note", "n", "Nomor ${undian}", "Number ${undian}"]]).checklist
    drawn = checklist.item("undian")
    assert (drawn.type, drawn.default, drawn.calculation) == ("hidden", "random()", None)


@pytest.mark.parametrize("row, expected, warning", [
    pytest.param(["text", "q", None, None, "Tulis nama", None, None], ("text", "Tulis nama", None),
                 "a question without a label shows its hint as the label", id="hint stands as the label"),
    pytest.param(["text", "q", None, None, None, None, "foto.png"], ("text", "q", None),
                 "a question labelled only by an image or recording shows its name", id="image as label"),
    pytest.param(["integer", "q", None, None, None, "${a} + 1", None], ("calculate", "q", "${a} + 1"),
                 "a question with a calculation and no label or hint is not shown (as in ODK); it is a calculate",
                 id="calculation, no label or hint: no control, as pyxform draws it"),
    pytest.param(["text", "q", "Q", "Q", "Petunjuk", None, None], ("text", "Q", None), None, id="labelled"),
])
def test_questions_without_a_label(tmp_path, row, expected, warning):
    result = imported(tmp_path, [[*HEADER, "hint", "calculation", "media::image"], ["integer", "a", "A", "A"], row])
    item = result.checklist.item("q")
    assert (item.type, item.label.en, item.calculation and item.calculation.text) == expected
    assert (f"survey: {warning} (row 3)" in result.warnings) if warning else not any(
        "without a label" in line for line in result.warnings)


@pytest.mark.parametrize("type_cell, column, value, expected", [
    pytest.param("calculate", "calculation", None, "xlsform.missing_field", id="calculate without calculation"),
    pytest.param("text", "calculation", "${a} +", "xlsform.bad_expression", id="broken calculation"),
    pytest.param("calculate", "calculation", ". + 1", "xlsform.bad_expression", id="'.' in a calculation"),
    pytest.param("note", "constraint", ". > 1", "xlsform.field_not_allowed", id="constraint on a note"),
])
def test_computed_and_display_rows_refused(tmp_path, type_cell, column, value, expected):
    error = refused(tmp_path, [[*HEADER, column], ["integer", "a", "A", "A"], [type_cell, "q", "Q", "Q", value]])
    assert (error.code, error.sheet, error.row) == (expected, "survey", 3)


def test_columns_filled_down_over_groups_and_notes_are_ignored_with_a_warning(tmp_path):
    # Authors fill `required` down the whole sheet; pyxform accepts it on groups and notes, where it means nothing.
    result = imported(tmp_path, [
        [*HEADER, "required", "read_only"],
        ["begin group", "g", "G", "G", "yes", "no"],
        ["note", "n", "N", "N", "yes"],
        ["begin repeat", "r", "R", "R", "yes"],
        ["text", "t", "T", "T", "yes"],
        ["end repeat"],
        ["end group"],
    ])
    assert result.checklist.item("n").required is False and result.checklist.item("t").required is True
    assert "survey: column 'required' means nothing on a group or repeat row and is ignored (rows 2, 4)" in \
        result.warnings
    assert "survey: column 'read_only' means nothing on a group or repeat row and is ignored (row 2)" in \
        result.warnings
    assert "survey: required on a note is ignored (a note takes no answer) (row 3)" in result.warnings


def test_metadata_become_hidden_items_with_their_defaults(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "calculation", "default"],
        ["start", "start"], ["end", "end"], ["today", "today"], ["deviceid", "deviceid"], ["audit", "audit"],
        ["hidden", "kode", None, None, None, "K-01"],
        ["calculate", "hari", None, None, "${today}"],
        ["text", "a", "A", "A"],
    ]).checklist
    assert [(item.id, item.type, item.default) for item in checklist.items] == [
        ("start", "hidden", "now()"), ("end", "hidden", "now()"), ("today", "hidden", "today()"),
        ("deviceid", "hidden", None), ("kode", "hidden", "K-01"), ("hari", "calculate", None),
        ("a", "text", None)]
    assert all(not item.is_answerable for item in checklist.items[:6])


def test_note_without_label_takes_its_name_and_acknowledge_and_time_inputs(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "default"],
        ["note", "catatan"],
        ["acknowledge", "setuju", "Saya setuju", "I agree"],
        ["time", "jam", "Jam", "Time", "08:30"],
        ["datetime", "waktu", "Waktu", "When", "now()"],
        ["date", "tanggal", "Tanggal", "Date", "today()"],
    ]).checklist
    assert [(item.type, item.label.en, item.default) for item in checklist.items] == [
        ("note", "catatan", None), ("acknowledge", "I agree", None), ("time", "Time", "08:30"),
        ("datetime", "When", "now()"), ("date", "Date", "today()")]
    assert round_trips(checklist)


def test_barcode_and_range_warn_how_they_are_entered(tmp_path):
    result = imported(tmp_path, [
        [*HEADER, "parameters"],
        ["barcode", "kode", "Kode", "Code"],
        ["range", "skala", "Skala", "Scale", "start=0 end=5 step=1"],
        ["range", "suhu", "Suhu", "Temperature", "start=10;end=-5;step=0.5"],
    ])
    assert result.checklist.item("kode").type == "text"
    scale, temperature = result.checklist.item("skala"), result.checklist.item("suhu")
    assert (scale.type, scale.min, scale.max) == ("integer", 0, 5)
    assert (temperature.type, temperature.min, temperature.max) == ("decimal", -5.0, 10.0)
    assert "survey: a barcode is typed in as text (no scanner here) (row 2)" in result.warnings
    assert ("survey: a range question is entered as a number between its start and end (rows 3, 4)"
            in result.warnings)


@pytest.mark.parametrize("parameters, expected", [
    pytest.param("start=1,end=10,step=1", ("integer", 1, 10), id="commas"),
    pytest.param("start = 2 , end = 8 , step = 2", ("integer", 2, 8), id="spaces around = and ,"),
    pytest.param("Start=3 End=14 STEP=2", ("integer", 3, 14), id="any case"),
    pytest.param("start=0.5;end=5.0;step=0.5", ("decimal", 0.5, 5.0), id="semicolons, fractions"),
    pytest.param("end=20", ("integer", 1, 20), id="start and step from the default"),
])
def test_range_parameters_are_read_as_pyxform_reads_them(tmp_path, parameters, expected):
    item = imported(tmp_path, [[*HEADER, "parameters"], ["range", "r", "R", "R", parameters]]).checklist.item("r")
    assert (item.type, item.min, item.max) == expected


@pytest.mark.parametrize("parameters", ["start=a end=5", "start", "start=1 end=5 step"])
def test_range_with_bad_parameters_is_refused(tmp_path, parameters):
    error = refused(tmp_path, [[*HEADER, "parameters"], ["range", "r", "R", "R", parameters]])
    assert (error.code, error.row, error.construct) == ("xlsform.bad_value", 2, "parameters")


# --- Groups, repeats and loops ---------------------------------------------------------------


def test_nested_groups_are_sub_headings(tmp_path):
    result = imported(tmp_path, [
        [*HEADER, "relevant", "appearance"],
        ["text", "catatan", "Catatan", "Notes"],
        ["begin group", "lokasi", "Lokasi", "Location"],
        ["integer", "luas", "Luas", "Area"],
        ["begin group", "detail", "Detail", "Detail", "${luas} > 0", "field-list"],
        ["date", "tanggal", "Tanggal", "Date"],
        ["begin group", "lebih", None, None],
        ["text", "lain", "Lain", "Other"],
        ["end group"],
        ["end group"],
        ["end group"],
        ["decimal", "skor", "Skor", "Score"],
    ])
    checklist = result.checklist
    assert [(s.id, s.title.id, s.title.en) for s in checklist.sections] == [
        ("umum", "Umum", "General"), ("lokasi", "Lokasi", "Location")]
    assert [i.id for i in checklist.sections[0].items] == ["catatan", "skor"]
    assert [(i.id, i.path) for i in checklist.sections[1].items] == [
        ("luas", ()), ("tanggal", ("detail",)), ("lain", ("detail", "lebih"))]
    detail, more = checklist.container("detail"), checklist.container("lebih")
    assert (detail.type, detail.label.en, detail.relevant.text, detail.parent, detail.appearance) == (
        "group", "Detail", "${luas} > 0", None, "field-list")
    assert (more.type, more.label, more.parent) == ("group", None, "detail")
    assert checklist.item("tanggal").relevant is None  # the group's relevance stays on the group
    assert all(s.source == "XLSForm form.xlsx" for s in checklist.sections)
    assert round_trips(checklist)


def test_section_relevance_is_anded_into_what_it_holds(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "relevant"],
        ["select_one ya_tidak", "ada", "Ada?", "Any?"],
        ["begin group", "alat", "Alat", "Equipment", "${ada} = 'ya'"],
        ["integer", "jumlah", "Jumlah", "Count"],
        ["text", "catatan", "Catatan", "Notes", "${jumlah} > 0"],
        ["begin group", "rinci", "Rinci", "Detail"],
        ["text", "merk", "Merk", "Brand"],
        ["end group"],
        ["end group"],
    ], YA_TIDAK).checklist
    assert checklist.item("jumlah").relevant.text == "${ada} = 'ya'"
    assert checklist.item("catatan").relevant.text == "(${ada} = 'ya') and (${jumlah} > 0)"
    assert checklist.container("rinci").relevant.text == "${ada} = 'ya'"
    assert checklist.item("merk").relevant is None


REPEATS = [
    [*HEADER, "relevant", "repeat_count", "calculation"],
    ["begin group", "taman", "Taman", "Park"],
    ["select_one ya_tidak", "ada_alat", "Ada alat?", "Any equipment?"],
    ["integer", "jumlah_alat", "Jumlah alat", "Number of pieces"],
    ["begin repeat", "alat", "Alat", "Equipment", "${ada_alat} = 'ya'", "${jumlah_alat}"],
    ["text", "nama", "Nama", "Name"],
    ["image", "foto", "Foto", "Photo"],
    ["begin group", "kondisi", "Kondisi", "Condition"],
    ["integer", "baut", "Baut", "Bolts"],
    ["begin repeat", "baut_lepas", "Baut lepas", "Loose bolts"],
    ["text", "letak", "Letak", "Where"],
    ["end repeat"],
    ["end group"],
    ["end repeat"],
    ["calculate", "total", None, None, None, None, "count(${alat})"],
    ["end group"],
    ["begin repeat", "pohon", "Pohon", "Trees"],
    ["integer", "tinggi", "Tinggi", "Height"],
    ["end repeat"],
]


def test_repeats_with_count_relevance_nesting_and_a_top_level_repeat(tmp_path):
    checklist = imported(tmp_path, REPEATS, YA_TIDAK).checklist
    assert [s.id for s in checklist.sections] == ["taman", "pohon"]
    equipment, bolts, trees = (checklist.container(name) for name in ("alat", "baut_lepas", "pohon"))
    assert (equipment.type, equipment.count.text, equipment.relevant.text, equipment.label.en) == (
        "repeat", "${jumlah_alat}", "${ada_alat} = 'ya'", "Equipment")
    assert (bolts.type, bolts.parent, bolts.count) == ("repeat", "kondisi", None)
    assert checklist.container_path("baut_lepas") == ("alat", "kondisi", "baut_lepas")
    assert checklist.item("letak").path == ("alat", "kondisi", "baut_lepas")
    assert checklist.repeats_of(checklist.item("letak")) == ("alat", "baut_lepas")
    assert checklist.item("total").path == () and checklist.item("total").calculation.text == "count(${alat})"
    # A repeat outside groups is a section of its own, titled by the repeat, holding the repeat.
    assert checklist.sections[1].title.en == "Trees"
    assert (trees.parent, checklist.item("tinggi").path) == (None, ("pohon",))
    assert round_trips(checklist)


@pytest.mark.parametrize("rows, code, row, fragment", [
    pytest.param([HEADER, ["begin repeat", "r", "R", "R"], ["text", "a", "A", "A"], ["end group"]],
                 "xlsform.unexpected_end", 4, "'end group' where 'end repeat' was due", id="end group in a repeat"),
    pytest.param([HEADER, ["begin group", "g", "G", "G"], ["begin repeat", "r", "R", "R"], ["text", "a", "A", "A"],
                  ["end repeat"]], "xlsform.unclosed_group", 2, "group 'g' is never closed", id="unclosed"),
    pytest.param([[*HEADER, "repeat_count"], ["begin group", "g", "G", "G", "3"], ["text", "a", "A", "A"],
                  ["end group"]], "xlsform.unsupported_column", 2, "repeat_count is only for repeats",
                 id="repeat_count on a group"),
    pytest.param([[*HEADER, "repeat_count"], ["begin repeat", "r", "R", "R", "${r} +"], ["text", "a", "A", "A"],
                  ["end repeat"]], "xlsform.bad_expression", 2, "repeat_count", id="broken count"),
    pytest.param([HEADER, ["begin repeat", "a", "A", "A"], ["begin repeat", "b", "B", "B"],
                  ["begin repeat", "c", "C", "C"], ["begin repeat", "d", "D", "D"], ["text", "x", "X", "X"],
                  ["end repeat"], ["end repeat"], ["end repeat"], ["end repeat"]],
                 "xlsform.bad_value", 5, "repeats nest at most 3 deep", id="four repeats deep"),
])
def test_repeat_structure_refused(tmp_path, rows, code, row, fragment):
    error = refused(tmp_path, rows)
    assert (error.code, error.sheet, error.row) == (code, "survey", row)
    assert fragment in str(error)


def test_empty_groups_and_repeats_are_dropped_with_a_warning(tmp_path):
    result = imported(tmp_path, [HEADER, ["begin group", "g", "G", "G"], ["begin repeat", "r", "R", "R"],
                                 ["end repeat"], ["text", "a", "A", "A"], ["end group"],
                                 ["begin group", "kosong", "K", "K"], ["end group"]])
    assert [c.id for c in result.checklist.containers] == []
    assert "survey: a group or repeat without questions is dropped (row 3)" in result.warnings
    assert "survey: a group without questions to import is dropped (row 7)" in result.warnings


LOOP_CHOICES = [["list_name", "name", "label::id", "label::en"],
                ["alat", "ayunan", "Ayunan", "Swing"], ["alat", "perosotan", "Perosotan", "Slide"]]


def test_loop_is_expanded_one_group_per_choice(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "relevant"],
        ["integer", "n", "N", "N"],
        ["begin loop over alat", "cek", "Cek", "Check", "${n} > 0"],
        ["select_one ya_tidak", "aman", "%(label)s aman?", "Is the %(label)s safe?"],
        ["text", "catatan", "Catatan %(label)s", "Notes on %(label)s"],
        ["end loop"],
    ], [*LOOP_CHOICES, ["ya_tidak", "ya", "Ya", "Yes"], ["ya_tidak", "tidak", "Tidak", "No"]]).checklist
    assert [(c.id, c.label.en, c.relevant.text) for c in checklist.containers] == [
        ("cek_ayunan", "Swing", "${n} > 0"), ("cek_perosotan", "Slide", "${n} > 0")]
    assert [(i.id, i.label.id, i.label.en, i.path) for i in checklist.items[1:]] == [
        ("aman_ayunan", "Ayunan aman?", "Is the Swing safe?", ("cek_ayunan",)),
        ("catatan_ayunan", "Catatan Ayunan", "Notes on Swing", ("cek_ayunan",)),
        ("aman_perosotan", "Perosotan aman?", "Is the Slide safe?", ("cek_perosotan",)),
        ("catatan_perosotan", "Catatan Perosotan", "Notes on Slide", ("cek_perosotan",))]
    assert round_trips(checklist)


def test_references_inside_a_loop_name_the_same_choice_copy(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "relevant", "scored"],
        ["begin loop over alat", "cek", "Cek", "Check"],
        ["select_one yn", "Ada-Alat", "Ada %(label)s?", "Is there a %(label)s?", None, "yes"],
        ["select_one bahan or_other", "bahan", "Bahan", "Material", "${Ada-Alat} = 'yes'"],
        ["note", "info", "Bahan: ${bahan}", "Material: ${bahan}"],
        ["end loop"],
    ], [*LOOP_CHOICES, ["yn", "yes", "Yes", "Yes"], ["yn", "no", "No", "No"], ["bahan", "kayu", "Kayu", "Wood"]]
    ).checklist
    assert checklist.item("ada_alat_ayunan").type == "ynp"
    material = checklist.item("bahan_perosotan")
    assert material.relevant.text == "${ada_alat_perosotan} = 'ya'"  # the copy's own scored item, translated
    assert checklist.item("bahan_other_perosotan").relevant.text == "selected(${bahan_perosotan}, 'other')"
    assert checklist.item("info_ayunan").label.en == "Material: ${bahan_ayunan}"
    assert round_trips(checklist)


def test_loop_over_a_missing_list_is_refused(tmp_path):
    error = refused(tmp_path, [HEADER, ["begin loop over nope", "l", "L", "L"], ["text", "a", "A", "A"],
                               ["end loop"]], YA_TIDAK)
    assert (error.code, error.row) == ("xlsform.missing_choices", 2)


# --- Choices: filters, or_other, files, external, pulldata ------------------------------------


CASCADE_CHOICES = [["list_name", "name", "label", "prov"],
                   ["prov", "jabar", "Jawa Barat", None], ["prov", "jatim", "Jawa Timur", None],
                   ["kab", "bogor", "Bogor", "jabar"], ["kab", "bandung", "Bandung", "jabar"],
                   ["kab", "malang", "Malang", "jatim"]]


def test_choice_filter_keeps_the_choice_columns(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "choice_filter"],
        ["select_one prov", "provinsi", "Provinsi", "Province"],
        ["select_one kab", "kabupaten", "Kabupaten", "Regency", "prov = ${provinsi}"],
    ], CASCADE_CHOICES).checklist
    regency = checklist.item("kabupaten")
    assert regency.choice_filter.text == "prov = ${provinsi}"
    assert [(c.value, c.column("prov")) for c in regency.choices] == [
        ("bogor", "jabar"), ("bandung", "jabar"), ("malang", "jatim")]
    assert checklist.item("provinsi").choices[0].columns == ()  # an empty cell is no column
    assert round_trips(checklist)


def test_duplicate_choice_names_are_allowed_only_under_a_filter(tmp_path):
    choices = [["list_name", "name", "label", "prov"], ["kab", "kota", "Kota A", "a"], ["kab", "kota", "Kota B", "b"]]
    rows = [[*HEADER, "choice_filter"], ["text", "p", "P", "P"], ["select_one kab", "k", "K", "K", "prov = ${p}"]]
    result = imported(tmp_path, rows, choices)
    assert [(c.value, c.label.en) for c in result.checklist.item("k").choices] == [("kota", "Kota A")]
    # Choice values are unique in a checklist, so the second row is lost: said, not hidden.
    assert ("choices: a choice name used twice in a filtered list keeps only its first row (row 3)"
            in result.warnings)
    error = refused(tmp_path, [HEADER, ["select_one kab", "k", "K", "K"]], choices)
    assert (error.code, error.sheet, error.row) == ("xlsform.bad_choices", "choices", 3)


@pytest.mark.parametrize("setting, kept", [
    pytest.param("yes", [("a", "A"), ("b", "B")], id="allowed: the first row of a name is kept"),
    pytest.param("TRUE", [("a", "A"), ("b", "B")], id="allowed, any spelling of yes"),
    pytest.param("no", None, id="not allowed"),
    pytest.param("Bob", None, id="not a yes"),
])
def test_allow_choice_duplicates_setting(tmp_path, setting, kept):
    # pyxform accepts a name used twice in a list under this setting; an answer names one choice, so one row stays.
    rows = [HEADER, ["select_one l", "s", "S", "S"]]
    choices = [["list_name", "name", "label"], ["l", "a", "A"], ["l", "b", "B"], ["l", "b", "C"]]
    settings = [["form_id", "allow_choice_duplicates"], ["x", setting]]
    if kept is None:
        error = refused(tmp_path, rows, choices, settings)
        assert (error.code, error.sheet, error.row) == ("xlsform.bad_choices", "choices", 4)
        return
    result = imported(tmp_path, rows, choices, settings)
    assert [(c.value, c.label.en) for c in result.checklist.item("s").choices] == kept
    assert ("choices: a choice name used twice in a list (allow_choice_duplicates) keeps only its first row (row 4)"
            in result.warnings)


def test_or_other_adds_the_choice_and_a_text_shown_for_it(tmp_path):
    checklist = imported(tmp_path, [[*HEADER, "required"],
                                    ["select_one bahan or_other", "lantai", "Lantai", "Floor", "yes"],
                                    ["text", "catatan", "Catatan", "Notes"]],
                         [["list_name", "name", "label"], ["bahan", "beton", "Beton"], ["bahan", "kayu", "Kayu"]]
                         ).checklist
    floor, other = checklist.item("lantai"), checklist.item("lantai_other")
    assert floor.choice_values == ("beton", "kayu", "other")
    assert (floor.choices[-1].label.id, floor.choices[-1].label.en) == ("Lainnya", "Other")
    assert [item.id for item in checklist.items] == ["lantai", "lantai_other", "catatan"]
    assert (other.type, other.relevant.text, other.label.en) == ("text", "selected(${lantai}, 'other')",
                                                                  "Specify other")


def test_or_other_keeps_a_list_own_other(tmp_path):
    choices = [["list_name", "name", "label"], ["l", "a", "A"], ["l", "other", "Yang lain"]]
    item = imported(tmp_path, [HEADER, ["select_one l or_other", "q", "Q", "Q"]], choices).checklist.item("q")
    assert [(c.value, c.label.id) for c in item.choices] == [("a", "A"), ("other", "Yang lain")]


def test_or_other_on_a_scored_question_is_refused(tmp_path):
    error = refused(tmp_path, [[*HEADER, "scored"], ["select_one ya_tidak or_other", "q", "Q", "Q", "yes"]],
                    YA_TIDAK)
    assert (error.code, error.row, error.construct) == ("xlsform.not_yes_no", 2, "or_other")


def test_or_other_name_taken_is_refused(tmp_path):
    error = refused(tmp_path, [HEADER, ["text", "lantai_other", "L", "L"],
                               ["select_one yn or_other", "lantai", "Lantai", "Floor"]], YES_NO)
    assert (error.code, error.row) == ("xlsform.duplicate_id", 3)


KOTA_CSV = "name,label::Indonesian (id),label::English (en),prov\nbogor,Kota Bogor,Bogor City,jabar\n" \
           "malang,Kota Malang,Malang City,jatim\n"



TAMAN_CSV = b"kode,nama_id,nama_en,kec\nt1,Taman Satu,Park One,cilandak\nt2,Taman Dua,Park Two,tebet\n"


@pytest.mark.parametrize("appearance, choice_filter", [
    pytest.param("search('taman')", None, id="the CSV's rows after the list's own"),
    pytest.param("minimal search('taman', 'matches', 'kec', 'tebet')", "kec = 'tebet'", id="matches: a filter"),
    pytest.param("search(\"taman\", 'startswith', 'kode', ${cari})", "starts-with(kode, ${cari})",
                 id="startswith a question's answer"),
])
def test_search_appearance_takes_the_choices_from_the_csv(tmp_path, appearance, choice_filter):
    # ODK Collect's search(): the list's first row names the CSV columns of value and label; other rows are
    # offered too. Without this the select would offer only that placeholder row.
    choices = [["list_name", "name", "label::Indonesian (id)", "label::English (en)"],
               ["taman", "kode", "nama_id", "nama_en"], ["taman", "lain", "Lainnya", "Other"]]
    result = imported(tmp_path, [[*HEADER, "appearance", "default"], ["text", "cari", "Cari", "Search", None, "t1"],
                                 ["select_one taman", "t", "Taman", "Park", appearance]],
                      choices, attachments={"taman.csv": TAMAN_CSV})
    park = result.checklist.item("t")
    assert [(c.value, c.label.id, c.label.en, c.column("kec")) for c in park.choices] == [
        ("lain", "Lainnya", "Other", ""), ("t1", "Taman Satu", "Park One", "cilandak"),
        ("t2", "Taman Dua", "Park Two", "tebet")]
    assert (park.choice_filter and park.choice_filter.text) == choice_filter
    assert park.appearance in (None, "minimal")
    assert round_trips(result.checklist)


def test_search_appearance_needs_its_csv(tmp_path):
    error = refused(tmp_path, [[*HEADER, "appearance"], ["select_one taman", "t", "Taman", "Park", "search('taman')"]],
                    [["list_name", "name", "label"], ["taman", "kode", "nama"]])
    assert (error.code, error.row, error.construct) == ("xlsform.missing_attachment", 2, "taman.csv")


@pytest.mark.parametrize("as_path", [False, True], ids=["bytes", "path"])
def test_select_from_file_takes_choices_and_columns_from_the_csv(tmp_path, as_path):
    csv_file = tmp_path / "kota.csv"
    csv_file.write_text(KOTA_CSV, encoding="utf-8")
    checklist = imported(tmp_path, [
        [*HEADER, "choice_filter"],
        ["text", "prov", "Provinsi", "Province"],
        ["select_one_from_file kota.csv", "kota", "Kota", "City", "prov = ${prov}"],
        ["select_multiple_from_file kota.csv", "kota_lain", "Kota lain", "Other cities"],
    ], attachments={"kota.csv": csv_file if as_path else KOTA_CSV.encode()}).checklist
    city = checklist.item("kota")
    assert [(c.value, c.label.id, c.label.en, c.column("prov")) for c in city.choices] == [
        ("bogor", "Kota Bogor", "Bogor City", "jabar"), ("malang", "Kota Malang", "Malang City", "jatim")]
    assert checklist.item("kota_lain").type == "select_multiple"
    assert round_trips(checklist)


@pytest.mark.parametrize("rows, attachments, code, construct", [
    pytest.param([HEADER, ["select_one_from_file kota.csv", "k", "K", "K"]], {}, "xlsform.missing_attachment",
                 "kota.csv", id="select from a missing file"),
    pytest.param([[*HEADER, "calculation"], ["calculate", "h", None, None, "pulldata('harga', 'n', 'k', '1')"]], {},
                 "xlsform.missing_attachment", "pulldata()", id="pulldata of a missing table"),
    pytest.param([HEADER, ["csv-external", "harga"]], {}, "xlsform.missing_attachment", "csv-external",
                 id="csv-external missing"),
    pytest.param([HEADER, ["select_one_from_file kota.xml", "k", "K", "K"]], {"kota.xml": b"<x/>"},
                 "xlsform.bad_attachment", "kota.xml", id="not a CSV"),
    pytest.param([HEADER, ["select_one_from_file kota.csv", "k", "K", "K"]], {"kota.csv": b"kode,label\n1,A\n"},
                 "xlsform.bad_attachment", "kota.csv", id="CSV without a name column"),
    pytest.param([HEADER, ["select_one_from_file kota.csv", "k", "K", "K"]], {"kota.csv": b"name\n\xff\xfe\n"},
                 "xlsform.bad_attachment", "kota.csv", id="not UTF-8"),
])
def test_attachments_refused_by_name(tmp_path, rows, attachments, code, construct):
    error = refused(tmp_path, rows, attachments=attachments)
    assert (error.code, error.sheet, error.row, error.construct) == (code, "survey", 2, construct)
    if code == "xlsform.missing_attachment":
        name = "harga.csv" if "harga" in str(rows) else "kota.csv"
        assert f"the form needs the file '{name}'; upload it beside the form" in str(error)
        assert f"formulir ini memerlukan berkas '{name}'" in error.indonesian()


@pytest.mark.parametrize("csv_text, line", [
    pytest.param(b"name,label\nbogor,Bogor\nkota batu,Batu\n", 3, id="a name with a space"),
    pytest.param(b"name,label\n,Tanpa nama\n", 2, id="no name"),
    pytest.param(b"name,label\nbogor,Bogor\nbogor,Bogor lagi\n", 3, id="a name twice"),
])
def test_bad_choices_in_a_csv_name_the_file_and_line(tmp_path, csv_text, line):
    error = refused(tmp_path, [HEADER, ["select_one_from_file kota.csv", "k", "K", "K"]],
                    attachments={"kota.csv": csv_text})
    assert (error.sheet, error.row) == ("kota.csv", line)
    assert error.code in ("xlsform.bad_choices", "xlsform.bad_name")


def test_an_attachment_the_form_does_not_name_is_reported(tmp_path):
    result = imported(tmp_path, [HEADER, ["text", "a", "A", "A"]], attachments={"kota.csv": b"name\nx\n"})
    note = next(note for note in result.notes if note.sheet == "attachments")
    assert note.english() == "attachments: 'kota.csv' is not used by the form"
    assert note.indonesian() == "attachments: 'kota.csv' tidak dipakai oleh formulir"


def test_pulldata_tables_are_kept_in_the_checklist(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "calculation"],
        ["text", "kode", "Kode", "Code"],
        ["calculate", "harga", None, None, "pulldata('harga', 'nilai', 'kode', ${kode})"],
        ["csv-external", "wilayah"],
    ], attachments={"harga.csv": b"kode,nilai\nA1,1000\nB2,2500\n", "wilayah.csv": b"kode\nx\n"}).checklist
    assert checklist.table("harga") == ({"kode": "A1", "nilai": "1000"}, {"kode": "B2", "nilai": "2500"})
    assert checklist.table("wilayah") == ({"kode": "x"},)
    assert round_trips(checklist)


def test_select_one_external_reads_the_external_choices_sheet(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "choice_filter"],
        ["select_one prov", "provinsi", "Provinsi", "Province"],
        ["select_one_external kab", "kabupaten", "Kabupaten", "Regency", "prov = ${provinsi}"],
    ], CASCADE_CHOICES[:3], sheets={"external_choices": [CASCADE_CHOICES[0], *CASCADE_CHOICES[3:]]}).checklist
    regency = checklist.item("kabupaten")
    assert (regency.type, regency.choice_values) == ("select_one", ("bogor", "bandung", "malang"))
    assert regency.choices[2].column("prov") == "jatim"


def test_select_one_external_without_its_list_is_refused(tmp_path):
    error = refused(tmp_path, [HEADER, ["select_one_external kab", "k", "K", "K"]], CASCADE_CHOICES)
    assert (error.code, error.row) == ("xlsform.missing_choices", 2)
    assert "external_choices" in str(error)


def test_once_in_a_calculation(tmp_path):
    checklist = imported(tmp_path, [[*HEADER, "calculation"], ["calculate", "kode", None, None, "once(uuid())"],
                                    ["text", "a", "A", "A"]]).checklist
    assert checklist.item("kode").calculation.text == "once(uuid())"


def test_repeat_functions_in_calculations(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "relevant", "calculation"],
        ["begin repeat", "r", "R", "R"],
        ["integer", "n", "N", "N"],
        ["calculate", "urutan", None, None, None, "position(..)"],
        ["calculate", "pertama", None, None, None, "indexed-repeat(${n}, ${r}, 1)"],
        ["text", "t", "T", "T", "${urutan} > 1"],
        ["end repeat"],
        ["calculate", "total", None, None, None, "sum(${n})"],
        ["calculate", "banyak", None, None, None, "count(${r})"],
    ]).checklist
    assert [(item.id, item.path) for item in checklist.items] == [
        ("n", ("r",)), ("urutan", ("r",)), ("pertama", ("r",)), ("t", ("r",)), ("total", ()), ("banyak", ())]
    assert round_trips(checklist)


# --- Columns: default, read_only, required, constraints ---------------------------------------


@pytest.mark.parametrize("type_cell, default, scored, expected", [
    pytest.param("integer", 3, None, "3", id="number"),
    pytest.param("text", "Baik", None, "Baik", id="text"),
    pytest.param("date", "today()", None, "today()", id="today()"),
    pytest.param("date", "2026-01-31", None, "2026-01-31", id="date literal"),
    pytest.param("integer", "${a} + 1", None, "${a} + 1", id="expression"),
    pytest.param("select_one yn", "yes", None, "yes", id="choice"),
    pytest.param("select_one yn", "no", "yes", "tidak", id="choice of a scored item, stored as its answers are"),
])
def test_default(tmp_path, type_cell, default, scored, expected):
    checklist = imported(tmp_path, [[*HEADER, "default", "scored"], ["integer", "a", "A", "A"],
                                    [type_cell, "q", "Q", "Q", default, scored]], YES_NO).checklist
    assert checklist.item("q").default == expected
    assert round_trips(checklist)


@pytest.mark.parametrize("value, expected", [("yes", True), ("TRUE", True), ("true()", True), ("no", False)])
def test_read_only(tmp_path, value, expected):
    item = imported(tmp_path, [[*HEADER, "read_only", "default"], ["text", "a", "A", "A", value, "x"]]
                    ).checklist.item("a")
    assert item.read_only is expected and item.is_answerable is not expected


@pytest.mark.parametrize("value, required, condition", [
    ("yes", True, None), ("TRUE", True, None), ("true()", True, None), ("1", True, None), ("Yes", True, None),
    ("no", False, None), ("FALSE", False, None), ("false()", False, None),
    ("${a} = 'x'", False, "${a} = 'x'"), ("${a} != ''", False, "${a} != ''"),
])
def test_required_is_a_flag_or_a_condition(tmp_path, value, required, condition):
    checklist = imported(tmp_path, [[*HEADER, "required"], ["text", "a", "A", "A"],
                                    ["text", "b", "B", "B", value]]).checklist
    item = checklist.item("b")
    assert item.required is required
    assert (item.required_if and item.required_if.text) == condition
    assert round_trips(checklist)


def test_relevance_constraint_and_messages_in_both_languages(tmp_path):
    result = imported(tmp_path, [
        [*HEADER, "relevant", "constraint", "constraint_message::Indonesian (id)", "constraint_message::English (en)"],
        ["select_one ya_tidak", "ada_pagar", "Ada pagar?", "Is there a fence?"],
        ["integer", "tinggi", "Tinggi", "Height", "${ada_pagar} = 'ya'", ". >= 0 and . <= 500",
         "Antara 0 dan 500", "Between 0 and 500"],
        ["decimal", "lebar", "Lebar", "Width", None, ". > 0"],
        ["text", "c", "C", "C", None, None, "Pesan", "Message"],
    ], YA_TIDAK)
    height, width = result.checklist.item("tinggi"), result.checklist.item("lebar")
    assert (height.relevant.text, height.constraint.text) == ("${ada_pagar} = 'ya'", ". >= 0 and . <= 500")
    assert (height.constraint_message.id, height.constraint_message.en) == ("Antara 0 dan 500", "Between 0 and 500")
    assert width.constraint_message.en == "The answer does not meet the constraint."
    assert "survey: a constraint without constraint_message gets a generic message (row 4)" in result.warnings
    assert "survey: constraint_message without a constraint is ignored (row 5)" in result.warnings
    assert result.checklist.item("c").constraint_message is None


def test_smart_quotes_in_expressions_and_labels_are_plain(tmp_path):
    checklist = imported(tmp_path, [[*HEADER, "relevant"], ["select_one yn", "a", "A", "A"],
                                    ["text", "b", "\u201cB\u201d", "B", "${a} = \u2018yes\u2019"]], YES_NO).checklist
    assert (checklist.item("b").relevant.text, checklist.item("b").label.id) == ("${a} = 'yes'", '"B"')


def test_presentation_and_unknown_columns_are_ignored_with_a_warning(tmp_path):
    result = imported(tmp_path, [[*HEADER, "guidance_hint", "media::image", "my_notes", "appearance"],
                                 ["text", "a", "A", "A", "Tip", "a.png", "for the team", "multiline"]])
    assert "survey: column 'guidance_hint' only affects how a form looks and is ignored (row 2)" in result.warnings
    assert "survey: column 'my_notes' is not an XLSForm column and is ignored (row 2)" in result.warnings
    assert result.checklist.item("a").appearance == "multiline"


# --- Names and ids ---------------------------------------------------------------------------


def test_names_with_dash_and_dot_become_ids_and_references_follow(tmp_path):
    result = imported(tmp_path, [
        [*HEADER, "relevant", "calculation", "repeat_count", "choice_filter"],
        ["integer", "Luas-Lantai", "Luas", "Area"],
        ["integer", "jml.alat", "Jumlah", "Count"],
        ["begin repeat", "alat-main", "Alat", "Equipment", "${Luas-Lantai} > 0", None, "${jml.alat}"],
        ["text", "nama", "Nama", "Name"],
        ["end repeat"],
        ["calculate", "dua-kali", None, None, None, "${Luas-Lantai} * 2"],
        ["note", "info", "Luas ${Luas-Lantai}", "Area ${Luas-Lantai}", None, None, None],
        ["select_one kab", "kab", "Kab", "Regency", None, None, None, "prov = ${jml.alat}"],
        ["text", "jr", "J", "J", "jr:choice-name(${kab}, '${kab}') != ''"],
    ], CASCADE_CHOICES)
    checklist = result.checklist
    assert {"luas_lantai", "jml_alat", "dua_kali"} <= {item.id for item in checklist.items}
    assert checklist.container("alat_main").relevant.text == "${luas_lantai} > 0"
    assert checklist.container("alat_main").count.text == "${jml_alat}"
    assert checklist.item("dua_kali").calculation.text == "${luas_lantai} * 2"
    assert checklist.item("kab").choice_filter.text == "prov = ${jml_alat}"
    assert checklist.item("info").label.en == "Area ${luas_lantai}"
    assert any(w.startswith("survey: names are written in lower case with '_' for '-' and '.'")
               for w in result.warnings)
    assert round_trips(checklist)


@pytest.mark.parametrize("first, second", [("a-b", "a_b"), ("A.b", "a-B"), ("Nama", "nama")])
def test_names_that_map_to_one_id_are_refused(tmp_path, first, second):
    error = refused(tmp_path, [HEADER, ["text", first, "A", "A"], ["text", second, "B", "B"]])
    assert (error.code, error.sheet, error.row) == ("xlsform.duplicate_id", "survey", 3)
    assert "is already used on row 2" in str(error)


@pytest.mark.parametrize("name", ["nama lengkap", "a/b", "x" * 65, "${a}"])
def test_names_that_cannot_be_ids_are_refused(tmp_path, name):
    error = refused(tmp_path, [HEADER, ["text", name, "A", "A"]])
    assert (error.code, error.row) == ("xlsform.bad_name", 2)


# --- Settings: id, version, title ---------------------------------------------------------------


@pytest.mark.parametrize("settings_rows, file_name, expected_id, warned", [
    pytest.param([["form_id"], ["AuditTaman"]], "form.xlsx", "audittaman", "form_id 'AuditTaman' is written",
                 id="form_id lower-cased"),
    pytest.param([["form_id"], ["audit-taman.v2"]], "form.xlsx", "audit_taman_v2", "is written 'audit_taman_v2'",
                 id="form_id with - and ."),
    pytest.param(None, "my-form.xlsx", "my_form", "the id is the file name 'my_form'", id="hyphenated file name"),
    pytest.param([["form_title"], ["Tanpa id"]], "Audit.Taman-2026.xlsx", "audit_taman_2026",
                 "the id is the file name", id="file name with dots"),
    pytest.param(None, "Audit Taman (final).xlsx", "audit_taman_final", "the id is the file name 'audit_taman_final'",
                 id="file name with spaces"),
    pytest.param([["form_id"], ["Spec test"]], "form.xlsx", "spec_test", "form_id 'Spec test' is written 'spec_test'",
                 id="form_id with a space, as ODK allows"),
])
def test_checklist_id(tmp_path, settings_rows, file_name, expected_id, warned):
    path = write_form(tmp_path, [HEADER, ["text", "a", "A", "A"]], settings_rows=settings_rows, name=file_name)
    result = import_xlsform(path)
    assert result.checklist.id == expected_id
    assert any(warned in w for w in result.warnings)


def test_id_that_cannot_be_made_safe_needs_an_argument(tmp_path):
    path = write_form(tmp_path, [HEADER, ["text", "a", "A", "A"]], settings_rows=None, name="---.xlsx")
    with pytest.raises(XLSFormError) as caught:
        import_xlsform(path)
    assert caught.value.code == "xlsform.no_settings_id" and "'---'" in str(caught.value)
    assert import_xlsform(path, checklist_id="taman").checklist.id == "taman"
    error = refused(tmp_path, [HEADER, ["text", "a", "A", "A"]], settings_rows=[["form_id"], ["!!"]])
    assert (error.code, error.sheet, error.row) == ("xlsform.bad_name", "settings", 2)
    with pytest.raises(XLSFormError) as caught:
        import_xlsform(path, checklist_id="Bad-Id")
    assert caught.value.code == "xlsform.bad_name"


@pytest.mark.parametrize("version_cell, argument, number, label", [
    pytest.param("2", None, 2, None, id="whole number"),
    pytest.param("2024010101", None, 2024010101, None, id="dated number"),
    pytest.param("2026.1", None, 1, "2026.1", id="dotted"),
    pytest.param("2022-04-11 16:26", None, 1, "2022-04-11 16:26", id="date and time"),
    pytest.param("v3 (draft)", 7, 7, "v3 (draft)", id="text with the catalog's number"),
    pytest.param("0", None, 1, "0", id="zero is a label"),
    pytest.param("5", 9, 9, "5", id="number argument keeps the form's text"),
    pytest.param(None, None, 1, None, id="none"),
])
def test_version_is_any_text(tmp_path, version_cell, argument, number, label):
    settings = [["form_id", "version"], ["x", version_cell]]
    result = imported(tmp_path, [HEADER, ["text", "a", "A", "A"]], settings_rows=settings, version=argument)
    checklist = result.checklist
    assert (checklist.version, checklist.version_label) == (number, label)
    assert checklist.shown_version == (label or str(number))
    assert round_trips(checklist)


@pytest.mark.parametrize("version_cell, argument", [("x" * 65, None), ("1", 0), ("1", True)])
def test_bad_versions_are_refused(tmp_path, version_cell, argument):
    error = refused(tmp_path, [HEADER, ["text", "a", "A", "A"]], settings_rows=[["form_id", "version"],
                                                                                 ["x", version_cell]],
                    version=argument)
    assert error.code == "xlsform.bad_version"


def test_arguments_and_fixed_fields(tmp_path):
    checklist = imported(tmp_path, [HEADER, ["text", "a", "A", "A"]], checklist_id="lain", version=7,
                         facility_kinds=["sekolah", "pka"]).checklist
    assert (checklist.id, checklist.version, checklist.facility_kinds) == ("lain", 7, ("sekolah", "pka"))
    assert (checklist.title.id, checklist.title.en) == ("Audit Taman", "Park audit")
    assert (checklist.source, checklist.source_status) == ("XLSForm form.xlsx", "unverified")
    assert checklist.scoring.memenuhi_min == 0.8
    default = imported(tmp_path, [HEADER, ["text", "a", "A", "A"]]).checklist
    assert (default.key, default.facility_kinds) == ("audit_taman@2", ("all",))


# --- Languages -------------------------------------------------------------------------------


@pytest.mark.parametrize("header, row, expected, warned", [
    pytest.param(["label::Indonesian (id)", "label::English (en)"], ["Pagar", "Fence"], ("Pagar", "Fence"), None,
                 id="Indonesian (id) and English (en)"),
    pytest.param(["label::id", "label::en"], ["Pagar", "Fence"], ("Pagar", "Fence"), None, id="id and en"),
    pytest.param(["label::Bahasa Indonesia", "label::English"], ["Pagar", "Fence"], ("Pagar", "Fence"), None,
                 id="language names"),
    pytest.param(["label:English (en)", "label:Indonesian (id)"], ["Fence", "Pagar"], ("Pagar", "Fence"), None,
                 id="old single-colon headers in any order"),
    pytest.param(["label"], ["Pagar"], ("Pagar", "Pagar"), "label has no language", id="plain label"),
    pytest.param(["label::English (en)"], ["Fence"], ("Fence", "Fence"), "label has no Indonesian text",
                 id="English only"),
    pytest.param(["label::id", "label::Swahili (sw)"], ["Pagar", "Uzio"], ("Pagar", "Pagar"),
                 "label has no English text", id="a third language dropped"),
    pytest.param(["label::Swahili (sw)"], ["Uzio"], ("Uzio", "Uzio"), "'Swahili (sw)' is used for both",
                 id="a third language only"),
    pytest.param(["label::Swahili (sw)", "label::French (fr)"], ["Uzio", "Clôture"], ("Uzio", "Uzio"),
                 "'Swahili (sw)' is used for both", id="two other languages: the first"),
])
def test_labels_in_any_language(tmp_path, header, row, expected, warned):
    result = imported(tmp_path, [["type", "name", *header], ["text", "pagar", *row]])
    label = result.checklist.item("pagar").label
    assert (label.id, label.en) == expected
    if warned:
        assert any(warned in w for w in result.warnings), result.warnings
    else:
        assert not any("label" in w for w in result.warnings)


def test_default_language_chooses_among_other_languages(tmp_path):
    result = imported(tmp_path, [["type", "name", "label::Swahili (sw)", "label::French (fr)"],
                                 ["text", "pagar", "Uzio", "Clôture"]],
                      settings_rows=[["form_id", "default_language"], ["x", "French (fr)"]])
    label = result.checklist.item("pagar").label
    assert (label.id, label.en) == ("Clôture", "Clôture")
    assert "languages other than Indonesian and English are ignored: Swahili (sw)" in result.warnings


def test_default_language_makes_the_plain_label_that_language(tmp_path):
    result = imported(tmp_path, [["type", "name", "label", "label::English (en)"], ["text", "pagar", "Pagar", "Fence"]],
                      settings_rows=[["form_id", "default_language"], ["x", "Indonesian (id)"]])
    label = result.checklist.item("pagar").label
    assert (label.id, label.en) == ("Pagar", "Fence")


def test_hints_and_choice_labels_in_both_languages(tmp_path):
    checklist = imported(tmp_path, [
        ["type", "name", "label:Indonesian (id)", "label:English (en)", "hint:Indonesian (id)", "hint:English (en)"],
        ["select_one bahan", "pagar", "Pagar", "Fence", "Lihat keliling", "Walk around"],
    ], [["list_name", "name", "label::id", "label::en"], ["bahan", "kayu", "Kayu", "Wood"]]).checklist
    item = checklist.item("pagar")
    assert (item.hint.id, item.hint.en) == ("Lihat keliling", "Walk around")
    assert (item.choices[0].label.id, item.choices[0].label.en) == ("Kayu", "Wood")


# --- Scored items ----------------------------------------------------------------------------


@pytest.mark.parametrize("marks, names, expected_type, allow_na, weight, critical", [
    pytest.param({}, ["ya", "tidak"], "select_one", None, None, None, id="unmarked ya/tidak stays a select"),
    pytest.param({}, ["yes", "no"], "select_one", None, None, None, id="unmarked yes/no stays a select"),
    pytest.param({"scored": "yes"}, ["ya", "tidak"], "ynp", False, 1, False, id="scored"),
    pytest.param({"scored": "TRUE"}, ["Ya", "TIDAK", "Sebagian", "Tidak_Berlaku"], "ynp", True, 1, False,
                 id="all four, any case"),
    pytest.param({"scored": "yes"}, ["yes", "no", "partial", "na"], "ynp", True, 1, False, id="English names"),
    pytest.param({"weight": "2"}, ["ya", "tidak"], "ynp", False, 2, False, id="weight marks it"),
    pytest.param({"weight": "0.5"}, ["ya", "tidak"], "ynp", False, 0.5, False, id="fractional weight"),
    pytest.param({"critical": "yes"}, ["ya", "tidak", "sebagian"], "ynp", False, 1, True, id="critical marks it"),
    pytest.param({"scored": "no"}, ["ya", "tidak"], "select_one", None, None, None, id="scored no"),
])
def test_scored_marking(tmp_path, marks, names, expected_type, allow_na, weight, critical):
    columns = list(marks)
    choices = [["list_name", "name", "label"], *[["l", name, name] for name in names]]
    checklist = imported(tmp_path, [[*HEADER, *columns], ["select_one l", "pagar", "Pagar", "Fence",
                                                          *marks.values()]], choices).checklist
    item = checklist.item("pagar")
    assert item.type == expected_type
    if expected_type == "ynp":
        assert (item.allow_na, item.weight, item.critical, item.choices) == (allow_na, weight, critical, ())
        assert item.is_scored
    else:
        assert item.choice_values == tuple(names) and not item.is_scored
    assert round_trips(checklist)


@pytest.mark.parametrize("type_cell, marks, names, code", [
    pytest.param("select_one l", {"scored": "yes"}, ["baik", "buruk"], "xlsform.not_yes_no", id="not a yes/no list"),
    pytest.param("select_one l", {"weight": "2"}, ["yes", "no", "maybe"], "xlsform.not_yes_no", id="a third answer"),
    pytest.param("select_one l", {"scored": "yes"}, ["ya", "yes", "tidak"], "xlsform.not_yes_no",
                 id="two names for ya"),
    pytest.param("select_multiple l", {"scored": "yes"}, ["ya", "tidak"], "xlsform.not_yes_no", id="multiple"),
    pytest.param("select_one l", {"scored": "maybe"}, ["ya", "tidak"], "xlsform.bad_value", id="scored not yes/no"),
    pytest.param("select_one l", {"weight": "berat"}, ["ya", "tidak"], "xlsform.bad_value", id="weight not a number"),
    pytest.param("select_one l", {"scored": "no", "weight": "2"}, ["ya", "tidak"], "xlsform.unsupported_column",
                 id="weight on an unscored select"),
    pytest.param("text", {"weight": "2"}, ["ya", "tidak"], "xlsform.unsupported_column", id="weight on text"),
    pytest.param("integer", {"scored": "yes"}, ["ya", "tidak"], "xlsform.unsupported_column", id="scored integer"),
    pytest.param("date", {"critical": "no"}, ["ya", "tidak"], "xlsform.unsupported_column", id="critical on a date"),
])
def test_scored_marking_refused(tmp_path, type_cell, marks, names, code):
    choices = [["list_name", "name", "label"], *[["l", name, name] for name in names]]
    error = refused(tmp_path, [[*HEADER, *marks], ["text", "a", "A", "A"], [type_cell, "pagar", "P", "P",
                                                                           *marks.values()]], choices)
    assert (error.code, error.sheet, error.row) == (code, "survey", 3)


@pytest.mark.parametrize("relevant, constraint, expected_relevant, expected_constraint", [
    pytest.param("${pagar} = 'yes'", None, "${pagar} = 'ya'", None, id="comparison"),
    pytest.param("'no' != ${pagar}", None, "'tidak' != ${pagar}", None, id="literal first"),
    pytest.param("selected(${pagar}, \"no\")", None, "selected(${pagar}, \"tidak\")", None, id="selected()"),
    pytest.param(None, ". != 'no' or ${n} > 1", None, ". != 'no' or ${n} > 1",
                 id="'.' of another item is not translated"),
])
def test_literals_compared_with_a_scored_item_are_translated(tmp_path, relevant, constraint, expected_relevant,
                                                             expected_constraint):
    result = imported(tmp_path, [
        [*HEADER, "relevant", "constraint", "constraint_message", "scored"],
        ["select_one yn", "pagar", "Pagar", "Fence", None, None, None, "yes"],
        ["integer", "n", "N", "N", relevant, constraint, "Salah" if constraint else None],
    ], YES_NO)
    item = result.checklist.item("n")
    assert (item.relevant and item.relevant.text) == expected_relevant
    assert (item.constraint and item.constraint.text) == expected_constraint


def test_literals_of_an_unscored_select_are_kept(tmp_path):
    checklist = imported(tmp_path, [[*HEADER, "relevant"], ["select_one yn", "pagar", "P", "P"],
                                    ["text", "a", "A", "A", "${pagar} = 'yes'"]], YES_NO).checklist
    assert checklist.item("a").relevant.text == "${pagar} = 'yes'"


def test_own_constraint_of_a_scored_item_is_translated(tmp_path):
    item = imported(tmp_path, [[*HEADER, "constraint", "constraint_message", "scored"],
                               ["select_one yn", "pagar", "Pagar", "Fence", ". != 'no'", "Wajib", "yes"]],
                    YES_NO).checklist.item("pagar")
    assert item.constraint.text == ". != 'tidak'"


def test_ambiguous_literal_of_a_scored_item_is_refused(tmp_path):
    error = refused(tmp_path, [[*HEADER, "relevant", "scored"], ["select_one yn", "pagar", "P", "P", None, "yes"],
                               ["text", "a", "A", "A", "coalesce(${pagar}, 'no') = 'yes'"]], YES_NO)
    assert (error.code, error.row) == ("xlsform.bad_expression", 3)
    assert "cannot be translated" in str(error)


# --- Warnings as notes, entities ---------------------------------------------------------------


def test_notes_carry_sheet_rows_and_both_languages(tmp_path):
    result = imported(tmp_path, [["type", "name", "label"], ["text", "a", "A"], ["text", "b", "B"]],
                      settings_rows=[["form_id"], ["x"]])
    assert all(isinstance(note, ImportNote) for note in result.notes)
    assert result.warnings == tuple(note.english() for note in result.notes)
    label = next(note for note in result.notes if "label has no language" in note.message)
    assert (label.sheet, label.rows) == ("survey", (2, 3))
    assert label.english() == ("survey: label has no language; the same text is used for Indonesian and English "
                               "(rows 2, 3)")
    assert label.indonesian() == ("survey: label tanpa bahasa; teks yang sama dipakai untuk bahasa Indonesia dan "
                                  "Inggris (baris 2, 3)")
    version = next(note for note in result.notes if "version" in note.message)
    assert (version.sheet, version.rows, version.indonesian()) == (
        "settings", (), "settings: versi tidak ada, jadi versinya 1")


def test_note_rows_are_in_sheet_order(tmp_path):
    # Lists are read when a question uses them, so their rows are met out of order.
    result = imported(tmp_path, [HEADER, ["select_one b", "q1", "Q", "Q"], ["select_one a", "q2", "Q", "Q"]],
                      [["list_name", "name", "label"], ["a", "x", "X"], ["b", "y", "Y"]])
    note = next(note for note in result.notes if note.sheet == "choices")
    assert note.rows == (2, 3)


def test_many_rows_are_shortened(tmp_path):
    result = imported(tmp_path, [["type", "name", "label"], *[["text", f"q{n}", "Q"] for n in range(12)]])
    note = next(note for note in result.notes if "label has no language" in note.message)
    assert len(note.rows) == 12
    assert note.english().endswith("(rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 2 more)")
    assert note.indonesian().endswith("(baris 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 dan 2 lagi)")


def test_entities_sheet_is_ignored_with_a_warning(tmp_path):
    result = imported(tmp_path, [HEADER, ["text", "a", "A", "A"]],
                      sheets={"entities": [["list_name", "label"], ["pohon", "${a}"]]})
    assert [item.id for item in result.checklist.items] == ["a"]
    note = next(note for note in result.notes if note.sheet == "entities")
    assert note.rows == (2,) and "ignored" in note.english() and "diabaikan" in note.indonesian()


# --- Refusals: every one names the sheet, the row and the construct -------------------------------

CHOICES = [["list_name", "name", "label"], ["bahan", "beton", "Beton"], ["bahan", "kayu", "Kayu"],
           ["bahan", "batu bata", "Batu bata"]]


@pytest.mark.parametrize("rows, code, sheet, row, fragment", [
    pytest.param([HEADER, ["text", "a", "A", "A"], ["begin group", "g", "G", "G"], ["text", "b", "B", "B"]],
                 "xlsform.unclosed_group", "survey", 3, "group 'g' is never closed", id="unclosed group"),
    pytest.param([HEADER, ["text", "a", "A", "A"], ["end group"]],
                 "xlsform.unexpected_end", "survey", 3, "'end group'", id="end without begin"),
    pytest.param([HEADER, ["select_one warna", "w", "W", "W"]],
                 "xlsform.missing_choices", "survey", 2, "'warna'", id="select with a missing list"),
    pytest.param([HEADER, ["text", None, "A", "A"]], "xlsform.bad_name", "survey", 2, "no name", id="no name"),
    pytest.param([HEADER, ["text", "a"]], "xlsform.missing_label", "survey", 2, "no label", id="no label"),
    pytest.param([HEADER, [None, "a", "A", "A"]], "xlsform.missing_type", "survey", 2, "no type", id="no type"),
    pytest.param([HEADER, ["text", "a", "A", "A"], ["integer", "a", "B", "B"]],
                 "xlsform.duplicate_id", "survey", 3, "'a' is already used on row 2", id="duplicate name"),
    pytest.param([HEADER, ["text", "umum", "A", "A"], ["begin group", "umum", "G", "G"], ["text", "b", "B", "B"],
                  ["end group"]], "xlsform.duplicate_id", "survey", 3, "'umum' is already used on row 2",
                 id="a name taken by a group"),
    pytest.param([HEADER, ["text", "a", "A", "A"], ["begin group", "umum", "G", "G"], ["text", "b", "B", "B"],
                  ["end group"]], "xlsform.duplicate_id", "survey", 3, "'umum' holds the questions outside groups",
                 id="a group named umum beside loose questions"),
    pytest.param([[*HEADER, "relevant"], ["text", "a", "A", "A", "${b} = 'x'"]],
                 "xlsform.unknown_reference", "survey", 2, "${b}", id="unknown reference"),
    pytest.param([[*HEADER, "relevant"], ["text", "a", "A", "A", ". = 'x'"]],
                 "xlsform.bad_expression", "survey", 2, "relevant", id="'.' in relevant"),
    pytest.param([[*HEADER, "relevant"], ["text", "a", "A", "A", "${a} != ''"]],
                 "xlsform.self_reference", "survey", 2, "refers to the item itself", id="own relevance"),
    pytest.param([[*HEADER, "calculation"], ["calculate", "a", None, None, "${b}"],
                  ["calculate", "b", None, None, "${a}"]],
                 "xlsform.calculation_cycle", "survey", 3, "calculation cycle: a -> b -> a", id="calculation cycle"),
    pytest.param([[*HEADER, "relevant"], ["text", "a", "A", "A", "instance('x')/root = 1"]],
                 "xlsform.bad_expression", "survey", 2, "relevant", id="instance()"),
    pytest.param([[*HEADER, "constraint"], ["text", "a", "A", "A", "regex(., '[')"]],
                 "xlsform.bad_expression", "survey", 2, "constraint", id="broken regex"),
    pytest.param([HEADER, ["select_one bahan", "b", "B", "B"]],
                 "xlsform.bad_choices", "choices", 4, "'batu bata'", id="bad choice value"),
    pytest.param([HEADER, ["begin group", "g", "G", "G"], ["end group"]],
                 "xlsform.no_questions", "survey", None, "no questions", id="nothing to import"),
    pytest.param([["name", "label"], ["a", "A"]], "xlsform.bad_header", "survey", 1, "type", id="no type column"),
    pytest.param([[*HEADER, "bind::odk:length"], ["text", "a", "A", "A", "5"]],
                 "xlsform.unsupported_column", "survey", 2, "bind::odk:length", id="bind column"),
])
def test_refusals_name_the_sheet_and_row(tmp_path, rows, code, sheet, row, fragment):
    error = refused(tmp_path, rows, CHOICES)
    assert (error.code, error.sheet, error.row) == (code, sheet, row)
    assert fragment in str(error)
    assert str(error).endswith(f"[{code}]")
    if row is not None:
        assert str(error).startswith(f"{sheet} row {row}: ")
        assert error.indonesian().startswith(f"{sheet} baris {row}: ")
    assert error.message_id and error.construct


def test_every_refusal_code_is_documented():
    documented = (ROOT / "docs" / "xlsform.md").read_text(encoding="utf-8")
    assert [code for code in _MESSAGES_ID if f"`{code}`" not in documented] == []


def test_missing_survey_sheet(tmp_path):
    path = tmp_path / "form.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "choices"
    book.active.append(["list_name", "name", "label"])
    book.save(path)
    with pytest.raises(XLSFormError) as caught:
        import_xlsform(path)
    assert (caught.value.code, caught.value.sheet) == ("xlsform.missing_sheet", "survey")


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


# --- Round trip --------------------------------------------------------------------------------


def test_a_form_with_every_construct_round_trips_through_yaml(tmp_path):
    rows = [[*row, *([None] * (len(REPEATS[0]) - len(row)))] for row in REPEATS]
    header = [*REPEATS[0], "choice_filter", "default", "read_only", "required", "scored", "weight"]
    checklist = imported(tmp_path, [
        header,
        *rows[1:],
        ["begin group", "lain", "Lain", "Other"],
        ["select_one ya_tidak", "aman", "Aman?", "Safe?", None, None, None, None, None, None, None, "yes", "2"],
        ["select_one prov or_other", "provinsi", "Provinsi", "Province"],
        ["select_one kab", "kab", "Kab", "Regency", None, None, None, "prov = ${provinsi}"],
        ["select_one_from_file kota.csv", "kota", "Kota", "City"],
        ["time", "jam", "Jam", "Time", None, None, None, None, "08:00", "yes", "${aman} = 'ya'"],
        ["note", "n", "Catatan", "Note"],
        ["calculate", "h", None, None, None, None, "pulldata('harga', 'n', 'k', '1')"],
        ["end group"],
    ], [*YA_TIDAK, *CASCADE_CHOICES[1:]], attachments={"kota.csv": KOTA_CSV.encode(),
                                                       "harga.csv": b"k,n\n1,2\n"}).checklist
    assert checklist.item("jam").required_if.text == "${aman} = 'ya'"
    assert load_checklist_text(dump_checklist_yaml(checklist)) == checklist
    assert checklist_from_dict(checklist_to_dict(checklist)) == checklist


# --- The shared corpus of real workbooks -----------------------------------------------------

# file -> None when it imports, else (code, sheet, row, construct) of today's refusal.
EXPECTED = {
    "yes_or_no_question.xlsx": None,
    "text_and_integer.xlsx": None,
    "loop.xlsx": None,
    "specify_other.xlsx": None,
    "group.xlsx": None,
    "field-list.xlsx": None,
    "choice_filter_test.xlsx": None,
    # Refused only for the CSV attachments it names; with them it imports (test_shared_ucl_with_attachments).
    "UCL_Biomass_Plot_Form.xlsx": ("xlsform.missing_attachment", "survey", 16, "UCL_regions.csv"),
    # Audio, video and OpenStreetMap questions are file items.
    "xlsform_spec_test.xlsx": None,
    "case_insensitivity.xlsx": None,
}


@pytest.mark.shared_data
def test_shared_workbooks_are_present():
    require(bool(SHARED_FILES), f"the XLSForm corpus is missing: {SHARED_FORMS} (../shared/data/xlsform)")
    assert {path.name for path in SHARED_FILES} == set(EXPECTED)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_workbook_imports_or_is_refused_as_expected(name):
    path = SHARED_FORMS / name
    require(path.is_file(), f"{path} is missing (../shared/data/xlsform)")
    try:
        result = import_xlsform(path)
    except XLSFormError as error:
        outcome = (error.code, error.sheet, error.row, error.construct)
        assert error.message and error.message_id
    else:
        outcome = None
        assert round_trips(result.checklist)
    assert outcome == EXPECTED[name]


@pytest.mark.shared_data
def test_shared_forms_with_uploads_make_file_items():
    spec, case = SHARED_FORMS / "xlsform_spec_test.xlsx", SHARED_FORMS / "case_insensitivity.xlsx"
    require(spec.is_file() and case.is_file(), "the XLSForm corpus is missing (../shared/data/xlsform)")
    checklist = import_xlsform(spec).checklist
    assert checklist.id == "spec_test" and checklist.container("repeat_test").type == "repeat"
    assert {(i.id, i.accept) for i in checklist.items if i.type == "file"} == {
        ("audio_test", "audio"), ("video_test", "video")}
    osm = import_xlsform(case).checklist.item("q3")
    assert (osm.type, osm.accept) == ("file", "osm")


@pytest.mark.shared_data
def test_shared_yes_or_no_question_stays_a_select():
    path = SHARED_FORMS / "yes_or_no_question.xlsx"
    require(path.is_file(), f"{path} is missing")
    checklist = import_xlsform(path).checklist
    item = checklist.item("good_day")
    assert (checklist.key, item.type, item.choice_values) == ("yes_or_no_question@1", "select_one", ("yes", "no"))
    assert item.label.en == "have you had a good day today?"


@pytest.mark.shared_data
def test_shared_cascading_selects_and_specify_other():
    require((SHARED_FORMS / "choice_filter_test.xlsx").is_file(), "the XLSForm corpus is missing")
    cascade = import_xlsform(SHARED_FORMS / "choice_filter_test.xlsx").checklist
    filtered = [item for item in cascade.items if item.choice_filter is not None]
    assert filtered and all(item.choices for item in filtered)
    other = import_xlsform(SHARED_FORMS / "specify_other.xlsx").checklist
    assert any(item.id.endswith("_other") and item.type == "text" for item in other.items)
    assert any("other" in item.choice_values for item in other.items)


UCL_ATTACHMENTS = {
    "UCL_regions.csv": "name,label::English (en),label::Swahili (sw)\nr1,Region 1,Mkoa 1\nr2,Region 2,Mkoa 2\n",
    "UCL_districts.csv": "name,label::English (en),label::Swahili (sw),region_id\nd1,District 1,Wilaya 1,r1\n"
                         "d2,District 2,Wilaya 2,r2\n",
    "UCL_villages.csv": "name,label::English (en),label::Swahili (sw),district_id\nv1,Village 1,Kijiji 1,d1\n",
    "ULC_Biomass_Plots.csv": "name,label,village,plant_phase\np1,Plot 1,v1,2022\np2,Plot 2,v1,2023\n",
    "species_names.csv": "name,label\nacacia,Acacia\nother,Other\n",
}


@pytest.mark.shared_data
def test_shared_ucl_with_attachments_imports_with_its_nested_repeats():
    path = SHARED_FORMS / "UCL_Biomass_Plot_Form.xlsx"
    require(path.is_file(), f"{path} is missing")
    result = import_xlsform(path, attachments={name: text.encode() for name, text in UCL_ATTACHMENTS.items()})
    checklist = result.checklist
    assert checklist.container("stems").parent == "trees"
    assert checklist.container("trees").relevant.text == "${any_trees} = 'yes'"
    assert checklist.container("stems").count.text == "${stem_count}"
    assert checklist.item("cbh").path == ("trees", "stems")
    assert checklist.item("plot_id").choice_filter.text == "village=${village} and plant_phase=${plant_phase}"
    assert [c.column("plant_phase") for c in checklist.item("plot_id").choices] == ["2022", "2023"]
    assert checklist.item("district_id").choices[0].label.en == "District 1"
    assert checklist.item("seedling_1").type == "integer"  # Seedling_1: names are lower-cased
    assert checklist.item("start").default == "now()"
    assert round_trips(checklist)


def test_a_name_used_again_in_another_group_is_renamed(tmp_path):
    """pyxform accepts one name in two groups (it can then be referred to by neither); the second is renamed."""
    result = imported(tmp_path, [
        HEADER, ["begin group", "a", "A", "A"], ["text", "catatan", "C", "C"], ["end group"],
        ["begin group", "b", "B", "B"], ["text", "catatan", "C2", "C2"], ["end group"]])
    assert [item.id for item in result.checklist.items] == ["catatan", "catatan_2"]
    assert any("'catatan' becomes 'catatan_2'" in warning for warning in result.warnings)


def test_body_columns_are_presentation_and_ignored(tmp_path):
    result = imported(tmp_path, [[*HEADER, "body::accuracyThreshold"], ["geopoint", "a", "A", "A", "5"]])
    assert result.checklist.item("a").type == "gps"
    assert any("body::accuracyThreshold" in warning for warning in result.warnings)


@pytest.mark.parametrize("column, ignored", [
    pytest.param("bind::esri:fieldType", True, id="a vendor's attribute"),
    pytest.param("bind::foo", True, id="an attribute of no namespace"),
    pytest.param("bind::odk:length", False, id="ODK's own"),
    pytest.param("bind::jr:preload", False, id="JavaRosa's own"),
    pytest.param("bind::saveIncomplete", False, id="an XForms bind attribute"),
])
def test_custom_bind_attributes_are_ignored_but_odk_ones_refused(tmp_path, column, ignored):
    rows = [[*HEADER, column], ["text", "a", "A", "A", "x"]]
    if not ignored:
        error = refused(tmp_path, rows)
        assert (error.code, error.row, error.construct) == ("xlsform.unsupported_column", 2, column)
        return
    result = imported(tmp_path, rows)
    assert (f"survey: column '{column}' is a custom XForm attribute that ODK does not act on and is ignored (row 2)"
            in result.warnings)


def test_form_id_wins_over_id_string(tmp_path):
    result = imported(tmp_path, [HEADER, ["text", "a", "A", "A"]],
                      settings_rows=[["id_string", "form_id"], ["lama", "baru"]])
    assert result.checklist.id == "baru"
    assert "settings: both form_id and id_string are given; form_id is used (row 2)" in result.warnings


def test_entity_columns_are_ignored(tmp_path):
    result = imported(tmp_path, [[*HEADER, "save_to"], ["text", "a", "A", "A", "nama"]])
    assert any("updates ODK entity lists" in warning for warning in result.warnings)


def test_relative_paths_become_references(tmp_path):
    """ODK authors write a sibling as ../total or current()/../total; it is ${total} (names are unique)."""
    checklist = imported(tmp_path, [
        [*HEADER, "constraint", "constraint_message", "relevant"],
        ["integer", "Total-N", "Total", "Total"],
        ["begin repeat", "r", "R", "R"],
        ["integer", "n", "N", "N", ". <= ../Total-N", "tidak lebih dari total", "current()/../Total-N > 0"],
        ["end repeat"],
    ]).checklist
    item = checklist.item("n")
    assert (item.constraint.text, item.relevant.text) == (". <= ${total_n}", "${total_n} > 0")


def test_a_select_of_a_repeats_answers(tmp_path):
    """`select_one ${name}` offers the answers `name` got in a repeat's entries (ODK's dynamic choices)."""
    checklist = imported(tmp_path, [
        HEADER, ["begin repeat", "anak", "Anak", "Child"], ["text", "Nama-Anak", "Nama", "Name"], ["end repeat"],
        ["select_one ${Nama-Anak}", "favorit", "Favorit", "Favourite"]]).checklist
    item = checklist.item("favorit")
    assert (item.type, item.choices, item.choices_from) == ("select_one", (), "nama_anak")
    assert round_trips(checklist)


def test_a_select_of_a_repeats_answers_may_filter_them(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "choice_filter"], ["begin repeat", "anak", "Anak", "Child"], ["text", "nama", "Nama", "Name"],
        ["integer", "umur", "Umur", "Age"], ["end repeat"],
        ["select_one ${nama}", "favorit", "Favorit", "Favourite", "${umur} > 5"]]).checklist
    item = checklist.item("favorit")
    assert (item.choices_from, item.choice_filter.text) == ("nama", "${umur} > 5")


@pytest.mark.parametrize("extra, value, construct", [(["scored"], "yes", "scored")], ids=["scored"])
def test_a_select_of_a_repeats_answers_takes_no_score(tmp_path, extra, value, construct):
    error = refused(tmp_path, [
        [*HEADER, *extra], ["begin repeat", "anak", "Anak", "Child"], ["text", "nama", "Nama", "Name"], ["end repeat"],
        ["select_one ${nama}", "favorit", "Favorit", "Favourite", value]])
    assert (error.code, error.row, error.construct) == ("xlsform.unsupported_column", 5, construct)


def test_last_saved_references_follow_renames(tmp_path):
    checklist = imported(tmp_path, [
        [*HEADER, "default", "constraint", "constraint_message"],
        ["text", "Nama-Petugas", "Petugas", "Officer", "${last-saved#Nama-Petugas}"],
        ["integer", "jumlah", "Jumlah", "Count", None, ". >= ${last-saved#jumlah}", "tidak boleh turun"]]).checklist
    assert checklist.item("nama_petugas").default == "${last-saved#nama_petugas}"
    assert checklist.item("jumlah").constraint.text == ". >= ${last-saved#jumlah}"
    assert checklist.uses_last_saved
