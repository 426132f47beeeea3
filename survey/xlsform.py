"""Import an XLSForm workbook as a checklist. Pure: no Flask, no files written.

pyxform reads the workbook and normalises its headers as it does for ODK (aliases such as `list name`
and `relevance`, `label::English (en)` and the old `label:english`, upper-case columns, smart quotes in
cells). We then map the rows onto the checklist format (docs/checklist-format.md) ourselves instead of
converting to an XForm, because every error and warning must name the sheet and row, and the mapping
targets our own item types. `checklist_from_dict` validates the result; its errors are mapped back to
the row they came from.

Decisions (for form authors: docs/xlsform.md):
- Question types are read through pyxform's own type table, so every alias pyxform accepts (`phone
  number`, `gps`, `q int`, `add text prompt`, ...) is accepted, with the constraint or hint pyxform adds.
  `barcode` is typed in as text; `range` becomes a number with its start and end as min and max (its
  `parameters` read by pyxform's own parser: `start=1 end=5`, `start=1, end=5`, `start = 1; end = 5`);
  metadata (`start`, `end`, `today`, `deviceid`, ...) become hidden items (`start`/`end` take now(),
  `today` today()) so expressions and notes that name them work.
- Structure: a top-level `begin group` is a section; questions outside any group go to the section
  `umum` (Umum/General); a top-level repeat is a section of its own holding the repeat. Groups inside
  are kept as sub-headings (group containers) and repeats as repeat containers, nested as written, with
  their relevance; a section's relevance is ANDed into what it holds (sections have none of their own).
  `repeat_count` is the repeat's count. A `begin loop over list` is expanded as pyxform does: one group
  per choice, `%(label)s` in labels replaced by the choice's label, names suffixed by the choice name; a
  reference from one question of the loop to another names the copy of the same choice (pyxform refuses
  such references as ambiguous).
- Scored items: a select_one is the scored ya/tidak/sebagian item (`ynp`) only when its row says so,
  with `scored` = yes or a `weight` or `critical` column; its list must then be a yes/no list (names ya,
  tidak, optionally sebagian and tidak_berlaku, or the English yes/no/partial/na). Any other select stays
  a select with its own choices: the importer never changes what is asked. String literals compared with
  a scored item are rewritten to ya/tidak/..., as is its literal default; a literal we cannot tie to one
  item is refused. `scored`, `weight` or `critical` on any other row, and `or_other` on a scored row, are
  refused.
- `select_one ${name}` offers the answers `name` got in a repeat's entries (`choices_from`), as ODK's dynamic
  choices do, with a choice_filter read in each entry; the scored marking or or_other are refused there.
- `or_other`: as pyxform does, the list gains the choice `other` (unless it has its own) and a text item
  `<name>_other` follows, shown when `other` is chosen.
- Choices from files: `select_one_from_file x.csv` (and select_multiple) take their choices from the CSV
  attachment of that name (columns name, label or label::language, and any other column for choice
  filters); `select_one_external` from the workbook's external_choices sheet; `pulldata('t', ...)` and
  `csv-external t` need the attachment `t.csv`, kept in the checklist as a table. ODK Collect's
  `search('t')` appearance on a select takes its choices from `t.csv` too: the list's first row names the
  CSV columns of value and label, its other rows are offered as well, and `search('t', 'matches',
  'column', value)` (or contains, startswith, endswith) becomes a choice filter. A missing attachment is
  refused by name; an attachment the form never names is reported in a warning. Choice values are
  unique: a name used twice in a list is refused, except under a `choice_filter` or with the setting
  `allow_choice_duplicates` = yes (pyxform then accepts it), where the first row is kept with a warning.
- Defaults: a default is an expression or a literal answer as pyxform decides (`today()`, `${a}`, `7 - 4`
  are expressions; `2026-01-31`, `f-4`, `(https://x.org)` are literals). The checklist reads `(` or `${`
  as the mark of an expression, so an expression without either is stored in parentheses (`(7 - 4)`).
  A `calculate` with a default and no calculation is set once from it, as ODK does: a hidden item.
- Labels: a question needs one, as pyxform does, but takes what pyxform shows instead: its hint (which
  then stands as the label), or its name when only an image or recording labels it (media are not
  shown here). A question with a calculation and neither label nor hint has no control in pyxform's
  form, so it is a calculate. Each with a warning.
- Names: XLSForm names are mapped to ids: lower case, `-` and `.` become `_` (references follow, with a
  warning); two names that map to one id are refused.
- Settings: the id is the `checklist_id` argument, else `form_id`, else the file name, normalised: lower
  case, any run of other characters (`-`, `.`, spaces, ...) as `_` (with a warning); given both `form_id`
  and its alias `id_string`, `form_id` is used (with a warning), as pyxform does. `version` is any
  text: kept as the version label; the version number is the `version` argument (the catalog's
  sequence), else `version` when it is a whole number up to 2^31-1 (then no label), else 1.
- Texts: Indonesian (`id`, `Indonesian (id)`, `Bahasa Indonesia`) and English (`en`, `English (en)`)
  are used; a text in one of them serves the other, with a warning. A form in neither uses its default
  language (settings `default_language`, else the first language of the form) for both, with a warning;
  other languages are dropped with a warning.
- Refused (never half-imported): audio, video, file and OpenStreetMap uploads, lines and shapes on a
  map, ranking, triggers, `xml-external` data, automatic background locations and recordings, columns
  XLSForm gives a meaning we do not support (`trigger`, XForms, JavaRosa and ODK attributes in `bind::...`
  such as `bind::odk:length`), and expressions our parser does not read (instance(), XPath paths, ...).
  Ignored with a warning, as the form works without them: the entities sheet (entity-list updates), the
  audit log, presentation-only columns (media, guidance_hint, required_message, `body::...`, ...), other
  vendors' `bind::` attributes that ODK does not act on (`bind::esri:fieldType`), columns XLSForm does not
  know, and question columns filled down over rows where they mean nothing (`required` on a note,
  `required`/`constraint`/`default`/... on a group or repeat).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pyxform import aliases, constants
from pyxform.errors import PyXFormError
from pyxform.parsing.parameters import parse as parse_parameters
from pyxform.parsing.sheet_headers import dealias_and_group_headers
from pyxform.question import MultipleChoiceQuestion, Option
from pyxform.question_type_dictionary import QUESTION_TYPE_DICT
from pyxform.survey import Survey
from pyxform.utils import default_is_dynamic
from pyxform.xls2json import RE_OSM, RE_SELECT
from pyxform.xls2json_backends import get_xlsform

from survey.checklist import Checklist, ChecklistError, checklist_from_dict
from survey.expressions import RELATIVE_REF, ExpressionError, Token, parse, tokenize

SOURCE_STATUS = "unverified"
MEMENUHI_MIN = 0.8
DEFAULT_SECTION = ("umum", {"id": "Umum", "en": "General"})
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
MAX_ATTACHMENT_ROWS = 50_000
MAX_VERSION = 2**31 - 1  # a dated version such as 2024010101 is a number; the catalog stores a 32-bit integer

_ID = re.compile(r"[a-z0-9_]{1,64}")
# ODK Collect's search() appearance: search('file'[, 'matches'|'contains'|'startswith'|'endswith', 'column', value])
_SEARCH = re.compile(r"""search\(\s*(?P<q>['"])(?P<file>[^'"]+)(?P=q)\s*(?:,\s*(?P<q2>['"])(?P<mode>matches|contains|"""
                     r"""startswith|endswith)(?P=q2)\s*,\s*(?P<q3>['"])(?P<column>[^'"]+)(?P=q3)\s*,\s*"""
                     r"""(?P<value>[^)]*?))?\s*\)""", re.IGNORECASE)
_SEARCH_MODES = {"contains": "contains", "startswith": "starts-with", "endswith": "ends-with"}
_CONTROL = re.compile(r"(?P<edge>begin|end)[ _](?P<word>.+)")
_LOOP = re.compile(r"begin[ _]loop[ _]over[ _](?P<list>\S+)")
_SMART_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
# What pyxform's bind type means here (inputs: control tag `input`).
_INPUT_TYPES = {"string": "text", "int": "integer", "decimal": "decimal", "date": "date", "time": "time",
                "dateTime": "datetime", "geopoint": "gps", "barcode": "text"}
# Our item types whose pyxform bind type decides whether a `-` in a default is a date's, not a minus.
_PYXFORM_BIND_TYPES = {"date": "date", "datetime": "dateTime", "gps": "geopoint"}
# Metadata (jr:preload) as hidden items; the default fills them where ODK would.
_PRELOAD_DEFAULTS = {"start": "now()", "end": "now()", "today": "today()"}
# Types XLSForm has and we do not: (English, Indonesian) reason shown in the error.
# Uploads other than photos: a `file` item taking recordings, videos, documents or OpenStreetMap data.
_UPLOADS = {"audio/*": "audio", "video/*": "video", "application/*": "file", "osm/*": "osm"}
_REFUSED_BINDS = {"geotrace": ("lines on a map", "garis di peta"), "geoshape": ("shapes on a map", "bidang di peta"),
                  "odk:rank": ("ranking questions", "pertanyaan peringkat")}
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
# XForms bind attributes (lower case): a `bind::` column naming one changes the form, so it is never ignored.
_XFORMS_BIND_ATTRIBUTES = frozenset({"nodeset", "type", "readonly", "required", "relevant", "constraint",
                                     "calculate", "saveincomplete", "preload", "preloadparams"})
_CONTROL_COLUMNS = {"appearance": "appearance", "rows": "rows", "autoplay": "autoplay",
                    "jr:count": "repeat_count"}
_QUESTION_COLUMNS = frozenset({"type", "name", "label", "hint", "relevant", "required", "constraint",
                               "constraint_message", "weight", "critical", "scored", "calculation", "default",
                               "read_only", "choice_filter", "appearance", "parameters", *("kla_source",
                               "kla_source_status", "kla_source_text", "kla_min", "kla_max")})
_GROUP_COLUMNS = frozenset({"type", "name", "label", "hint", "relevant", "appearance", "repeat_count", "kla_source",
                            "kla_source_status", "kla_source_text"})
_ENTITY_COLUMNS = frozenset({"save_to", "bind::entities:saveto"})
# Pantau KLA's own settings (survey.xlsform_writer): what a downloaded checklist carries back on import.
_KLA_SETTINGS = frozenset({"kla_facility_kinds", "kla_source", "kla_source_status", "kla_memenuhi_min",
                           "kla_description", "kla_source_note", "kla_source_text"})
# Question columns pyxform accepts on a group row but that mean nothing there (a column filled down the sheet).
_IGNORED_ON_GROUPS = frozenset({"required", "read_only", "constraint", "constraint_message", "default",
                                "choice_filter", "calculation", "parameters"})
_PRESENTATION_COLUMNS = frozenset({"rows", "autoplay", "guidance_hint", "media", "required_message",
                                   "no_app_error_string", "image", "audio", "video", "big-image"})
# Columns of a choice row that are not data for choice filters (pyxform calls list_name `list name`).
_CHOICE_OWN_COLUMNS = frozenset({"name", "label", constants.LIST_NAME_S, constants.LIST_NAME_U, "__row", "_sheet",
                                 "media", "image", "audio", "video", "big-image"})
_PYXFORM_COLUMNS = frozenset(MultipleChoiceQuestion.get_slot_names()) | {"instance", "bind", "body"}
_USED_SETTINGS = frozenset({"id_string", "title", "version", "default_language", "clean_text_values",
                            "allow_choice_duplicates"}) | _KLA_SETTINGS

_MESSAGES_ID = {
    "xlsform.unreadable": "berkas tidak dapat dibaca sebagai XLSForm",
    "xlsform.bad_header": "judul kolom tidak valid",
    "xlsform.missing_sheet": "lembar kerja tidak ada",
    "xlsform.missing_type": "baris tanpa type",
    "xlsform.unsupported_type": "jenis pertanyaan tidak didukung",
    "xlsform.unsupported_column": "kolom tidak didukung",
    "xlsform.bad_expression": "ekspresi tidak dapat dibaca",
    "xlsform.missing_choices": "daftar pilihan tidak ada",
    "xlsform.missing_attachment": "berkas lampiran (CSV) tidak ada",
    "xlsform.bad_attachment": "berkas lampiran (CSV) tidak dapat dibaca",
    "xlsform.missing_label": "label tidak ada",
    "xlsform.bad_name": "nama tidak valid",
    "xlsform.bad_value": "nilai tidak valid",
    "xlsform.bad_version": "versi tidak valid",
    "xlsform.unclosed_group": "grup tidak ditutup",
    "xlsform.unexpected_end": "'end group' tanpa 'begin group'",
    "xlsform.no_settings_id": "form_id tidak ada",
    "xlsform.no_questions": "tidak ada pertanyaan yang dapat diimpor",
    "xlsform.not_yes_no": "daftar pilihan bukan ya/tidak",
    # Errors of checklist_from_dict, mapped back to a row.
    "xlsform.duplicate_id": "nama dipakai dua kali",
    "xlsform.unknown_reference": "merujuk ke pertanyaan yang tidak ada",
    "xlsform.self_reference": "relevant merujuk ke pertanyaan itu sendiri",
    "xlsform.relevance_cycle": "relevant saling bergantung (siklus)",
    "xlsform.calculation_cycle": "kalkulasi saling bergantung (siklus)",
    "xlsform.bad_choices": "pilihan tidak valid",
    "xlsform.bad_range": "rentang tidak valid",
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
class ImportNote:
    """One kind of warning of an import: the sheet, the rows it applies to, both texts."""

    sheet: str | None
    rows: tuple[int, ...]
    message: str
    message_id: str

    def english(self) -> str:
        return self.message + _rows_note(list(self.rows), "row")

    def indonesian(self) -> str:
        return self.message_id + _rows_note(list(self.rows), "baris")


@dataclass(frozen=True)
class ImportResult:
    """A valid checklist and what the import changed or dropped on the way, one line each."""

    checklist: Checklist
    warnings: tuple[str, ...]
    notes: tuple[ImportNote, ...] = ()


Attachments = Mapping[str, "Path | bytes"]


def import_xlsform(path: str | Path, checklist_id: str | None = None, version: int | None = None,
                   facility_kinds: list[str] | tuple[str, ...] | None = None,
                   attachments: Attachments | None = None) -> ImportResult:
    """Read an XLSForm workbook (and the CSV files it names, by file name) into a validated checklist."""
    path = Path(path)
    book = _read_workbook(path)
    form = _Form(_settings(book), _Attachments(attachments or {}))
    form.read_choices(book)
    form.read_survey(book)
    _ignore_entities(book, form.warnings)
    form.attachments.warn_unused(form.warnings)
    data, locations = form.checklist_dict(path, checklist_id, version, facility_kinds)
    try:
        checklist = checklist_from_dict(data, path.name)
    except ChecklistError as error:
        raise form.mapped_error(error, path.name, locations) from error
    notes = form.warnings.notes()
    return ImportResult(checklist, tuple(note.english() for note in notes), notes)


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
    id_string_dropped: bool = False  # both form_id and id_string were given

    @property
    def default_language(self) -> str:
        return self.values.get(constants.DEFAULT_LANGUAGE_KEY) or constants.DEFAULT_LANGUAGE_VALUE

    @property
    def clean_text(self) -> bool:
        return aliases.yes_no.get(self.values.get("clean_text_values", "yes"), True)

    @property
    def choice_duplicates(self) -> bool:
        """`allow_choice_duplicates`: pyxform then accepts a choice name used twice in one list."""
        return aliases.yes_no.get(str(self.values.get("allow_choice_duplicates", "no")).strip().lower(), False)


def _settings(book) -> _Settings:
    if not book.settings:
        return _Settings({}, None)
    sheet, header, dropped = _form_id_over_id_string(book.settings, book.settings_header)
    rows = _sheet(constants.SETTINGS, sheet, header, aliases.settings_header, set(Survey.get_slot_names()))
    for row in rows:
        if len(row) > 1:
            return _Settings(row, row["__row"], dropped)
    return _Settings({}, None)


def _form_id_over_id_string(sheet: list[dict], header: list[dict] | None):
    """`form_id` and its alias `id_string` both given: pyxform keeps `form_id` (with a warning), so do we."""
    columns = {str(key).strip().lower(): key for key in (header[0] if header else ())}
    if not {"form_id", constants.ID_STRING} <= columns.keys():
        return sheet, header, False
    drop = columns[constants.ID_STRING]
    return ([{key: value for key, value in row.items() if key != drop} for row in sheet],
            [{key: value for key, value in row.items() if key != drop} for row in header], True)


def _ignore_entities(book, warnings: _Warnings) -> None:
    """Entity declarations make ODK Central update a dataset; the form works without, so they are dropped."""
    for number, row in enumerate(book.entities or (), start=2):
        if row:
            warnings.add("entities: the entities sheet is ignored (this app keeps no ODK entity lists)", number,
                         "entities: lembar entities diabaikan (aplikasi ini tidak menyimpan daftar entitas ODK)")
            return



# --- Texts, languages and warnings ----------------------------------------------------------

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
    """Warnings in first-seen order, one per kind with the rows it applies to, in English and Indonesian."""

    def __init__(self):
        self._rows: dict[str, list[int]] = {}
        self._indonesian: dict[str, str] = {}

    def add(self, text: str, row: int | None = None, indonesian: str | None = None) -> None:
        rows = self._rows.setdefault(text, [])
        self._indonesian.setdefault(text, indonesian or text)
        if row is not None and row not in rows:
            rows.append(row)

    def notes(self) -> tuple[ImportNote, ...]:
        return tuple(ImportNote(text.split(":", 1)[0] if ":" in text.split(" ", 1)[0] else None, tuple(sorted(rows)),
                                text, self._indonesian[text]) for text, rows in self._rows.items())

    def lines(self) -> tuple[str, ...]:
        return tuple(note.english() for note in self.notes())


def _rows_note(rows: list[int], word: str = "row") -> str:
    if not rows:
        return ""
    shown = ", ".join(str(row) for row in rows[:10])
    more = f" and {len(rows) - 10} more" if len(rows) > 10 and word == "row" else (
        f" dan {len(rows) - 10} lagi" if len(rows) > 10 else "")
    plural = {"row": "rows"}.get(word, word) if len(rows) > 1 else word
    return f" ({plural} {shown}{more})"


# --- Attachments -----------------------------------------------------------------------------


class _Attachments:
    """The CSV files uploaded beside the form, read once each by file name."""

    def __init__(self, files: Attachments):
        self.files = {Path(name).name: content for name, content in files.items()}
        self._read: dict[str, list[dict[str, str]]] = {}

    def warn_unused(self, warnings: _Warnings) -> None:
        """An uploaded file the form never names is probably misnamed: say so rather than drop it unseen."""
        for name in sorted(set(self.files) - set(self._read)):
            warnings.add(f"attachments: '{name}' is not used by the form", None,
                         f"attachments: '{name}' tidak dipakai oleh formulir")

    def rows(self, name: str, sheet: str, row: int, construct: str) -> list[dict[str, str]]:
        """The rows of an attachment as dicts; refused by name when it was not uploaded or cannot be read."""
        if name in self._read:
            return self._read[name]
        if name not in self.files:
            raise XLSFormError("xlsform.missing_attachment",
                               f"the form needs the file '{name}'; upload it beside the form", sheet, row, construct,
                               f"formulir ini memerlukan berkas '{name}'; unggah berkas itu bersama formulir")
        if not name.lower().endswith(".csv"):
            raise XLSFormError("xlsform.bad_attachment", f"'{name}' is not a CSV file; only CSV lists are supported",
                               sheet, row, construct, f"'{name}' bukan berkas CSV; hanya daftar CSV yang didukung")
        content = self.files[name]
        data = content if isinstance(content, bytes) else Path(content).read_bytes()
        try:
            text = data.decode("utf-8-sig")
            table = list(csv.DictReader(io.StringIO(text)))
        except (UnicodeDecodeError, csv.Error) as error:
            raise XLSFormError("xlsform.bad_attachment", f"'{name}' cannot be read as UTF-8 CSV: {error}", sheet, row,
                               construct, f"'{name}' tidak dapat dibaca sebagai CSV UTF-8") from None
        if len(table) > MAX_ATTACHMENT_ROWS:
            raise XLSFormError("xlsform.bad_attachment", f"'{name}' has more than {MAX_ATTACHMENT_ROWS} rows", sheet,
                               row, construct, f"'{name}' berisi lebih dari {MAX_ATTACHMENT_ROWS} baris")
        self._read[name] = [{(k or "").strip(): (v or "").strip() for k, v in record.items() if k} for record in table]
        return self._read[name]


# --- The form --------------------------------------------------------------------------------


@dataclass
class _Frame:
    """An open `begin group`/`begin repeat`/`begin loop` (or a section) collecting what it holds."""

    kind: str  # section | group | repeat | loop
    name: str
    row: int
    entries: list[dict] = field(default_factory=list)
    relevant: str | None = None  # a section's own relevance, ANDed into what it holds
    loop_list: str | None = None
    auto: bool = False  # a section made to hold a repeat or loop outside groups


@dataclass(frozen=True)
class _Kind:
    """What a type cell asks for."""

    type: str  # an item type, begin_/end_ group|repeat|loop, table or skip
    list_name: str | None = None
    source: str = "choices"  # choices | file | external
    or_other: bool = False
    preset: dict = field(default_factory=dict)  # what pyxform's type adds: constraint, hint, default, parameters
    note: tuple[str, str] | None = None  # a warning about the mapping (English, Indonesian)


class _Form:
    """The survey walked row by row into sections, containers and questions."""

    def __init__(self, settings: _Settings, attachments: _Attachments):
        self.settings = settings
        self.attachments = attachments
        self.warnings = _Warnings()
        self.other_languages: dict[str, None] = {}
        self.choices: dict[str, list[dict]] = {}
        self.external: dict[str, list[dict]] = {}
        self.sections: list[dict] = []
        self.frames: list[_Frame] = []
        self.renames: dict[str, str] = {}
        self.ids: dict[str, tuple] = {}  # id -> (row, parent, name as written) of the row that took it
        self.ynp: dict[str, dict[str, str]] = {}  # item id -> {choice name: ynp value}
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.fallback_language: str | None = None

    # -- sheets --

    def read_choices(self, book) -> None:
        for sheet, data, header, target in ((constants.CHOICES, book.choices, book.choices_header, self.choices),
                                            (constants.EXTERNAL_CHOICES, book.external_choices,
                                             book.external_choices_header, self.external)):
            if not data:
                continue
            rows = _sheet(sheet, data, header, aliases.list_header, set(Option.get_slot_names()),
                          headers_required={constants.NAME}, default_language=self.settings.default_language)
            for row in rows:
                list_name = row.get(constants.LIST_NAME_S)
                if list_name:
                    target.setdefault(str(list_name).strip(), []).append(row)

    def read_survey(self, book) -> None:
        if not book.survey:
            raise XLSFormError("xlsform.missing_sheet", "the workbook has no survey sheet",
                               constants.SURVEY, None, "survey", "lembar survey tidak ada")
        rows = _sheet(constants.SURVEY, book.survey, book.survey_header, aliases.survey_header,
                      set(MultipleChoiceQuestion.get_slot_names()), headers_required={constants.TYPE},
                      default_language=self.settings.default_language, strip_whitespace=self.settings.clean_text)
        self.fallback_language = self._fallback_language(rows)
        for row in rows:
            self._survey_row(row)
        if self.frames:
            frame = self.frames[-1]
            word = "group" if frame.kind == "section" else frame.kind
            raise XLSFormError("xlsform.unclosed_group", f"{word} '{frame.name}' is never closed (no 'end {word}')",
                               constants.SURVEY, frame.row, f"begin {word}",
                               f"{word} '{frame.name}' tidak pernah ditutup ('end {word}' tidak ada)")

    def _fallback_language(self, rows) -> str | None:
        """The language that serves both when a form has neither Indonesian nor English labels."""
        languages: dict[str, None] = {}
        for row in rows:
            label = row.get("label")
            for key in (label or {}) if isinstance(label, dict) else ():
                languages[key] = None
        if any(_language(key) in ("id", "en", "plain") for key in languages) or not languages:
            return None
        default = self.settings.values.get(constants.DEFAULT_LANGUAGE_KEY)
        chosen = default if default in languages else next(iter(languages))
        self.warnings.add(f"survey: the form has no Indonesian or English labels; '{chosen}' is used for both",
                          None, f"survey: formulir tidak punya label bahasa Indonesia atau Inggris; '{chosen}' "
                                "dipakai untuk keduanya")
        return chosen

    def _survey_row(self, row: dict) -> None:
        number = row["__row"]
        type_text = row.get(constants.TYPE)
        if not type_text:
            if len(row) > 1:
                raise XLSFormError("xlsform.missing_type", "the row has no type",
                                   constants.SURVEY, number, "type", "baris ini tidak punya type")
            return
        kind = _classify(str(type_text), number)
        if kind.note:
            self.warnings.add(f"survey: {kind.note[0]}", number, f"survey: {kind.note[1]}")
        if kind.type.startswith("begin_"):
            self._begin(row, kind)
        elif kind.type.startswith("end_"):
            self._end(row, kind.type[4:])
        elif kind.type == "table":
            self._table(f"{row.get('name') or ''}.csv", number, "csv-external")
        elif kind.type != "skip":
            self._question(row, kind)

    # -- containers --

    def _begin(self, row: dict, kind: _Kind) -> None:
        number = row["__row"]
        what = kind.type[6:]
        columns = self._columns(row, _GROUP_COLUMNS | _IGNORED_ON_GROUPS)
        for column in sorted(_IGNORED_ON_GROUPS & columns.keys()):
            self.warnings.add(f"survey: column '{column}' means nothing on a group or repeat row and is ignored",
                              number, f"survey: kolom '{column}' tidak berarti pada baris grup atau repeat dan "
                              "diabaikan")
        name = self._name(row, what)
        relevant = self._expression(columns, "relevant", number)
        label = self._text(columns, "label", number, required=False)
        if "repeat_count" in columns and what != "repeat":
            raise XLSFormError("xlsform.unsupported_column", "repeat_count is only for repeats",
                               constants.SURVEY, number, "repeat_count", "repeat_count hanya untuk repeat")
        if not self.frames and what == "group":
            if label is None:
                label = {"id": name, "en": name}
                self.warnings.add("survey: a group without a label is titled with its name", number,
                                  "survey: grup tanpa label diberi judul sesuai namanya")
            self._new_section(name, label, number, relevant)
            self.sections[-1].update(self._kla_source(columns, number))
            return
        if not self.frames:  # a repeat or loop outside groups: a section of its own holds it
            self._new_section(name, label or {"id": name, "en": name}, number, None)
            self.frames[-1].auto = True
        if what == "loop":
            self.frames.append(_Frame("loop", name, number, relevant=relevant, loop_list=kind.list_name))
            return
        container = {"id": name, "type": what, "_row": number}
        if label is not None:
            container["label"] = label
        elif what == "repeat":
            container["label"] = {"id": name, "en": name}
        hint = self._text(columns, "hint", number, required=False)
        if hint is not None:
            container["hint"] = hint
        if relevant is not None:
            container["_relevant"] = [(relevant, number)]
        if "appearance" in columns:
            container["appearance"] = str(columns["appearance"])
        if "repeat_count" in columns:
            container["_count"] = (self._expression(columns, "repeat_count", number), number)
        self._append(container)
        self.frames.append(_Frame(what, name, number, container.setdefault("items", [])))

    def _end(self, row: dict, what: str) -> None:
        number = row["__row"]
        frame = self.frames[-1] if self.frames else None
        open_kind = None if frame is None else ("group" if frame.kind == "section" else frame.kind)
        if open_kind != what:
            due = f"'end {open_kind}'" if open_kind else "no 'end'"
            raise XLSFormError("xlsform.unexpected_end", f"'end {what}' where {due} was due",
                               constants.SURVEY, number, f"end {what}",
                               f"'end {what}' di tempat yang seharusnya {due}")
        self.frames.pop()
        if frame.kind == "loop":
            self._expand_loop(frame)
        if self.frames and self.frames[-1].auto and frame.kind in ("repeat", "loop"):
            self.frames.pop()  # the section made for a repeat or loop outside groups closes with it

    def _new_section(self, section_id: str, title: dict, row: int, relevant: str | None) -> None:
        if any(section["id"] == section_id for section in self.sections):
            why = " ('umum' holds the questions outside groups)" if section_id == "umum" else ""
            raise XLSFormError("xlsform.duplicate_id", f"section '{section_id}' is used twice{why}",
                               constants.SURVEY, row, "name", f"bagian '{section_id}' dipakai dua kali")
        section = {"id": section_id, "title": title, "_row": row, "items": []}
        self.sections.append(section)
        self.frames.append(_Frame("section", section_id, row, section["items"], relevant))

    def _append(self, entry: dict) -> None:
        """Put an item or container where the open frames say; outside groups, in the section `umum`."""
        if not self.frames:
            section_id, title = DEFAULT_SECTION
            section = next((s for s in self.sections if s["id"] == section_id), None)
            if section is None:
                section = {"id": section_id, "title": dict(title), "_row": entry["_row"], "items": []}
                self.sections.append(section)
            section["items"].append(entry)
            return
        frame = self.frames[-1]
        if frame.kind == "section" and frame.relevant:
            entry.setdefault("_relevant", []).insert(0, (frame.relevant, frame.row))
        frame.entries.append(entry)

    def _expand_loop(self, frame: _Frame) -> None:
        """`begin loop over list`: one group per choice, as pyxform expands it."""
        choices = self.choices.get(frame.loop_list or "")
        if not choices:
            raise XLSFormError("xlsform.missing_choices",
                               f"choice list '{frame.loop_list}' is not in the choices sheet",
                               constants.SURVEY, frame.row, frame.loop_list,
                               f"daftar pilihan '{frame.loop_list}' tidak ada di lembar choices")
        for choice in choices:
            value = _safe_id(str(choice.get("name") or ""))
            label = self._text(choice, "label", choice["__row"], required=True, sheet=constants.CHOICES)
            names = {entry["id"]: f"{entry['id']}_{value}" for entry in _walk(frame.entries)}
            names.update({original: names[safe] for original, safe in self.renames.items() if safe in names})
            group = {"id": self._claim(f"{frame.name}_{value}", frame.row), "type": "group", "label": label,
                     "_row": frame.row, "items": [_looped(entry, value, label, names) for entry in frame.entries]}
            for original, copy in names.items():
                if original in self.ynp:  # a scored question's literals are translated in every copy
                    self.ynp[copy] = self.ynp[original]
            if frame.relevant:
                group["_relevant"] = [(frame.relevant, frame.row)]
            for entry in _walk(group["items"]):
                self._claim(entry["id"], entry["_row"])
            self._append(group)

    # -- questions --

    def _question(self, row: dict, kind: _Kind) -> None:
        number = row["__row"]
        columns = self._columns(row, _QUESTION_COLUMNS)
        if kind.type == "note" and "required" in columns:  # pyxform accepts it; a note takes no answer
            del columns["required"]
            self.warnings.add("survey: required on a note is ignored (a note takes no answer)", number,
                              "survey: required pada note diabaikan (note tidak punya jawaban)")
        item_id = self._name(row, "question")
        kind = self._unlabelled(row, columns, kind, item_id)
        computed = kind.type in ("calculate", "hidden")
        label = self._text(columns, "label", number, required=not computed and kind.type != "note")
        if label is None and kind.type == "note":
            label = {"id": item_id, "en": item_id}
        data: dict = {"id": item_id, "type": kind.type, "_row": number}
        if label is not None:
            data["label"] = label
        hint = self._text(columns, "hint", number, required=False) or (
            {"id": kind.preset["hint"], "en": kind.preset["hint"]} if "hint" in kind.preset else None)
        if hint is not None:
            data["hint"] = hint
        self._required(data, columns, number)
        own = self._expression(columns, "relevant", number)
        if own is not None:
            data["_relevant"] = [(own, number)]
        self._constraint(data, columns, kind, number)
        for column, key in (("calculation", "_calculation"), ("choice_filter", "_choice_filter")):
            text = self._expression(columns, column, number, choice_filter=column == "choice_filter")
            if text is not None:
                data[key] = (text, number)
        default = columns.get("default", kind.preset.get("default"))
        if default not in (None, ""):
            data["_default"] = (_default_text(str(default), data["type"]), number)
        if kind.type == "calculate" and "_calculation" not in data:
            if "_default" not in data:
                raise XLSFormError("xlsform.missing_field", "a calculate row needs a calculation or a default",
                                   constants.SURVEY, number, "calculation",
                                   "baris calculate memerlukan calculation atau default")
            data["type"] = "hidden"  # set once from its default, as ODK does: a hidden item
        if "read_only" in columns:
            data["read_only"] = self._boolean(columns, "read_only", number)
        if "appearance" in columns:
            data["appearance"] = str(columns["appearance"])
            self._search(data, kind, number)
        if "accept" in kind.preset:
            data["accept"] = kind.preset["accept"]
        data.update(self._kla_source(columns, number))
        for column, key in (("kla_min", "min"), ("kla_max", "max")):
            if column in columns:
                data[key] = self._number(columns, column, number)
        self._parameters(data, columns, kind, number)
        if kind.list_name is not None:
            self._choices(data, kind, columns, number)
        else:
            self._not_scored(columns, number)
        self._append(data)
        if kind.or_other:
            self._other(data, number)

    def _unlabelled(self, row: dict, columns: dict, kind: _Kind, item_id: str) -> _Kind:
        """A question without a label, as pyxform draws it: its hint stands as the label; an image or recording
        as label (ignored here) leaves its name; with none of them but a calculation it has no control at all, so
        it is a calculate. Any other is refused for its label."""
        number = row["__row"]
        if kind.type in ("calculate", "hidden", "note") or _has_text(columns.get("label")):
            return kind
        if _has_text(columns.get("hint")):
            columns["label"] = columns.pop("hint")
            self.warnings.add("survey: a question without a label shows its hint as the label", number,
                              "survey: pertanyaan tanpa label menampilkan hint-nya sebagai label")
        elif _has_text(row.get("media")):
            columns["label"] = item_id
            self.warnings.add("survey: a question labelled only by an image or recording shows its name", number,
                              "survey: pertanyaan yang labelnya hanya gambar atau rekaman menampilkan namanya")
        elif _has_text(columns.get("calculation")) and kind.type in _INPUT_TYPES.values() and not kind.preset:
            self.warnings.add("survey: a question with a calculation and no label or hint is not shown (as in ODK); "
                              "it is a calculate", number, "survey: pertanyaan dengan calculation tanpa label atau "
                              "hint tidak ditampilkan (seperti di ODK); ia menjadi calculate")
            return _Kind("calculate")
        return kind

    def _kla_source(self, columns: dict, number: int) -> dict:
        """A section's or question's own source (kla_source, kla_source_status, kla_source_text)."""
        found = {}
        if columns.get("kla_source"):
            found["source"] = str(columns["kla_source"])
        if columns.get("kla_source_status"):
            found["source_status"] = str(columns["kla_source_status"]).strip()
        text = self._text(columns, "kla_source_text", number, required=False)
        if text is not None:
            found["source_text"] = text
        return found

    def _required(self, data: dict, columns: dict, number: int) -> None:
        if "required" not in columns:
            return
        value = str(columns["required"]).strip()
        if value.lower() in _TRUE or value.lower() in _FALSE:
            data["required"] = value.lower() in _TRUE
        else:
            data["_required"] = (self._expression(columns, "required", number), number)

    def _constraint(self, data: dict, columns: dict, kind: _Kind, number: int) -> None:
        constraint = self._expression(columns, "constraint", number) or kind.preset.get("constraint")
        message = self._text(columns, "constraint_message", number, required=False)
        if constraint is None:
            if message is not None:
                self.warnings.add("survey: constraint_message without a constraint is ignored", number,
                                  "survey: constraint_message tanpa constraint diabaikan")
            return
        if message is None:
            message = {"id": "Jawaban tidak memenuhi syarat.", "en": "The answer does not meet the constraint."}
            self.warnings.add("survey: a constraint without constraint_message gets a generic message", number,
                              "survey: constraint tanpa constraint_message diberi pesan umum")
        data["_constraint"] = (constraint, number)
        data["constraint_message"] = message

    def _parameters(self, data: dict, columns: dict, kind: _Kind, number: int) -> None:
        """`range` start/end/step become a number with min and max."""
        if "range" not in kind.preset:
            if "parameters" in columns and kind.type != "photo":
                self.warnings.add("survey: column 'parameters' is ignored on this question type", number,
                                  "survey: kolom 'parameters' diabaikan untuk jenis pertanyaan ini")
            return
        params = dict(kind.preset["range"])
        try:  # pyxform's own reading: pairs split by spaces, commas or semicolons, `key = value` allowed
            params.update(parse_parameters(str(columns.get("parameters", "")), number))
            numbers = {key: float(params[key]) for key in ("start", "end", "step")}
        except (KeyError, ValueError, PyXFormError):
            raise XLSFormError("xlsform.bad_value", "range parameters start, end and step must be numbers",
                               constants.SURVEY, number, "parameters",
                               "parameter range start, end dan step harus berupa angka") from None
        whole = all(value.is_integer() for value in numbers.values())
        data["type"] = "integer" if whole else "decimal"
        low, high = sorted((numbers["start"], numbers["end"]))
        data["min"], data["max"] = (int(low), int(high)) if whole else (low, high)

    def _choices(self, data: dict, kind: _Kind, columns: dict, number: int) -> None:
        list_name = kind.list_name
        answered = re.fullmatch(r"\$\{([^}]+)\}", list_name.strip())
        if answered:  # select_one ${name}: the answers `name` got in a repeat's entries are the choices
            for column in ("scored", "weight", "critical"):
                if column in columns:
                    raise XLSFormError("xlsform.unsupported_column",
                                       f"column '{column}' is not supported on a select of a repeat's answers",
                                       constants.SURVEY, number, column,
                                       f"kolom '{column}' tidak didukung pada pilihan dari jawaban repeat")
            if kind.or_other:
                raise XLSFormError("xlsform.unsupported_type", "or_other is not supported on a select of a repeat's "
                                   "answers", constants.SURVEY, number, list_name,
                                   "or_other tidak didukung pada pilihan dari jawaban repeat")
            data["_choices_from"] = (answered[1], number)  # a choice_filter is read in each entry
            return
        rows = self._choice_rows(kind, number)
        if "_search" in data:
            rows = self._search_rows(rows, data.pop("_search"), number)
        scored = self._scored(columns, number)
        if scored:
            mapping = _ynp_mapping(rows) if data["type"] == "select_one" else None
            if mapping is None:
                raise XLSFormError("xlsform.not_yes_no",
                                   f"a scored question needs a yes/no list (ya, tidak, optionally sebagian and "
                                   f"tidak_berlaku); '{list_name}' is not one", constants.SURVEY, number, list_name,
                                   f"pertanyaan berskor memerlukan daftar ya/tidak; '{list_name}' bukan daftar itu")
            if kind.or_other:
                raise XLSFormError("xlsform.not_yes_no", "a scored question cannot have or_other: its answers are "
                                   "ya/tidak", constants.SURVEY, number, "or_other",
                                   "pertanyaan berskor tidak dapat memakai or_other: jawabannya ya/tidak")
            data["type"] = "ynp"
            if "tidak_berlaku" not in mapping.values():
                data["allow_na"] = False
            self.ynp[data["id"]] = mapping
            for key in ("weight", "critical"):
                if key in columns:
                    data[key] = (self._number if key == "weight" else self._boolean)(columns, key, number)
            return
        for key in ("weight", "critical"):
            if key in columns:
                raise XLSFormError("xlsform.unsupported_column", f"column '{key}' is only for scored questions",
                                   constants.SURVEY, number, key, f"kolom '{key}' hanya untuk pertanyaan berskor")
        choices, kept, seen = [], [], {}
        for row in rows:
            value = str(row.get("name") or "").strip()
            if not value:
                raise XLSFormError("xlsform.bad_name", f"a choice of list '{list_name}' has no name",
                                   row.get("_sheet", constants.CHOICES), row.get("__row"), "name",
                                   f"pilihan dalam daftar '{list_name}' tidak punya nama")
            if value in seen and ("_choice_filter" in data or self.settings.choice_duplicates):
                # A filter may tell duplicates apart, and allow_choice_duplicates lets pyxform keep them; choice
                # values are unique here (an answer names one choice), so the first row is kept.
                sheet = row.get("_sheet", constants.CHOICES)
                where, where_id = (("a filtered list", "daftar berfilter") if "_choice_filter" in data
                                   else ("a list (allow_choice_duplicates)", "daftar (allow_choice_duplicates)"))
                self.warnings.add(f"{sheet}: a choice name used twice in {where} keeps only its first row",
                                  row.get("__row"), f"{sheet}: nama pilihan yang dipakai dua kali dalam {where_id} "
                                  "hanya memakai baris pertamanya")
                continue
            seen[value] = row
            kept.append(row)
            choice = {"value": value, "label": self._text(row, "label", row.get("__row") or number, required=False,
                                                            sheet=row.get("_sheet", constants.CHOICES))
                      or {"id": value, "en": value}}
            extra = {key: str(cell) for key, cell in row.items()
                     if key not in _CHOICE_OWN_COLUMNS and isinstance(cell, (str, int, float))
                     and not key.startswith("label")}
            if extra:
                choice["columns"] = extra
            choices.append(choice)
        data["choices"] = choices
        data["_choice_rows"] = tuple((row.get("_sheet", constants.CHOICES), row.get("__row")) for row in kept)

    def _search(self, data: dict, kind: _Kind, number: int) -> None:
        """ODK's `search('file')` appearance: the select's choices come from the CSV attachment `file.csv`, and
        `search('file', 'matches', 'column', value)` keeps those whose column matches: a choice filter here."""
        found = _SEARCH.search(data["appearance"])
        if found is None:
            return
        if kind.list_name is None or kind.source != "choices":
            raise XLSFormError("xlsform.unsupported_column", "search() is for a select_one or select_multiple of "
                               "the choices sheet", constants.SURVEY, number, "appearance",
                               "search() hanya untuk select_one atau select_multiple dari lembar choices")
        data["_search"] = f"{found['file']}.csv"
        rest = " ".join(_SEARCH.sub(" ", data.pop("appearance")).split())
        if rest:
            data["appearance"] = rest
        if found["mode"]:
            column, value = found["column"], found["value"].strip()
            test = (f"{column} = {value}" if found["mode"].lower() == "matches"
                    else f"{_SEARCH_MODES[found['mode'].lower()]}({column}, {value})")
            own = data.get("_choice_filter")
            self._expression({"choice_filter": test}, "choice_filter", number, choice_filter=True)
            data["_choice_filter"] = (f"({own[0]}) and {test}" if own else test, number)

    def _search_rows(self, rows: list[dict], file_name: str, number: int) -> list[dict]:
        """A search() list: its first row names the CSV columns of value and label; any other row is a choice
        offered besides the CSV's rows, as ODK Collect does."""
        config, *static = rows
        value_column = str(config.get("name") or "").strip()
        label_columns = config.get("label") or value_column
        records = self.attachments.rows(file_name, constants.SURVEY, number, file_name)
        if records and value_column not in records[0]:
            raise XLSFormError("xlsform.bad_attachment", f"'{file_name}' has no column '{value_column}' (the "
                               "search() list's name)", constants.SURVEY, number, file_name,
                               f"'{file_name}' tidak punya kolom '{value_column}' (nama pada daftar search())")
        found = []
        for line, record in enumerate(records, start=2):
            label = ({key: record.get(str(column).strip(), "") for key, column in label_columns.items()}
                     if isinstance(label_columns, dict) else record.get(str(label_columns).strip(), ""))
            extra = {key: value for key, value in record.items() if key not in ("name", "label")}
            found.append({**extra, "name": record[value_column], "label": label or record[value_column],
                          "_sheet": file_name, "__row": line})
        return static + found

    def _choice_rows(self, kind: _Kind, number: int) -> list[dict]:
        """The rows of a list: the choices sheet, the external_choices sheet or a CSV attachment."""
        if kind.source == "file":
            records = self.attachments.rows(kind.list_name, constants.SURVEY, number, kind.list_name)
            if records and "name" not in records[0]:
                raise XLSFormError("xlsform.bad_attachment", f"'{kind.list_name}' has no 'name' column",
                                   constants.SURVEY, number, kind.list_name,
                                   f"'{kind.list_name}' tidak punya kolom 'name'")
            return [_csv_choice(record, kind.list_name, line) for line, record in enumerate(records, start=2)]
        sheet, source = ((constants.EXTERNAL_CHOICES, self.external) if kind.source == "external"
                         else (constants.CHOICES, self.choices))
        rows = source.get(kind.list_name)
        if not rows:
            raise XLSFormError("xlsform.missing_choices", f"choice list '{kind.list_name}' is not in the {sheet} sheet",
                               constants.SURVEY, number, kind.list_name,
                               f"daftar pilihan '{kind.list_name}' tidak ada di lembar {sheet}")
        return [dict(row, _sheet=sheet) for row in rows]

    def _not_scored(self, columns: dict, number: int) -> None:
        """Only a select_one can be marked scored: a weight or critical elsewhere would be lost, so it is refused."""
        marked = [key for key in ("weight", "critical") if key in columns]
        if "scored" in columns and self._boolean(columns, "scored", number):
            marked.insert(0, "scored")
        if marked:
            raise XLSFormError("xlsform.unsupported_column", f"column '{marked[0]}' is only for scored questions "
                               "(a select_one of a yes/no list)", constants.SURVEY, number, marked[0],
                               f"kolom '{marked[0]}' hanya untuk pertanyaan berskor (select_one daftar ya/tidak)")

    def _scored(self, columns: dict, number: int) -> bool:
        """Whether the author marked the row as a scored ya/tidak item (scored, weight or critical)."""
        if "scored" in columns:
            return self._boolean(columns, "scored", number)
        return "weight" in columns or "critical" in columns

    def _other(self, data: dict, number: int) -> None:
        """`or_other`: the choice `other`, and the text that says what the other is (pyxform's own naming)."""
        choices = data.setdefault("choices", [])
        if all(choice["value"] != "other" for choice in choices):  # a list may have its own `other`, as pyxform allows
            choices.append({"value": "other", "label": {"id": "Lainnya", "en": "Other"}})
        name = data["id"]
        other = {"id": self._claim(f"{name}_other", number), "type": "text", "_row": number,
                 "label": {"id": "Sebutkan lainnya", "en": "Specify other"},
                 "_relevant": [(f"selected(${{{name}}}, 'other')", number)]}
        self._append(other)

    def _table(self, name: str, number: int, construct: str) -> None:
        """A CSV for pulldata(), kept in the checklist under its name without `.csv`."""
        table = name[:-4] if name.lower().endswith(".csv") else name
        if table not in self.tables:
            self.tables[table] = self.attachments.rows(f"{table}.csv", constants.SURVEY, number, construct)

    # -- cells --

    def _columns(self, row: dict, allowed: frozenset[str]) -> dict:
        """The row's cells by XLSForm column name; refuses columns that would change answers."""
        number = row["__row"]
        columns = {}
        for name, value in _flat_columns(row):
            if name in allowed:
                columns[name] = value
            elif name in _PRESENTATION_COLUMNS or name.startswith(("media", "guidance_hint", "body::")):
                self.warnings.add(f"survey: column '{name}' only affects how a form looks and is ignored", number,
                                  f"survey: kolom '{name}' hanya mengatur tampilan dan diabaikan")
            elif name in _ENTITY_COLUMNS:
                self.warnings.add(f"survey: column '{name}' updates ODK entity lists and is ignored", number,
                                  f"survey: kolom '{name}' memperbarui daftar entitas ODK dan diabaikan")
            elif _custom_bind_attribute(name):
                self.warnings.add(f"survey: column '{name}' is a custom XForm attribute that ODK does not act on "
                                  "and is ignored", number, f"survey: kolom '{name}' adalah atribut XForm khusus yang "
                                  "tidak dijalankan ODK dan diabaikan")
            elif _known_to_pyxform(name):
                row_type = row.get(constants.TYPE)
                raise XLSFormError(
                    "xlsform.unsupported_column", f"column '{name}' is not supported on a {row_type} row",
                    constants.SURVEY, number, name, f"kolom '{name}' tidak didukung pada baris {row_type}")
            else:
                self.warnings.add(f"survey: column '{name}' is not an XLSForm column and is ignored", number,
                                  f"survey: kolom '{name}' bukan kolom XLSForm dan diabaikan")
        return columns

    def _name(self, row: dict, what: str) -> str:
        """The id of a row's name: lower case, `-` and `.` as `_`, claimed once in the whole form."""
        number, name = row["__row"], row.get("name")
        if name is None or not str(name).strip():
            raise XLSFormError("xlsform.bad_name", f"the {what} has no name", constants.SURVEY,
                               number, "name", "nama tidak ada")
        name = str(name).strip()
        safe = _safe_id(name)
        if not _ID.fullmatch(safe):
            raise XLSFormError(
                "xlsform.bad_name", f"name '{name}' must use only letters, digits, _, - and . (at most 64 characters)",
                constants.SURVEY, number, name,
                f"nama '{name}' hanya boleh berisi huruf, angka, _, - dan . (paling banyak 64 karakter)")
        if safe != name:
            self.renames[name] = safe
            self.warnings.add("survey: names are written in lower case with '_' for '-' and '.', and references "
                              "to them too", number,
                              "survey: nama ditulis dengan huruf kecil dan '_' untuk '-' dan '.', begitu pula "
                              "rujukannya")
        return self._claim(safe, number, name)

    def _parent(self) -> str:
        """Where a new row goes: the innermost open group, repeat or loop (pyxform's parent section)."""
        return "/".join(f"{frame.kind}:{frame.name}" for frame in self.frames)

    def _claim(self, item_id: str, number: int, raw: str | None = None) -> str:
        """Take an id for the whole form. pyxform lets one name appear in different groups (it cannot then be
        referred to); the later one gets a suffix. In the same group, or names that only map to one id, refused."""
        if item_id in self.ids:
            first_row, first_parent, first_raw = self.ids[item_id]
            if raw is None or raw != first_raw or first_parent == self._parent():
                raise XLSFormError("xlsform.duplicate_id", f"name '{item_id}' is already used on row {first_row}",
                                   constants.SURVEY, number, "name",
                                   f"nama '{item_id}' sudah dipakai di baris {first_row}")
            suffix = 2
            while f"{item_id}_{suffix}" in self.ids:
                suffix += 1
            renamed = f"{item_id}_{suffix}"
            self.warnings.add(f"survey: a name used again in another group is renamed ('{item_id}' becomes "
                              f"'{renamed}'); ${{{item_id}}} still names the first", number,
                              f"survey: nama yang dipakai lagi di grup lain diganti ('{item_id}' menjadi '{renamed}'); "
                              f"${{{item_id}}} tetap menunjuk yang pertama")
            item_id = renamed
        self.ids[item_id] = (number, self._parent(), raw)
        return item_id

    def _text(self, cells: dict, column: str, number: int, *, required: bool,
              sheet: str = constants.SURVEY) -> dict | None:
        """A bilingual {id, en} text from a cell that may hold several languages."""
        found: dict[str, str] = {}
        others = {}
        value = cells.get(column)
        for key, text in ({"default": value} if isinstance(value, (str, int, float)) else value or {}).items():
            text = str(text) if isinstance(text, (int, float)) else text
            if not isinstance(text, str) or not text.strip():
                continue
            language = _language(key)
            if language is None:
                others[key] = text
                self.other_languages[key] = None
            else:
                found.setdefault(language, text)
        if not found and self.fallback_language in others:
            found["plain"] = others[self.fallback_language]
        elif not found and others and not required:
            found["plain"] = next(iter(others.values()))
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
        if not ({"id", "en", "plain"} & found.keys()) and others and required:
            found["plain"] = next(iter(others.values()))
        return self._bilingual(found, sheet, column, number)

    def _bilingual(self, found: dict[str, str], sheet: str, column: str, number: int) -> dict:
        indonesian = found.get("id") or found.get("plain")
        english = found.get("en") or found.get("plain")
        if "plain" in found and not ({"id", "en"} & found.keys()):
            if self.fallback_language is None:
                self.warnings.add(f"{sheet}: {column} has no language; the same text is used for Indonesian and "
                                  "English", number,
                                  f"{sheet}: {column} tanpa bahasa; teks yang sama dipakai untuk bahasa Indonesia "
                                  "dan Inggris")
        elif "plain" in found and ("id" not in found or "en" not in found):
            missing = "Indonesian" if "id" not in found else "English"
            self.warnings.add(f"{sheet}: {column} without a language is used as the {missing} text", number,
                              f"{sheet}: {column} tanpa bahasa dipakai sebagai teks "
                              f"{'bahasa Indonesia' if missing == 'Indonesian' else 'bahasa Inggris'}")
        if indonesian is None:
            indonesian = english
            self.warnings.add(f"{sheet}: {column} has no Indonesian text; the English one is used", number,
                              f"{sheet}: {column} tidak punya teks bahasa Indonesia; teks bahasa Inggris dipakai")
        if english is None:
            english = indonesian
            self.warnings.add(f"{sheet}: {column} has no English text; the Indonesian one is used", number,
                              f"{sheet}: {column} tidak punya teks bahasa Inggris; teks bahasa Indonesia dipakai")
        return {"id": indonesian.translate(_SMART_QUOTES), "en": english.translate(_SMART_QUOTES)}

    def _expression(self, columns: dict, column: str, number: int, choice_filter: bool = False) -> str | None:
        """An expression cell, checked now against our parser so the error names this row."""
        text = columns.get(column)
        if text is None or (isinstance(text, str) and not text.strip()):
            return None
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = str(text)
        if not isinstance(text, str):
            raise XLSFormError("xlsform.bad_value", f"{column} must be one expression",
                               constants.SURVEY, number, column, f"{column} harus berupa satu ekspresi")
        text = text.translate(_SMART_QUOTES).strip()
        try:
            expression = parse(text, choice_filter=choice_filter)
        except ExpressionError as error:
            raise _bad_expression(column, text, number, error) from None
        for table in _pulldata_tables(expression.text):
            self._table(f"{table}.csv", number, "pulldata()")
        return text

    def _boolean(self, columns: dict, column: str, number: int) -> bool:
        value = str(columns[column]).strip().lower()
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        raise XLSFormError(
            "xlsform.bad_value", f"{column} must be yes or no, not '{columns[column]}'",
            constants.SURVEY, number, column, f"{column} harus yes atau no, bukan '{columns[column]}'")

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
            for key in ("id", "version", "version_label", "title"):
                locations[key] = (constants.SETTINGS, self.settings.row)
        settings = self.settings.values
        kla = bool(settings.get("kla_source"))  # a checklist downloaded from Pantau KLA: its own fields come back
        source = str(settings["kla_source"]) if kla else f"XLSForm {path.name}"
        final_id = self._checklist_id(path, checklist_id)
        number, label = self._version(version)
        if label == str(number):
            label = None  # the version text is the number itself: nothing more to show
        kinds = list(facility_kinds) if facility_kinds else (
            str(settings.get("kla_facility_kinds") or "all").split() or ["all"])
        data = {
            "id": final_id,
            "version": number,
            "title": self._title(final_id),
            "facility_kinds": kinds,
            "source": source,
            "source_status": str(settings.get("kla_source_status") or SOURCE_STATUS).strip(),
            "scoring": {"memenuhi_min": self._memenuhi_min()},
            "sections": self._sections(source, locations),
        }
        for key in ("description", "source_note", "source_text"):
            text = self._text(settings, f"kla_{key}", self.settings.row or 1, required=False, sheet=constants.SETTINGS)
            if text is not None:
                data[key] = text
        if not kla:
            data["source_note"] = {
                "id": f"Diimpor dari XLSForm {path.name}; sumber kriteria belum diperiksa.",
                "en": f"Imported from the XLSForm {path.name}; the source of the criteria has not been checked."}
        if label is not None:
            data["version_label"] = label
        if self.tables:
            data["tables"] = {name: rows for name, rows in self.tables.items()}
        self._settings_warnings()
        return data, locations

    def _sections(self, source: str, locations: dict) -> list[dict]:
        sections = []
        for section in self.sections:
            entries = [entry for entry in section["items"] if self._keep(entry)]
            if not entries:
                self.warnings.add("survey: a group without questions to import is dropped", section["_row"],
                                  "survey: grup tanpa pertanyaan yang dapat diimpor dibuang")
                continue
            path = f"sections[{len(sections)}]"
            locations[path] = (constants.SURVEY, section["_row"])
            own = {key: section[key] for key in ("source_status", "source_text") if key in section}
            sections.append({"id": section["id"], "title": section["title"], "source": section.get("source", source),
                             **own, "items": [self._entry(entry, f"{path}.items[{index}]", locations)
                                              for index, entry in enumerate(entries)]})
        if not sections:
            raise XLSFormError("xlsform.no_questions", "the form has no questions we can import",
                               constants.SURVEY, None, "survey", "formulir tidak berisi pertanyaan yang dapat diimpor")
        return sections

    def _keep(self, entry: dict) -> bool:
        """Containers without any question inside are dropped (with a warning), as empty sections are."""
        if "items" not in entry:
            return True
        entry["items"] = [child for child in entry["items"] if self._keep(child)]
        if not entry["items"]:
            self.warnings.add("survey: a group or repeat without questions is dropped", entry["_row"],
                              "survey: grup atau repeat tanpa pertanyaan dibuang")
        return bool(entry["items"])

    def _entry(self, entry: dict, path: str, locations: dict) -> dict:
        """An item or container as checklist data: expressions rewritten, private keys gone."""
        row = entry["_row"]
        locations[path] = (constants.SURVEY, row)
        data = {key: value for key, value in entry.items() if not key.startswith("_") and key != "items"}
        for key in ("label", "hint", "constraint_message"):
            if isinstance(data.get(key), dict) and self.renames:
                data[key] = {lang: _renamed_references(text, self.renames) for lang, text in data[key].items()}
        parts = [self._rewrite(text, at, "relevant", None) for text, at in entry.get("_relevant", ())]
        if parts:
            data["relevant"] = parts[0] if len(parts) == 1 else " and ".join(f"({part})" for part in parts)
        current = entry["id"] if "type" in entry and "items" not in entry else None
        for key, column, target in (("_constraint", "constraint", "constraint"),
                                    ("_calculation", "calculation", "calculation"),
                                    ("_required", "required", "required"),
                                    ("_choice_filter", "choice_filter", "choice_filter"),
                                    ("_count", "repeat_count", "count")):
            if key in entry and entry[key][0] is not None:
                data[target] = self._rewrite(entry[key][0], entry[key][1], column, current)
        if "_choices_from" in entry:
            name = entry["_choices_from"][0]
            data["choices_from"] = self.renames.get(name, name)
        if "_default" in entry:
            text, at = entry["_default"]
            if _dynamic_default(text, entry["type"]):
                data["default"] = self._rewrite(text, at, "default", None)
            else:  # a scored item's literal default is a name of its list: stored as ya/tidak like its answers
                data["default"] = self.ynp.get(entry["id"], {}).get(text.strip(), text)
        for choice, where in enumerate(entry.get("_choice_rows", ())):
            locations[f"{path}.choices[{choice}]"] = where
        if "items" in entry:
            data["items"] = [self._entry(child, f"{path}.items[{index}]", locations)
                             for index, child in enumerate(entry["items"])]
        return data

    def _rewrite(self, text: str, row: int, column: str, current: str | None) -> str:
        try:
            return _rewrite(text, self.renames, self.ynp, current)
        except ExpressionError as error:
            raise _bad_expression(column, text, row, error) from None

    def _checklist_id(self, path: Path, argument: str | None) -> str:
        if argument is not None:
            if not _ID.fullmatch(argument):
                raise XLSFormError("xlsform.bad_name", f"checklist id '{argument}' must match [a-z0-9_]+",
                                   None, None, "checklist_id",
                                   f"id checklist '{argument}' harus cocok dengan [a-z0-9_]+")
            return argument
        form_id = self.settings.values.get("id_string")
        if form_id:
            safe = _checklist_safe_id(str(form_id))
            if not _ID.fullmatch(safe):
                raise XLSFormError(
                    "xlsform.bad_name", f"form_id '{form_id}' has no letters or digits to make an id of; pass an id",
                    constants.SETTINGS, self.settings.row, "form_id",
                    f"form_id '{form_id}' tidak berisi huruf atau angka untuk dijadikan id; berikan id")
            if safe != form_id:
                self.warnings.add(f"settings: form_id '{form_id}' is written '{safe}'", None,
                                  f"settings: form_id '{form_id}' ditulis '{safe}'")
            return safe
        safe = _checklist_safe_id(path.stem)
        if _ID.fullmatch(safe):
            self.warnings.add(f"settings: no form_id, so the id is the file name '{safe}'", None,
                              f"settings: form_id tidak ada, jadi id-nya nama berkas '{safe}'")
            return safe
        raise XLSFormError("xlsform.no_settings_id",
                           f"no form_id in the settings sheet and the file name '{path.stem}' is not a valid id; "
                           "pass an id", constants.SETTINGS, self.settings.row, "form_id",
                           f"form_id tidak ada di lembar settings dan nama berkas '{path.stem}' bukan id yang valid; "
                           "berikan id")

    def _version(self, argument: int | None) -> tuple[int, str | None]:
        """(the version number, the author's version text): the text is kept whatever it is."""
        text = self.settings.values.get("version")
        label = None if text is None else " ".join(str(text).split()) or None
        if label is not None and len(label) > 64:
            raise XLSFormError("xlsform.bad_version", "version is longer than 64 characters", constants.SETTINGS,
                               self.settings.row, "version", "versi lebih panjang dari 64 karakter")
        if argument is not None:
            if isinstance(argument, bool) or not isinstance(argument, int) or argument < 1:
                raise XLSFormError("xlsform.bad_version", f"version {argument!r} must be a positive whole number",
                                   None, None, "version", f"versi {argument!r} harus bilangan bulat positif")
            return argument, label
        if label is None:
            self.warnings.add("settings: no version, so the version is 1", None,
                              "settings: versi tidak ada, jadi versinya 1")
            return 1, None
        if re.fullmatch(r"[0-9]{1,10}", label) and 0 < int(label) <= MAX_VERSION:
            return int(label), None
        return 1, label

    def _memenuhi_min(self) -> float:
        value = self.settings.values.get("kla_memenuhi_min")
        if value in (None, ""):
            return MEMENUHI_MIN
        try:
            return float(value)
        except (TypeError, ValueError):
            raise XLSFormError("xlsform.bad_value", f"kla_memenuhi_min must be a number, not '{value}'",
                               constants.SETTINGS, self.settings.row, "kla_memenuhi_min",
                               f"kla_memenuhi_min harus berupa angka, bukan '{value}'") from None

    def _title(self, checklist_id: str) -> dict:
        title = self._text(self.settings.values, "title", self.settings.row or 1, required=False,
                           sheet=constants.SETTINGS)
        if title is None:
            self.warnings.add("settings: no form_title, so the title is the id", None,
                              "settings: form_title tidak ada, jadi judulnya id")
            return {"id": checklist_id, "en": checklist_id}
        return title

    def _settings_warnings(self) -> None:
        if self.settings.id_string_dropped:
            self.warnings.add("settings: both form_id and id_string are given; form_id is used", self.settings.row,
                              "settings: form_id dan id_string keduanya diisi; form_id yang dipakai")
        ignored = sorted(key for key in self.settings.values if key != "__row" and key not in _USED_SETTINGS)
        if ignored:
            self.warnings.add(f"settings: ignored {', '.join(ignored)}", None,
                              f"settings: diabaikan {', '.join(ignored)}")
        dropped = [key for key in self.other_languages if key != self.fallback_language]
        if dropped:
            self.warnings.add("languages other than Indonesian and English are ignored: " + ", ".join(dropped), None,
                              "bahasa selain Indonesia dan Inggris diabaikan: " + ", ".join(dropped))

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
        indonesian = _MESSAGES_ID.get(code, "checklist tidak valid")
        return XLSFormError(code, message, sheet, row, construct,
                            f"{construct}: {indonesian} ({error.message})" if construct
                            else f"{indonesian} ({error.message})")


# --- Types -----------------------------------------------------------------------------------


def _classify(type_text: str, row: int) -> _Kind:
    """What a type cell asks for, read through pyxform's own table of types and aliases."""
    text = " ".join(type_text.split())
    lowered = text.lower()
    loop = _LOOP.fullmatch(lowered)
    if loop:
        return _Kind("begin_loop", list_name=text.split()[-1])
    control = _CONTROL.fullmatch(lowered)
    if control and control["word"] in ("group", "repeat", "loop"):
        return _Kind(f"{control['edge']}_{control['word']}")
    if control and control["word"] in ("lgroup", "looped group"):
        return _Kind(f"{control['edge']}_repeat")
    select = RE_SELECT.fullmatch(text)
    if select:
        return _select_kind(select, text, row)
    if lowered in aliases.select:
        raise XLSFormError("xlsform.missing_choices", f"'{text}' names no choice list",
                           constants.SURVEY, row, text, f"'{text}' tidak menyebut daftar pilihan")
    if RE_OSM.fullmatch(text):
        return _Kind("file", preset={"accept": "osm"},
                     note=("an OpenStreetMap question takes the .osm file from a mapping app; its tag list is not used",
                           "pertanyaan OpenStreetMap menerima berkas .osm dari aplikasi peta; daftar tag-nya tidak dipakai"))
    name = aliases._type_alias_map.get(lowered, lowered)
    entry = QUESTION_TYPE_DICT.get(name) or QUESTION_TYPE_DICT.get(text) or next(
        (value for key, value in QUESTION_TYPE_DICT.items() if key.lower() == lowered), None)
    if entry is None:
        raise _unsupported(text, row, *_UNKNOWN_TYPE)
    return _question_kind(name, entry, text, row)


def _question_kind(name: str, entry: dict, text: str, row: int) -> _Kind:
    bind, control = entry.get("bind", {}), entry.get("control", {})
    tag, bind_type = control.get("tag"), bind.get("type")
    preset = {key: bind[key] for key in ("constraint",) if key in bind}
    if "hint" in entry:
        preset["hint"] = entry["hint"]
    if name == "csv-external":
        return _Kind("table")
    if name == "audit":
        return _Kind("skip")
    if "jr:preload" in bind:
        default = _PRELOAD_DEFAULTS.get(bind.get("jr:preloadParams", ""))
        return _Kind("hidden", preset={"default": default} if default else {})
    if tag is None and bind_type == "string":
        return _Kind("hidden" if name == "hidden" else "calculate")
    if tag in ("select", "select1"):  # 'q select' and the like, written without a list name
        raise _unsupported(text, row, "a select needs its list: write select_one LIST or select_multiple LIST",
                           "pilihan memerlukan daftarnya: tulis select_one DAFTAR atau select_multiple DAFTAR")
    if tag == "upload":
        if control.get("mediatype") == "image/*":
            return _Kind("photo")
        if control.get("mediatype") in _UPLOADS:
            return _Kind("file", preset={"accept": _UPLOADS[control["mediatype"]]})
        raise _unsupported(text, row, *_UNKNOWN_TYPE)
    if tag == "trigger" and bind_type == "string":
        return _Kind("acknowledge")
    if tag == "range":
        return _Kind("decimal", preset={"range": entry.get("parameters", {})},
                     note=("a range question is entered as a number between its start and end",
                           "pertanyaan range diisi sebagai angka antara awal dan akhirnya"))
    if tag == "input" and bind.get("readonly") == "true()":
        return _Kind("note")
    if tag == "input" and bind_type in _INPUT_TYPES:
        note = None
        if bind_type == "barcode":
            note = ("a barcode is typed in as text (no scanner here)",
                    "kode batang diketik sebagai teks (tanpa pemindai)")
        return _Kind(_INPUT_TYPES[bind_type], preset=preset, note=note)
    if bind_type in _REFUSED_BINDS:
        raise _unsupported(text, row, *_REFUSED_BINDS[bind_type])
    if name in ("start-geopoint", "background-geopoint"):  # never asked: the audit's own position stands in
        return _Kind("hidden", note=("an automatic location is not recorded separately; the audit's own position "
                                     "is recorded instead", "lokasi otomatis tidak direkam terpisah; posisi audit "
                                     "sendiri yang direkam"))
    if name == "background-audio":  # never asked: the app does not record people in the background
        return _Kind("hidden", note=("background audio is not recorded", "audio latar tidak direkam"))
    if name == "trigger":
        raise _unsupported(text, row, "triggers", "pemicu")
    raise _unsupported(text, row, "external data", "data eksternal") if name == "xml-external" else _unsupported(
        text, row, *_UNKNOWN_TYPE)


def _select_kind(select: re.Match, text: str, row: int) -> _Kind:
    command_text = select["select_command"]
    command = aliases.select[command_text]
    list_name = select["list_name"]
    or_other = bool(select["specify_other"])
    if command_text in aliases.select_from_file:
        kind = "select_one" if "one" in command_text else "select_multiple"
        return _Kind(kind, list_name=list_name, source="file", or_other=or_other)
    if command == constants.SELECT_ONE:
        return _Kind("select_one", list_name=list_name, or_other=or_other)
    if command == constants.SELECT_ALL_THAT_APPLY:
        return _Kind("select_multiple", list_name=list_name, or_other=or_other)
    if command == constants.SELECT_ONE_EXTERNAL:
        return _Kind("select_one", list_name=list_name, source="external", or_other=or_other)
    raise _unsupported(text, row, "ranking questions", "pertanyaan peringkat")


def _unsupported(type_text: str, row: int, reason: str, reason_id: str) -> XLSFormError:
    return XLSFormError("xlsform.unsupported_type", f"'{type_text}' is not supported ({reason})",
                        constants.SURVEY, row, type_text, f"'{type_text}' tidak didukung ({reason_id})")


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


def _csv_choice(record: dict[str, str], file_name: str, line: int) -> dict:
    """A CSV row as a choices-sheet row (its sheet the file, its row the CSV line): label::Language grouped."""
    labels = {key.split("::", 1)[1]: value for key, value in record.items() if key.lower().startswith("label::")}
    row = {key: value for key, value in record.items() if not key.lower().startswith("label")}
    row["label"] = labels or record.get("label") or record.get("name")
    row["_sheet"], row["__row"] = file_name, line
    return row


def _renamed_references(text: str, renames: dict[str, str]) -> str:
    """A label's ${name} references following the names' ids (labels are not parsed as expressions)."""
    return re.sub(r"\$\{([^}]*)\}", lambda match: f"${{{renames.get(match[1], match[1])}}}", text)


def _checklist_safe_id(text: str) -> str:
    """A form_id or file name as a checklist id: lower case, any run of other characters (spaces too) as `_`.

    Broader than `_safe_id`: ODK takes any text as form_id ('Spec test'), while question names are XML names.
    """
    return re.sub(r"[^a-z0-9_]+", "_", text.strip().lower()).strip("_")[:64]


def _safe_id(name: str) -> str:
    """An XLSForm name as an id: lower case, `-` and `.` as `_`."""
    return re.sub(r"[-.]", "_", name.strip().lower())


def _looped(entry: dict, value: str, label: dict, names: dict[str, str]) -> dict:
    """A copy of an entry inside a loop for one choice: `%(label)s` filled, the name suffixed.

    `names` maps the loop's own ids (after the safe-id renames) to this choice's copies, so a reference from one
    question of the loop to another names the copy of the same choice.
    """
    copy = {key: value_ for key, value_ in entry.items()}
    copy["id"] = names[entry["id"]]
    for key in ("label", "hint"):
        if isinstance(entry.get(key), dict):
            copy[key] = {lang: _renamed_references(text.replace("%(label)s", label[lang]), names)
                         for lang, text in entry[key].items()}
    if "_relevant" in entry:
        copy["_relevant"] = [(_renamed_references(text, names), row) for text, row in entry["_relevant"]]
    for key in ("_constraint", "_calculation", "_required", "_choice_filter", "_count", "_default"):
        if key in entry and entry[key][0] is not None:
            copy[key] = (_renamed_references(entry[key][0], names), entry[key][1])
    if "items" in entry:
        copy["items"] = [_looped(child, value, label, names) for child in entry["items"]]
    return copy


def _default_text(text: str, item_type: str) -> str:
    """A default as the checklist reads it: an expression holds `(` or `${`, so one pyxform calls dynamic
    without either (`7 - 4`, `5 div 5`) is put in parentheses; anything else is the literal answer."""
    if _dynamic_default(text, item_type) and "(" not in text and "${" not in text:
        return f"({text})"
    return text


def _dynamic_default(text: str, item_type: str) -> bool:
    """Whether a default is an expression, decided as pyxform decides it (so `(https://x.org)` and `f-4` are
    literals while `random()`, `${a}` and `3 mod 3` are expressions); what our checklist would parse counts too."""
    if "(" not in text and "${" not in text:
        return default_is_dynamic(text, _PYXFORM_BIND_TYPES.get(item_type, item_type))
    return default_is_dynamic(text, _PYXFORM_BIND_TYPES.get(item_type, item_type)) or _parses(text)


def _parses(text: str) -> bool:
    try:
        parse(text)
    except ExpressionError:
        return False
    return True


def _walk(entries: list[dict]):
    for entry in entries:
        yield entry
        yield from _walk(entry.get("items", []))


def _pulldata_tables(text: str) -> list[str]:
    """The tables pulldata('table', ...) reads in an expression."""
    tokens = tokenize(text)
    return [tokens[i + 2].value for i in range(len(tokens) - 2)
            if tokens[i].kind == "name" and tokens[i].value == "pulldata" and tokens[i + 1].value == "("
            and tokens[i + 2].kind == "string"]


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


def _has_text(cell) -> bool:
    """Whether a cell (or any language of a translated cell) holds text."""
    if isinstance(cell, dict):
        return any(_has_text(value) for value in cell.values())
    return cell is not None and str(cell).strip() != ""


def _custom_bind_attribute(name: str) -> bool:
    """`bind::x` that is no XForms, JavaRosa or ODK attribute (a vendor's own, e.g. `bind::esri:fieldType`):
    pyxform copies it into the form and ODK clients ignore it, so the form means the same without it."""
    if not name.startswith("bind::"):
        return False
    attribute = name[len("bind::"):].strip().lower()
    return attribute not in _XFORMS_BIND_ATTRIBUTES and not attribute.startswith(("jr:", "odk:", "orx:"))


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
            relative = RELATIVE_REF.match(text, token.position)
            if relative:  # ../total is written ${total}, as people read it
                replacements[token.position] = (relative.end() - token.position, f"${{{name}}}")
            elif name != token.value:
                replacements[token.position] = (len(token.value) + 3, f"${{{name}}}")
        elif token.kind == "last" and renames.get(token.value, token.value) != token.value:
            replacements[token.position] = (len(token.value) + 14, f"${{last-saved#{renames[token.value]}}}")
        elif token.kind == "string" and "${" in token.value:  # jr:choice-name(x, '${q}') names q in a literal
            renamed = _renamed_references(token.value, renames)
            if renamed != token.value:
                quote = text[token.position]
                replacements[token.position] = (len(token.value) + 2, f"{quote}{renamed}{quote}")
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
