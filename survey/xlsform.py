"""Import an XLSForm workbook as a checklist. Pure: no Flask, no files written.

pyxform reads the workbook and normalises its headers as it does for ODK (aliases such as
`list name` and `relevance`, `label::English (en)` and the old `label:english`, upper-case
columns, smart quotes in cells). We then map the raw rows onto the checklist format
(docs/checklist-format.md) ourselves instead of converting to an XForm, because every error must
name the spreadsheet row and the mapping targets our own item types. `checklist_from_dict`
validates the result; its errors are mapped back to the row they came from.

Decisions:
- Sections: a top-level `begin group` is a section (name -> id, label -> title). Questions outside
  any group go to the section `umum` (Umum/General), placed where the first of them appears.
  A group inside a group is flattened into the outer section: its questions keep their order and
  inherit its relevance; only its label is lost (a warning says so). Groups without questions
  are dropped with a warning.
- Relevance of groups, which sections do not have, is ANDed into each question's `relevant`.
- `ynp`: a select_one whose list names, in any case, are ya and tidak, optionally sebagian and
  tidak_berlaku, or the English yes/no/partial/na, becomes a scored ynp item (allow_na only when
  the list has the n/a option). String literals compared with such an item (`${q} = 'yes'`,
  `selected(${q}, 'yes')`, `. != 'no'`) are rewritten to ya/tidak/...; a literal we cannot tie
  to one item is refused rather than guessed.
- Names: an XLSForm name that is a valid id except for upper case is lower-cased (references
  follow, with a warning); any other name is refused.
- Settings: the id is the `checklist_id` argument, else `form_id` (lower-cased), else the file
  name when it is a valid id (warning). The version is the `version` argument, else `version` if
  it is a whole number (a date-like version is refused: pass the argument), else 1 (warning).
  `form_title` is the title (else the id, with a warning).
- Texts: `id`/`Indonesian (id)` and `en`/`English (en)` languages are used; a text in one language
  only is copied to the other and a text in the default (plain) column serves both, each with a
  warning. Other languages are dropped with a warning.
- Refused (never half-imported): repeats, loops, calculations, external and cascading selects,
  `or_other`, media and other question types we lack, pyxform columns that change answers
  (`choice_filter`, `calculation`, `default`, `read_only`, `repeat_count`, `trigger`, ...), a
  conditional `required`, and expressions our parser does not read (pulldata(), instance(), ...).
  Presentation-only columns (appearance, parameters, media, guidance_hint, required_message) and
  columns pyxform itself does not know are ignored with a warning; notes are skipped with a
  warning; metadata rows (start, end, today, deviceid, ...) are ignored silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pyxform import aliases, constants
from pyxform.errors import PyXFormError
from pyxform.parsing.sheet_headers import dealias_and_group_headers
from pyxform.question import MultipleChoiceQuestion, Option
from pyxform.survey import Survey
from pyxform.xls2json import RE_OSM, RE_SELECT
from pyxform.xls2json_backends import get_xlsform

from survey.checklist import Checklist, ChecklistError, checklist_from_dict
from survey.expressions import ExpressionError, Token, parse, tokenize

SOURCE_STATUS = "unverified"
MEMENUHI_MIN = 0.8
DEFAULT_SECTION = ("umum", {"id": "Umum", "en": "General"})
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
METADATA_TYPES = frozenset({"start", "end", "today", "deviceid", "username", "simserial",
                            "subscriberid", "phonenumber", "audit"})

_ID = re.compile(r"[a-z0-9_]{1,64}")
_CONTROL = re.compile(r"(?P<edge>begin|end)[ _](?P<word>.+)")
_TYPES = {"integer": "integer", "int": "integer", "decimal": "decimal", "text": "text",
          "string": "text", "date": "date", "photo": "photo", "image": "photo", "geopoint": "gps"}
# Types XLSForm has and we do not: (English, Indonesian) reason shown in the error.
_REFUSED_TYPES = {
    "calculate": ("calculations", "kalkulasi"),
    "range": ("range questions", "pertanyaan rentang"),
    "rank": ("ranking questions", "pertanyaan peringkat"),
    "file": ("file uploads", "unggahan berkas"),
    "audio": ("audio recordings", "rekaman audio"),
    "background-audio": ("audio recordings", "rekaman audio"),
    "video": ("video recordings", "rekaman video"),
    "barcode": ("barcodes", "kode batang"),
    "geotrace": ("lines on a map", "garis di peta"),
    "geoshape": ("shapes on a map", "bidang di peta"),
    "acknowledge": ("acknowledge questions", "pertanyaan konfirmasi"),
    "time": ("times of day", "jam"),
    "datetime": ("date and time questions", "tanggal dan jam"),
    "trigger": ("triggers", "pemicu"),
    "hidden": ("hidden fields", "isian tersembunyi"),
    "xml-external": ("external data", "data eksternal"),
    "csv-external": ("external data", "data eksternal"),
    "start-geopoint": ("automatic locations", "lokasi otomatis"),
    "background-geopoint": ("automatic locations", "lokasi otomatis"),
}
_UNKNOWN_TYPE = ("not an XLSForm type we know", "bukan jenis XLSForm yang dikenal")
_YNP_NAMES = {"ya": "ya", "yes": "ya", "tidak": "tidak", "no": "tidak",
              "sebagian": "sebagian", "partial": "sebagian", "partly": "sebagian",
              "partially": "sebagian", "tidak_berlaku": "tidak_berlaku", "na": "tidak_berlaku",
              "n_a": "tidak_berlaku", "not_applicable": "tidak_berlaku"}
_TRUE = frozenset({"yes", "true", "true()", "1"})
_FALSE = frozenset({"no", "false", "false()", "0"})

# pyxform nests `bind::x` and `body::x` columns; these are their XLSForm names for messages.
_BIND_COLUMNS = {"relevant": "relevant", "required": "required", "constraint": "constraint",
                 "jr:constraintMsg": "constraint_message", "jr:requiredMsg": "required_message",
                 "calculate": "calculation", "readonly": "read_only",
                 "jr:noAppErrorString": "no_app_error_string"}
_CONTROL_COLUMNS = {"appearance": "appearance", "rows": "rows", "autoplay": "autoplay",
                    "jr:count": "repeat_count"}
_QUESTION_COLUMNS = frozenset({"type", "name", "label", "hint", "relevant", "required",
                               "constraint", "constraint_message", "weight", "critical"})
_GROUP_COLUMNS = frozenset({"type", "name", "label", "hint", "relevant"})
_PRESENTATION_COLUMNS = frozenset({"appearance", "rows", "autoplay", "parameters",
                                   "guidance_hint", "media", "required_message",
                                   "no_app_error_string"})
_PYXFORM_COLUMNS = frozenset(MultipleChoiceQuestion.get_slot_names()) | {"instance", "bind", "body"}
_USED_SETTINGS = frozenset({"id_string", "title", "version", "default_language",
                            "clean_text_values"})

_MESSAGES_ID = {
    "xlsform.unreadable": "berkas tidak dapat dibaca sebagai XLSForm",
    "xlsform.bad_header": "judul kolom tidak valid",
    "xlsform.missing_sheet": "lembar kerja tidak ada",
    "xlsform.missing_type": "baris tanpa type",
    "xlsform.unsupported_type": "jenis pertanyaan tidak didukung",
    "xlsform.unsupported_column": "kolom tidak didukung",
    "xlsform.unsupported_sheet": "lembar kerja tidak didukung",
    "xlsform.bad_expression": "ekspresi tidak dapat dibaca",
    "xlsform.missing_choices": "daftar pilihan tidak ada",
    "xlsform.missing_label": "label tidak ada",
    "xlsform.bad_name": "nama tidak valid",
    "xlsform.bad_value": "nilai tidak valid",
    "xlsform.bad_version": "versi bukan bilangan bulat",
    "xlsform.unclosed_group": "grup tidak ditutup",
    "xlsform.unexpected_end": "'end group' tanpa 'begin group'",
    "xlsform.no_settings_id": "form_id tidak ada",
    "xlsform.no_questions": "tidak ada pertanyaan yang dapat diimpor",
    # Errors of checklist_from_dict, mapped back to a row.
    "xlsform.duplicate_id": "nama dipakai dua kali",
    "xlsform.unknown_reference": "merujuk ke pertanyaan yang tidak ada",
    "xlsform.self_reference": "relevant merujuk ke pertanyaan itu sendiri",
    "xlsform.relevance_cycle": "relevant saling bergantung (siklus)",
    "xlsform.bad_choices": "pilihan tidak valid",
    "xlsform.field_not_allowed": "kolom tidak berlaku untuk jenis pertanyaan ini",
    "xlsform.missing_translation": "teks dalam bahasa Indonesia atau Inggris tidak ada",
    "xlsform.missing_field": "isian wajib tidak ada",
}


class XLSFormError(ValueError):
    """A workbook we refuse, with a stable code and the sheet, 1-based row and construct at fault."""

    def __init__(self, code: str, message: str, sheet: str | None = None, row: int | None = None,
                 construct: str | None = None, message_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.sheet = sheet
        self.row = row
        self.construct = construct
        self.message_id = message_id or _MESSAGES_ID.get(code, "XLSForm tidak dapat diimpor")

    def _where(self, row_word: str) -> str:
        if self.sheet and self.row:
            return f"{self.sheet} {row_word} {self.row}"
        return self.sheet or "XLSForm"

    def english(self) -> str:
        """Location and message in English."""
        return f"{self._where('row')}: {self.message}"

    def indonesian(self) -> str:
        """Location and message in Indonesian."""
        return f"{self._where('baris')}: {self.message_id}"

    def __str__(self) -> str:
        return f"{self.english()} [{self.code}]"


@dataclass(frozen=True)
class ImportResult:
    """A valid checklist and what the import changed or dropped on the way, one line each."""

    checklist: Checklist
    warnings: tuple[str, ...]


def import_xlsform(path: str | Path, checklist_id: str | None = None, version: int | None = None,
                   facility_kinds: list[str] | tuple[str, ...] | None = None) -> ImportResult:
    """Read an XLSForm workbook into a validated checklist; raises XLSFormError."""
    path = Path(path)
    book = _read_workbook(path)
    form = _Form(_settings(book))
    form.read_choices(book)
    form.read_survey(book)
    _refuse_entities(book)
    data, locations = form.checklist_dict(path, checklist_id, version, facility_kinds)
    try:
        checklist = checklist_from_dict(data, path.name)
    except ChecklistError as error:
        raise form.mapped_error(error, path.name, locations) from error
    return ImportResult(checklist, form.warnings.lines())


# --- Reading the workbook --------------------------------------------------------------------


def _read_workbook(path: Path):
    """pyxform's raw sheet rows (DefinitionData); any failure to read is xlsform.unreadable."""
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise XLSFormError("xlsform.unreadable", f"{path.name} is not an Excel workbook "
                           f"({', '.join(WORKBOOK_SUFFIXES)})", construct=path.name,
                           message_id=f"{path.name} bukan berkas Excel")
    if not path.is_file():
        # pyxform would read a missing path's text as CSV content, so check first.
        raise XLSFormError("xlsform.unreadable", f"{path} does not exist", construct=path.name,
                           message_id=f"{path} tidak ada")
    try:
        return get_xlsform(path)
    except Exception as error:  # noqa: BLE001 - openpyxl/xlrd raise many types for broken files
        raise XLSFormError("xlsform.unreadable", f"{path.name} cannot be read: {error}",
                           construct=path.name,
                           message_id=f"{path.name} tidak dapat dibaca sebagai XLSForm") from error


def _sheet(name: str, rows, header, aliases_map, columns, **options) -> tuple[dict, ...]:
    """Rows of a sheet with pyxform's header aliases applied and `__row` the Excel row number."""
    try:
        return dealias_and_group_headers(
            sheet_name=name, sheet_data=rows, sheet_header=header, header_aliases=aliases_map,
            header_columns=columns, add_row_number=True, **options).data
    except PyXFormError as error:
        raise XLSFormError("xlsform.bad_header", str(error), name, 1, "header",
                           f"judul kolom lembar {name} tidak valid") from error


@dataclass(frozen=True)
class _Settings:
    """The settings sheet's single row and its Excel row number (None without a sheet)."""

    values: dict
    row: int | None

    @property
    def default_language(self) -> str:
        return self.values.get(constants.DEFAULT_LANGUAGE_KEY) or constants.DEFAULT_LANGUAGE_VALUE

    @property
    def clean_text(self) -> bool:
        return aliases.yes_no.get(self.values.get("clean_text_values", "yes"), True)


def _settings(book) -> _Settings:
    if not book.settings:
        return _Settings({}, None)
    rows = _sheet(constants.SETTINGS, book.settings, book.settings_header, aliases.settings_header,
                  set(Survey.get_slot_names()))
    for row in rows:
        if len(row) > 1:
            return _Settings(row, row["__row"])
    return _Settings({}, None)


def _refuse_entities(book) -> None:
    """Entity declarations make a form write datasets, which a checklist cannot do."""
    for number, row in enumerate(book.entities or (), start=2):
        if row:
            raise XLSFormError("xlsform.unsupported_sheet",
                               "the entities sheet is not supported (ODK entities)",
                               constants.ENTITIES, number, "entities",
                               "lembar entities tidak didukung (entitas ODK)")


# --- Texts and languages ---------------------------------------------------------------------

_INDONESIAN = frozenset({"id", "ind", "indonesian", "indonesia", "bahasa indonesia", "bahasa"})
_ENGLISH = frozenset({"en", "eng", "english"})
_LANGUAGE_NAME = re.compile(r"(?P<name>[^()]*?)\s*(?:\((?P<code>[^()]*)\))?")


def _language(key: str) -> str | None:
    """'id', 'en' or 'plain' (no language given) for a column's language; None for others."""
    key = key.strip().lower()
    if key == constants.DEFAULT_LANGUAGE_VALUE:
        return "plain"
    match = _LANGUAGE_NAME.fullmatch(key)
    name, code = match["name"].strip(), (match["code"] or "").strip()
    if code in ("id", "ind") or name in _INDONESIAN:
        return "id"
    if code == "en" or code.startswith("en-") or name in _ENGLISH:
        return "en"
    return None


class _Warnings:
    """Warnings in first-seen order, one line per kind listing the rows it applies to."""

    def __init__(self):
        self._rows: dict[str, list[int]] = {}

    def add(self, text: str, row: int | None = None) -> None:
        rows = self._rows.setdefault(text, [])
        if row is not None and row not in rows:
            rows.append(row)

    def lines(self) -> tuple[str, ...]:
        return tuple(text + _rows_note(rows) for text, rows in self._rows.items())


def _rows_note(rows: list[int]) -> str:
    if not rows:
        return ""
    shown = ", ".join(str(row) for row in rows[:10])
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return f" ({'row' if len(rows) == 1 else 'rows'} {shown}{more})"


# --- The form --------------------------------------------------------------------------------


@dataclass
class _Question:
    """An item being built, with what pass two still has to finish."""

    row: int
    data: dict
    relevant: list[tuple[str, int]]  # (expression, row): enclosing groups' first, then its own
    constraint: str | None = None
    choice_rows: tuple[int, ...] = ()


@dataclass
class _Section:
    id: str
    title: dict
    row: int
    questions: list[_Question] = field(default_factory=list)


@dataclass
class _Group:
    """An open `begin group`: the section it feeds and its own relevance."""

    name: str
    row: int
    section: _Section
    relevant: str | None


class _Form:
    """The survey walked row by row into sections and questions."""

    def __init__(self, settings: _Settings):
        self.settings = settings
        self.warnings = _Warnings()
        self.other_languages: dict[str, None] = {}
        self.choices: dict[str, list[dict]] = {}
        self.sections: dict[str, _Section] = {}
        self.groups: list[_Group] = []
        self.renames: dict[str, str] = {}
        self.ynp: dict[str, dict[str, str]] = {}  # item id -> {choice name: ynp value}
        self.skipped: dict[str, tuple[int, str]] = {}  # name -> (row, type) of rows not imported

    # -- sheets --

    def read_choices(self, book) -> None:
        if not book.choices:
            return
        rows = _sheet(constants.CHOICES, book.choices, book.choices_header, aliases.list_header,
                      set(Option.get_slot_names()), headers_required={constants.NAME},
                      default_language=self.settings.default_language)
        for row in rows:
            list_name = row.get(constants.LIST_NAME_S)
            if list_name:
                self.choices.setdefault(list_name, []).append(row)

    def read_survey(self, book) -> None:
        if not book.survey:
            raise XLSFormError("xlsform.missing_sheet", "the workbook has no survey sheet",
                               constants.SURVEY, None, "survey", "lembar survey tidak ada")
        rows = _sheet(constants.SURVEY, book.survey, book.survey_header, aliases.survey_header,
                      set(MultipleChoiceQuestion.get_slot_names()),
                      headers_required={constants.TYPE},
                      default_language=self.settings.default_language,
                      strip_whitespace=self.settings.clean_text)
        for row in rows:
            self._survey_row(row)
        if self.groups:
            group = self.groups[-1]
            raise XLSFormError("xlsform.unclosed_group",
                               f"group '{group.name}' is never closed (no 'end group')",
                               constants.SURVEY, group.row, "begin group",
                               f"grup '{group.name}' tidak pernah ditutup ('end group' tidak ada)")

    def _survey_row(self, row: dict) -> None:
        number = row["__row"]
        type_text = row.get(constants.TYPE)
        if not type_text:
            if len(row) > 1:
                raise XLSFormError("xlsform.missing_type", "the row has no type",
                                   constants.SURVEY, number, "type", "baris ini tidak punya type")
            return
        kind, detail = _classify(type_text, number)
        if kind == "begin_group":
            self._begin_group(row)
        elif kind == "end_group":
            self._end_group(row)
        elif kind in ("note", "metadata"):
            if row.get("name"):
                self.skipped[row["name"]] = (number, type_text)
            if kind == "note":
                self.warnings.add("survey: notes are not imported", number)
        else:
            self._question(row, kind, detail)

    # -- groups and sections --

    def _begin_group(self, row: dict) -> None:
        number = row["__row"]
        columns = self._columns(row, _GROUP_COLUMNS)
        name = self._name(row, "group")
        relevant = self._expression(columns, "relevant", number)
        if "hint" in columns:
            self.warnings.add("survey: hints of groups are not kept", number)
        if self.groups:
            outer = self.groups[0].section
            self.warnings.add("survey: groups inside groups are flattened into their outer "
                              "section; the inner group's label is not kept", number)
            self.groups.append(_Group(name, number, outer, relevant))
            return
        title = self._text(columns, "label", number, required=False)
        if title is None:
            title = {"id": name, "en": name}
            self.warnings.add("survey: a group without a label is titled with its name", number)
        self.groups.append(_Group(name, number, self._new_section(name, title, number), relevant))

    def _end_group(self, row: dict) -> None:
        if not self.groups:
            raise XLSFormError("xlsform.unexpected_end", "'end group' without a 'begin group'",
                               constants.SURVEY, row["__row"], "end group",
                               "'end group' tanpa 'begin group'")
        self.groups.pop()

    def _new_section(self, section_id: str, title: dict, row: int) -> _Section:
        if section_id in self.sections:
            why = " ('umum' holds the questions outside groups)" if section_id == "umum" else ""
            raise XLSFormError("xlsform.duplicate_id", f"section '{section_id}' is used twice{why}",
                               constants.SURVEY, row, "name",
                               f"bagian '{section_id}' dipakai dua kali")
        section = _Section(section_id, title, row)
        self.sections[section_id] = section
        return section

    def _current_section(self, row: int) -> _Section:
        if self.groups:
            return self.groups[0].section
        section_id, title = DEFAULT_SECTION
        if section_id not in self.sections:
            return self._new_section(section_id, dict(title), row)
        return self.sections[section_id]

    # -- questions --

    def _question(self, row: dict, kind: str, list_name: str | None) -> None:
        number = row["__row"]
        columns = self._columns(row, _QUESTION_COLUMNS)
        item_id = self._name(row, "question")
        label = self._text(columns, "label", number, required=True)
        data = {"id": item_id, "type": kind, "label": label}
        hint = self._text(columns, "hint", number, required=False)
        if hint is not None:
            data["hint"] = hint
        if "required" in columns:
            data["required"] = self._boolean(columns, "required", number)
        question = _Question(number, data, self._group_relevance())
        own = self._expression(columns, "relevant", number)
        if own is not None:
            question.relevant.append((own, number))
        self._constraint(question, columns)
        if "weight" in columns:
            data["weight"] = self._number(columns, "weight", number)
        if "critical" in columns:
            data["critical"] = self._boolean(columns, "critical", number)
        if list_name is not None:
            self._choices(question, list_name)
        self._current_section(number).questions.append(question)

    def _group_relevance(self) -> list[tuple[str, int]]:
        return [(group.relevant, group.row) for group in self.groups if group.relevant]

    def _constraint(self, question: _Question, columns: dict) -> None:
        number = question.row
        question.constraint = self._expression(columns, "constraint", number)
        message = self._text(columns, "constraint_message", number, required=False)
        if question.constraint is None:
            if message is not None:
                self.warnings.add("survey: constraint_message without a constraint is ignored",
                                  number)
            return
        if message is None:
            message = {"id": "Jawaban tidak memenuhi syarat.",
                       "en": "The answer does not meet the constraint."}
            self.warnings.add("survey: a constraint without constraint_message gets a generic "
                              "message", number)
        question.data["constraint_message"] = message

    def _choices(self, question: _Question, list_name: str) -> None:
        number = question.row
        rows = self.choices.get(list_name)
        if not rows:
            raise XLSFormError("xlsform.missing_choices",
                               f"choice list '{list_name}' is not in the choices sheet",
                               constants.SURVEY, number, list_name,
                               f"daftar pilihan '{list_name}' tidak ada di lembar choices")
        mapping = _ynp_mapping(rows) if question.data["type"] == "select_one" else None
        if mapping is not None:
            question.data["type"] = "ynp"
            if "tidak_berlaku" not in mapping.values():
                question.data["allow_na"] = False
            self.ynp[question.data["id"]] = mapping
            self.warnings.add(f"survey: select_one {list_name} ({', '.join(mapping)}) becomes a "
                              "scored ya/tidak/sebagian item (weight 1 unless a weight column "
                              "says otherwise)", number)
            return
        for row in rows:
            if not row.get("name"):
                raise XLSFormError("xlsform.bad_name", f"a choice of list '{list_name}' has no name",
                                   constants.CHOICES, row["__row"], "name",
                                   f"pilihan dalam daftar '{list_name}' tidak punya nama")
        question.data["choices"] = [
            {"value": row["name"],
             "label": self._text(row, "label", row["__row"], required=True,
                                 sheet=constants.CHOICES)}
            for row in rows]
        question.choice_rows = tuple(row["__row"] for row in rows)

    # -- cells --

    def _columns(self, row: dict, allowed: frozenset[str]) -> dict:
        """The row's cells by XLSForm column name; refuses columns that would change answers."""
        number = row["__row"]
        columns = {}
        for name, value in _flat_columns(row):
            if name in allowed:
                columns[name] = value
            elif name in _PRESENTATION_COLUMNS:
                self.warnings.add(f"survey: column '{name}' only affects how a form looks "
                                  f"and is ignored", number)
            elif _known_to_pyxform(name):
                raise XLSFormError(
                    "xlsform.unsupported_column",
                    f"column '{name}' is not supported on a {row.get(constants.TYPE)} row",
                    constants.SURVEY, number, name,
                    f"kolom '{name}' tidak didukung pada baris {row.get(constants.TYPE)}")
            else:
                self.warnings.add(f"survey: column '{name}' is not an XLSForm column and is "
                                  f"ignored", number)
        return columns

    def _name(self, row: dict, what: str) -> str:
        number, name = row["__row"], row.get("name")
        if not name:
            raise XLSFormError("xlsform.bad_name", f"the {what} has no name", constants.SURVEY,
                               number, "name", "nama tidak ada")
        lowered = name.lower()
        if not _ID.fullmatch(lowered):
            raise XLSFormError(
                "xlsform.bad_name",
                f"name '{name}' must use only a-z, 0-9 and _ (at most 64 characters)",
                constants.SURVEY, number, name,
                f"nama '{name}' hanya boleh berisi a-z, 0-9 dan _ (paling banyak 64 karakter)")
        if lowered != name:
            self.renames[name] = lowered
            self.warnings.add("survey: names are lower-cased, and references to them too",
                              number)
        return lowered

    def _text(self, cells: dict, column: str, number: int, *, required: bool,
              sheet: str = constants.SURVEY) -> dict | None:
        """A bilingual {id, en} text from a cell that may hold several languages."""
        found: dict[str, str] = {}
        others = []
        value = cells.get(column)
        for key, text in ({"default": value} if isinstance(value, str) else value or {}).items():
            if not isinstance(text, str) or not text.strip():
                continue
            language = _language(key)
            if language is None:
                others.append(key)
                self.other_languages[key] = None
            else:
                found.setdefault(language, text)
        if not found:
            if required:
                seen = ", ".join(others)
                raise XLSFormError(
                    "xlsform.missing_label",
                    f"no {column} in Indonesian or English" + (f" (only in: {seen})" * bool(seen)),
                    sheet, number, column,
                    f"{column} dalam bahasa Indonesia atau Inggris tidak ada"
                    + (f" (hanya dalam: {seen})" * bool(seen)))
            return None
        return self._bilingual(found, sheet, column, number)

    def _bilingual(self, found: dict[str, str], sheet: str, column: str, number: int) -> dict:
        indonesian = found.get("id") or found.get("plain")
        english = found.get("en") or found.get("plain")
        if "plain" in found and not ({"id", "en"} & found.keys()):
            self.warnings.add(f"{sheet}: {column} has no language; the same text is used for "
                              f"Indonesian and English", number)
        elif "plain" in found and ("id" not in found or "en" not in found):
            missing = "Indonesian" if "id" not in found else "English"
            self.warnings.add(f"{sheet}: {column} without a language is used as the {missing} "
                              f"text", number)
        if indonesian is None:
            indonesian = english
            self.warnings.add(f"{sheet}: {column} has no Indonesian text; the English one is used",
                              number)
        if english is None:
            english = indonesian
            self.warnings.add(f"{sheet}: {column} has no English text; the Indonesian one is used",
                              number)
        return {"id": indonesian, "en": english}

    def _expression(self, columns: dict, column: str, number: int) -> str | None:
        """An expression cell, checked now against our parser so the error names this row."""
        text = columns.get(column)
        if text is None:
            return None
        if not isinstance(text, str):
            raise XLSFormError("xlsform.bad_value", f"{column} must be one expression",
                               constants.SURVEY, number, column,
                               f"{column} harus berupa satu ekspresi")
        try:
            parse(text)
        except ExpressionError as error:
            raise _bad_expression(column, text, number, error) from None
        return text

    def _boolean(self, columns: dict, column: str, number: int) -> bool:
        value = str(columns[column]).strip().lower()
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        raise XLSFormError(
            "xlsform.bad_value",
            f"{column} must be yes or no, not '{columns[column]}' (a condition is not supported)",
            constants.SURVEY, number, column,
            f"{column} harus yes atau no, bukan '{columns[column]}' (syarat tidak didukung)")

    def _number(self, columns: dict, column: str, number: int) -> int | float:
        value = str(columns[column]).strip()
        try:
            result = float(value)
        except ValueError:
            raise XLSFormError("xlsform.bad_value", f"{column} must be a number, not '{value}'",
                               constants.SURVEY, number, column,
                               f"{column} harus berupa angka, bukan '{value}'") from None
        return int(result) if result.is_integer() else result

    # -- pass two: the checklist dict --

    def checklist_dict(self, path: Path, checklist_id: str | None, version: int | None,
                       facility_kinds) -> tuple[dict, dict[str, tuple[str, int | None]]]:
        """The checklist as plain data, and where each path in it came from in the workbook."""
        locations: dict[str, tuple[str, int | None]] = {}
        if self.settings.row:
            for key in ("id", "version", "title"):
                locations[key] = (constants.SETTINGS, self.settings.row)
        source = f"XLSForm {path.name}"
        final_id = self._checklist_id(path, checklist_id)
        data = {
            "id": final_id,
            "version": self._version(version),
            "title": self._title(final_id),
            "facility_kinds": list(facility_kinds) if facility_kinds else ["all"],
            "source": source,
            "source_status": SOURCE_STATUS,
            "source_note": {
                "id": f"Diimpor dari XLSForm {path.name}; sumber kriteria belum diperiksa.",
                "en": f"Imported from the XLSForm {path.name}; the source of the criteria has "
                      f"not been checked."},
            "scoring": {"memenuhi_min": MEMENUHI_MIN},
            "sections": self._sections(source, locations),
        }
        self._settings_warnings()
        return data, locations

    def _sections(self, source: str, locations: dict) -> list[dict]:
        sections = []
        for section in self.sections.values():
            if not section.questions:
                self.warnings.add("survey: a group without questions to import is dropped",
                                  section.row)
                continue
            path = f"sections[{len(sections)}]"
            locations[path] = (constants.SURVEY, section.row)
            items = []
            for index, question in enumerate(section.questions):
                locations[f"{path}.items[{index}]"] = (constants.SURVEY, question.row)
                for choice, row in enumerate(question.choice_rows):
                    locations[f"{path}.items[{index}].choices[{choice}]"] = (constants.CHOICES, row)
                items.append(self._item(question))
            sections.append({"id": section.id, "title": section.title, "source": source,
                             "items": items})
        if not sections:
            raise XLSFormError("xlsform.no_questions", "the form has no questions we can import",
                               constants.SURVEY, None, "survey",
                               "formulir tidak berisi pertanyaan yang dapat diimpor")
        return sections

    def _item(self, question: _Question) -> dict:
        """The item with its expressions' references renamed and ynp literals translated."""
        data = dict(question.data)
        parts = [self._rewrite(text, row, "relevant", None) for text, row in question.relevant]
        if parts:
            data["relevant"] = parts[0] if len(parts) == 1 else " and ".join(
                f"({part})" for part in parts)
        if question.constraint is not None:
            data["constraint"] = self._rewrite(question.constraint, question.row, "constraint",
                                               data["id"])
        return data

    def _rewrite(self, text: str, row: int, column: str, current: str | None) -> str:
        try:
            return _rewrite(text, self.renames, self.ynp, current)
        except ExpressionError as error:
            raise _bad_expression(column, text, row, error) from None

    def _checklist_id(self, path: Path, argument: str | None) -> str:
        if argument is not None:
            if not _ID.fullmatch(argument):
                raise XLSFormError("xlsform.bad_name",
                                   f"checklist id '{argument}' must match [a-z0-9_]+",
                                   None, None, "checklist_id",
                                   f"id checklist '{argument}' harus cocok dengan [a-z0-9_]+")
            return argument
        form_id = self.settings.values.get("id_string")
        if form_id:
            if not _ID.fullmatch(form_id.lower()):
                raise XLSFormError(
                    "xlsform.bad_name",
                    f"form_id '{form_id}' must use only a-z, 0-9 and _; pass another id",
                    constants.SETTINGS, self.settings.row, "form_id",
                    f"form_id '{form_id}' hanya boleh berisi a-z, 0-9 dan _; berikan id lain")
            return form_id.lower()
        if _ID.fullmatch(path.stem.lower()):
            self.warnings.add("settings: no form_id, so the id is the file name "
                              f"'{path.stem.lower()}'")
            return path.stem.lower()
        raise XLSFormError("xlsform.no_settings_id",
                           f"no form_id in the settings sheet and the file name '{path.stem}' "
                           f"is not a valid id; pass an id", constants.SETTINGS, self.settings.row,
                           "form_id",
                           f"form_id tidak ada di lembar settings dan nama berkas '{path.stem}' "
                           f"bukan id yang valid; berikan id")

    def _version(self, argument: int | None) -> int:
        if argument is not None:
            if isinstance(argument, bool) or not isinstance(argument, int) or argument < 1:
                raise XLSFormError("xlsform.bad_version",
                                   f"version {argument!r} must be a positive whole number",
                                   None, None, "version",
                                   f"versi {argument!r} harus bilangan bulat positif")
            return argument
        text = self.settings.values.get("version")
        if text is None:
            self.warnings.add("settings: no version, so the version is 1")
            return 1
        if re.fullmatch(r"\s*[0-9]+\s*", text) and int(text) > 0:
            return int(text)
        raise XLSFormError(
            "xlsform.bad_version",
            f"version '{text}' is not a positive whole number; pass a version number",
            constants.SETTINGS, self.settings.row, "version",
            f"versi '{text}' bukan bilangan bulat positif; berikan nomor versi")

    def _title(self, checklist_id: str) -> dict:
        title = self._text(self.settings.values, "title", self.settings.row or 1,
                           required=False, sheet=constants.SETTINGS)
        if title is None:
            self.warnings.add("settings: no form_title, so the title is the id")
            return {"id": checklist_id, "en": checklist_id}
        return title

    def _settings_warnings(self) -> None:
        ignored = sorted(key for key in self.settings.values
                         if key != "__row" and key not in _USED_SETTINGS)
        if ignored:
            self.warnings.add(f"settings: ignored {', '.join(ignored)}")
        if self.other_languages:
            self.warnings.add("languages other than Indonesian and English are ignored: "
                              f"{', '.join(self.other_languages)}")

    # -- errors from validation --

    def mapped_error(self, error: ChecklistError, origin: str,
                     locations: dict[str, tuple[str, int | None]]) -> XLSFormError:
        """A ChecklistError turned into an XLSFormError naming the row it came from."""
        prefix = f"{origin}: "
        path = error.location[len(prefix):] if error.location.startswith(prefix) else ""
        matches = [key for key in locations if path == key or path.startswith(key + ".")]
        best = max(matches, key=len, default=None)
        sheet, row = locations[best] if best else (None, None)
        construct = path[len(best) + 1:] if best and path != best else (path or None)
        code = "xlsform." + error.code.split(".", 1)[-1]
        message = f"{construct}: {error.message}" if construct else error.message
        message += self._skipped_note(error)
        indonesian = _MESSAGES_ID.get(code, "checklist tidak valid")
        return XLSFormError(code, message, sheet, row, construct,
                            f"{construct}: {indonesian} ({error.message})" if construct
                            else f"{indonesian} ({error.message})")

    def _skipped_note(self, error: ChecklistError) -> str:
        """Explain a reference to a row that was not imported (a note or metadata)."""
        match = re.search(r"\$\{([^}]*)\}", error.message)
        if error.code != "checklist.unknown_reference" or not match:
            return ""
        skipped = self.skipped.get(match[1])
        return f" (row {skipped[0]} is a '{skipped[1]}' row, which is not imported)" if skipped else ""


# --- Types -----------------------------------------------------------------------------------


def _classify(type_text: str, row: int) -> tuple[str, str | None]:
    """(kind, list name) of a type cell; kind is an item type, a group edge, note or metadata."""
    text = " ".join(type_text.split())
    lowered = text.lower()
    control = _CONTROL.fullmatch(lowered)
    if control:
        word = control["word"]
        if word == "group":
            return f"{control['edge']}_group", None
        if word.startswith("loop"):
            raise _unsupported(text, row, "loops", "perulangan")
        if word in ("repeat", "lgroup", "looped group"):
            raise _unsupported(text, row, "repeats", "pengulangan")
        raise _unsupported(text, row, *_UNKNOWN_TYPE)
    select = RE_SELECT.fullmatch(text)
    if select:
        return _select_kind(select, text, row)
    if lowered in aliases.select:
        raise XLSFormError("xlsform.missing_choices", f"'{text}' names no choice list",
                           constants.SURVEY, row, text, f"'{text}' tidak menyebut daftar pilihan")
    if RE_OSM.fullmatch(text):
        raise _unsupported(text, row, "OpenStreetMap questions", "pertanyaan OpenStreetMap")
    lowered = aliases._type_alias_map.get(lowered, lowered)
    if lowered in _TYPES:
        return _TYPES[lowered], None
    if lowered == "note":
        return "note", None
    if lowered.removeprefix("uri:") in METADATA_TYPES:
        return "metadata", None
    raise _unsupported(text, row, *_REFUSED_TYPES.get(lowered, _UNKNOWN_TYPE))


def _select_kind(select: re.Match, text: str, row: int) -> tuple[str, str]:
    command = aliases.select[select["select_command"]]
    if select["specify_other"]:
        raise _unsupported(text, row, "free-text 'other' answers, or_other",
                           "jawaban 'lainnya' bebas, or_other")
    if select["select_command"] in aliases.select_from_file:
        raise _unsupported(text, row, "choices from a file", "pilihan dari berkas")
    if command == constants.SELECT_ONE:
        return "select_one", select["list_name"]
    if command == constants.SELECT_ALL_THAT_APPLY:
        return "select_multiple", select["list_name"]
    if command == constants.SELECT_ONE_EXTERNAL:
        raise _unsupported(text, row, "external selects", "pilihan eksternal")
    raise _unsupported(text, row, "ranking questions", "pertanyaan peringkat")


def _unsupported(type_text: str, row: int, reason: str, reason_id: str) -> XLSFormError:
    return XLSFormError("xlsform.unsupported_type", f"'{type_text}' is not supported ({reason})",
                        constants.SURVEY, row, type_text,
                        f"'{type_text}' tidak didukung ({reason_id})")


def _ynp_mapping(rows: list[dict]) -> dict[str, str] | None:
    """{choice name: ynp value} when a list is a yes/no(/partial/na) list, else None."""
    names = [row.get("name") for row in rows]
    if not all(isinstance(name, str) for name in names):
        return None
    mapping = {name: _YNP_NAMES.get(name.lower()) for name in names}
    values = list(mapping.values())
    if None in values or len(set(values)) != len(names) or not {"ya", "tidak"} <= set(values):
        return None
    return mapping


# --- Columns and expressions -----------------------------------------------------------------


def _flat_columns(row: dict):
    """(XLSForm column name, value) pairs of a pyxform row, with bind/body columns un-nested."""
    for key, value in row.items():
        if key in ("__row", constants.TYPE):
            continue
        if key == "bind" and isinstance(value, dict):
            for sub, cell in value.items():
                yield _BIND_COLUMNS.get(sub, f"bind::{sub}"), cell
        elif key == "control" and isinstance(value, dict):
            for sub, cell in value.items():
                yield _CONTROL_COLUMNS.get(sub, f"body::{sub}"), cell
        elif key in _PYXFORM_COLUMNS:
            yield key, value
        else:
            yield key.lower(), value


def _known_to_pyxform(name: str) -> bool:
    """Whether XLSForm gives the column a meaning (so ignoring it would change the form)."""
    return (name in _PYXFORM_COLUMNS or name in _BIND_COLUMNS.values()
            or name in _CONTROL_COLUMNS.values() or name.startswith(("bind::", "body::")))


def _bad_expression(column: str, text: str, row: int, error: ExpressionError) -> XLSFormError:
    where = "" if error.position is None else f" at position {error.position}"
    return XLSFormError("xlsform.bad_expression",
                        f"{column} {text!r} cannot be used: {error.message}{where} ({error.code})",
                        constants.SURVEY, row, column,
                        f"{column} {text!r} tidak dapat dipakai: {error.message_id}")


def _rewrite(text: str, renames: dict[str, str], ynp: dict[str, dict[str, str]],
             current: str | None) -> str:
    """Expression text with renamed references and ynp choice literals translated."""
    tokens = tokenize(text)
    replacements: dict[int, tuple[int, str]] = {}  # position -> (length, new text)
    referenced = set()
    for token in tokens:
        if token.kind == "ref":
            name = renames.get(token.value, token.value)
            referenced.add(name)
            if name != token.value:
                replacements[token.position] = (len(token.value) + 3, f"${{{name}}}")
    if current is not None and any(token.kind == "dot" for token in tokens):
        referenced.add(current)
    mapped = sorted(name for name in referenced if name in ynp)
    if mapped:
        for index, token in enumerate(tokens):
            if token.kind == "string":
                _translate_literal(tokens, index, text, renames, ynp, current, mapped,
                                   replacements)
    pieces, last = [], 0
    for position in sorted(replacements):
        length, new = replacements[position]
        pieces.extend([text[last:position], new])
        last = position + length
    return "".join(pieces) + text[last:]


def _translate_literal(tokens: list[Token], index: int, text: str, renames, ynp, current,
                       mapped: list[str], replacements: dict) -> None:
    """Translate one string literal compared with a ynp item; refuse one we cannot attribute."""
    token = tokens[index]
    owner = _literal_owner(tokens, index)
    if owner is not None:
        name = current if owner.kind == "dot" else renames.get(owner.value, owner.value)
        value = ynp.get(name, {}).get(token.value)
        if value is not None and value != token.value:
            quote = text[token.position]
            replacements[token.position] = (len(token.value) + 2, f"{quote}{value}{quote}")
        return
    for name in mapped:
        if ynp[name].get(token.value, token.value) != token.value:
            raise ExpressionError(
                "expr.bad_argument",
                f"'{token.value}' is an answer of '{name}', which becomes a ya/tidak item, but "
                f"it is not compared with it directly (${{{name}}} = '...' or selected()), so "
                f"it cannot be translated", token.position,
                f"'{token.value}' tidak dapat diterjemahkan ke ya/tidak untuk '{name}'")


def _literal_owner(tokens: list[Token], index: int) -> Token | None:
    """The ${ref} or `.` a literal is compared with (`=`, `!=`) or tested by selected()."""
    def at(offset: int) -> Token | None:
        position = index + offset
        return tokens[position] if 0 <= position < len(tokens) else None

    def is_subject(token: Token | None) -> bool:
        return token is not None and token.kind in ("ref", "dot")

    def is_op(token: Token | None, *values: str) -> bool:
        return token is not None and token.kind == "op" and token.value in values

    if is_op(at(-1), "=", "!=") and is_subject(at(-2)):
        return at(-2)
    if is_op(at(1), "=", "!=") and is_subject(at(2)):
        return at(2)
    if (is_op(at(-1), ",") and is_subject(at(-2)) and is_op(at(-3), "(")
            and at(-4) is not None and at(-4).kind == "name" and at(-4).value == "selected"):
        return at(-2)
    return None
