"""Facility checklists: the model, the YAML loader and validator, and answer shapes.

Checklists are data, not code (kla-reference.md: the official criteria are under revision and a
ministry or dinas must be able to edit them), so every rule a YAML file can break has a stable
error code and a location such as `rbra-v1.yaml: sections[2].items[4].constraint`.
The format is described in docs/checklist-format.md.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from survey.expressions import Expression, ExpressionError, is_empty, parse
from survey.kinds import KIND_CODES

ITEM_TYPES = ("ynp", "integer", "decimal", "select_one", "select_multiple", "text", "date",
              "photo", "gps", "time", "datetime", "calculate", "note", "hidden", "acknowledge", "file")
FILE_ACCEPTS = ("audio", "video", "osm", "file")  # what a `file` item takes (survey.photos.ACCEPTS)
CONTAINER_TYPES = ("group", "repeat")
# Items that hold no answer the auditor gives: computed, shown or kept out of sight.
COMPUTED_TYPES = ("calculate", "hidden")
DISPLAY_TYPES = ("note",)
YNP_VALUES = ("ya", "tidak", "sebagian", "tidak_berlaku")
FACILITY_KINDS = KIND_CODES
ALL_FACILITIES = "all"
SOURCE_STATUSES = ("verified", "weak", "observable_practice", "unverified")

MAX_TEXT_ANSWER = 10_000
MAX_INSTANCES = 500  # instances of one repeat in one audit, in all its enclosing instances together
MAX_REPEAT_DEPTH = 3
MAX_ANSWERS = 20_000  # answers of one audit, repeat instances included
_ID = re.compile(r"[a-z0-9_]{1,64}")
# Where an answer lives: an item id, or inside repeats `repeat[n]/item` (n from 1, nested up to three deep),
# as ODK addresses `/data/repeat[n]/item`. The repeat's own address holds its number of instances.
ADDRESS = re.compile(r"(?:[a-z0-9_]{1,64}\[[1-9][0-9]{0,3}\]/){0,3}[a-z0-9_]{1,64}")
MAX_ADDRESS = 255
# Choice values travel space-separated in ODK select_multiple answers, so no whitespace.
_CHOICE_VALUE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_FILENAME = re.compile(r"(?P<id>[a-z0-9_]+)-v(?P<version>[1-9][0-9]*)\.yaml")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"(?P<h>[01]\d|2[0-3]):(?P<m>[0-5]\d)(?::[0-5]\d(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?")
_DATETIME = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>.+)")
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ChecklistError(ValueError):
    """A checklist file that breaks the format, with a stable code and where it went wrong."""

    def __init__(self, code: str, message: str, location: str):
        super().__init__(message)
        self.code = code
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message} [{self.code}]"


# --- Model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A bilingual text; Indonesian is the fallback."""

    id: str
    en: str

    def get(self, locale: str | None = None) -> str:
        """The text for a locale such as 'en', 'en_US' or 'id'."""
        if locale and locale.lower().startswith("en") and self.en:
            return self.en
        return self.id


@dataclass(frozen=True)
class Choice:
    """One option of a select_one or select_multiple item."""

    value: str
    label: Text
    columns: tuple[tuple[str, str], ...] = ()  # other columns of the choice row, read by choice filters

    def column(self, name: str) -> str:
        """A column of the choice row for a choice filter: `name` is the value, a missing column is ''."""
        if name == "name":
            return self.value
        return dict(self.columns).get(name, "")


@dataclass(frozen=True)
class Container:
    """A group (a sub-heading) or a repeat (answered once per instance) inside a section."""

    id: str
    type: str  # group | repeat
    label: Text | None = None
    hint: Text | None = None
    relevant: Expression | None = None
    count: Expression | None = None  # repeat only: the number of instances; None lets the auditor add them
    parent: str | None = None  # the enclosing container's id
    appearance: str | None = None


@dataclass(frozen=True)
class Item:
    """One question. weight, critical and allow_na only mean something for ynp items.

    `path` names the containers (groups and repeats) around the item inside its section, outermost first.
    """

    id: str
    type: str
    label: Text
    hint: Text | None = None
    required: bool = False
    relevant: Expression | None = None
    constraint: Expression | None = None
    constraint_message: Text | None = None
    weight: int | float = 1
    critical: bool = False
    allow_na: bool = True
    min: int | float | None = None
    max: int | float | None = None
    choices: tuple[Choice, ...] = ()
    source: str | None = None
    source_status: str | None = None
    required_if: Expression | None = None  # a conditional `required`
    calculation: Expression | None = None
    default: str | None = None
    read_only: bool = False
    choice_filter: Expression | None = None
    appearance: str | None = None
    path: tuple[str, ...] = ()
    accept: str | None = None  # file items: audio | video | osm | file
    choices_from: str | None = None  # a select offering the answers an item got across a repeat's entries

    @property
    def is_scored(self) -> bool:
        """Whether the item contributes weight to the score."""
        return self.type == "ynp" and self.weight > 0

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    @property
    def is_answerable(self) -> bool:
        """Whether the auditor gives this item an answer (not computed, not a note, not read-only)."""
        return (self.type not in COMPUTED_TYPES and self.type not in DISPLAY_TYPES and not self.read_only
                and self.calculation is None)

    def expressions(self) -> dict[str, Expression]:
        """The item's expressions by field name."""
        named = {"relevant": self.relevant, "constraint": self.constraint, "required": self.required_if,
                 "calculation": self.calculation, "choice_filter": self.choice_filter}
        return {key: value for key, value in named.items() if value is not None}


@dataclass(frozen=True)
class Section:
    """A group of items with its own source."""

    id: str
    title: Text
    source: str
    items: tuple[Item, ...]
    source_status: str | None = None
    source_text: Text | None = None  # `source` as users read it, without the research-note citations


@dataclass(frozen=True)
class Scoring:
    """Scoring parameters of a checklist."""

    memenuhi_min: float


@dataclass(frozen=True)
class Checklist:
    """One version of a facility checklist."""

    id: str
    version: int
    title: Text
    facility_kinds: tuple[str, ...]
    source: str
    source_status: str
    scoring: Scoring
    sections: tuple[Section, ...]
    description: Text | None = None
    source_note: Text | None = None
    source_text: Text | None = None  # `source` as users read it, without the research-note citations
    version_label: str | None = None  # the author's version text (XLSForm `version`), shown beside the number
    containers: tuple[Container, ...] = ()
    tables: tuple[tuple[str, tuple[tuple[tuple[str, str], ...], ...]], ...] = ()  # pulldata() CSVs: (name, rows)
    items: tuple[Item, ...] = field(init=False, repr=False, compare=False)
    _items_by_id: dict = field(init=False, repr=False, compare=False)
    _sections_by_item: dict = field(init=False, repr=False, compare=False)
    _containers: dict = field(init=False, repr=False, compare=False)
    _repeats: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        items = tuple(item for section in self.sections for item in section.items)
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "_items_by_id", {item.id: item for item in items})
        object.__setattr__(self, "_sections_by_item", {
            item.id: section for section in self.sections for item in section.items})
        object.__setattr__(self, "_containers", {container.id: container for container in self.containers})
        # Asked for every node of every evaluation: worked out once per checklist.
        object.__setattr__(self, "_repeats", {
            **{item.id: self._repeats_on(item.path) for item in items},
            **{c.id: self._repeats_on(self.container_path(c.id)) for c in self.containers}})

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def item(self, item_id: str) -> Item:
        """The item with this id; KeyError when there is none."""
        return self._items_by_id[item_id]

    def section_of(self, item_id: str) -> Section:
        """The section holding an item."""
        return self._sections_by_item[item_id]

    def source_of(self, item_id: str) -> tuple[str, str]:
        """Effective (source, source_status) of an item: item, else section, else checklist."""
        item, section = self.item(item_id), self.section_of(item_id)
        source = item.source or section.source or self.source
        status = item.source_status or section.source_status or self.source_status
        return source, status

    def container(self, container_id: str) -> Container:
        """The group or repeat with this id; KeyError when there is none."""
        return self._containers[container_id]

    def has_container(self, container_id: str) -> bool:
        return container_id in self._containers

    def repeats_of(self, item_or_container: Item | Container) -> tuple[str, ...]:
        """Ids of the repeats around an item or container, outermost first (a repeat includes itself)."""
        return self._repeats[item_or_container.id]

    def _repeats_on(self, path: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(cid for cid in path if self._containers[cid].type == "repeat")

    def container_path(self, container_id: str) -> tuple[str, ...]:
        """The container and its enclosing containers, outermost first."""
        path, current = [], container_id
        while current is not None:
            path.append(current)
            current = self._containers[current].parent
        return tuple(reversed(path))

    @property
    def repeats(self) -> tuple[Container, ...]:
        return tuple(c for c in self.containers if c.type == "repeat")

    def table(self, name: str) -> tuple[dict[str, str], ...]:
        """The rows of a pulldata() table, as dicts."""
        for table_name, rows in self.tables:
            if table_name == name:
                return tuple(dict(row) for row in rows)
        return ()

    @property
    def uses_last_saved(self) -> bool:
        """Whether an expression or a default reads the form saved before (${last-saved#x})."""
        for item in self.items:
            if any(e.last_saved for e in item.expressions().values()) or "${last-saved#" in (item.default or ""):
                return True
        return any(c.relevant is not None and c.relevant.last_saved or c.count is not None and c.count.last_saved
                   for c in self.containers)

    @property
    def question_count(self) -> int:
        """Questions the auditor answers (repeats count once): what lists call the checklist's size."""
        return sum(1 for item in self.items if item.is_answerable)

    @property
    def shown_version(self) -> str:
        """The version as people name it: the author's label when there is one, else the number."""
        return self.version_label or str(self.version)

    def applies_to(self, facility_kind: str) -> bool:
        """Whether the checklist is meant for a facility kind."""
        return ALL_FACILITIES in self.facility_kinds or facility_kind in self.facility_kinds


# --- Reading YAML ----------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which plain safe_load silently overwrites."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise ChecklistError("checklist.duplicate_key", f"duplicate key {key!r} "
                                     f"on line {key_node.start_mark.line + 1}", "")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(text: str, origin: str) -> object:
    """Parse YAML with safe constructors only."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except ChecklistError as error:
        raise ChecklistError(error.code, error.message, origin) from None
    except yaml.YAMLError as error:
        raise ChecklistError("checklist.bad_yaml", f"not valid YAML: {error}", origin) from None


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               list: "a list", dict: "a mapping"}


def _type_name(kinds: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(kind, kind.__name__) for kind in kinds)


class _Fields:
    """A YAML mapping being validated, which knows where it sits in the file."""

    def __init__(self, data: object, origin: str, path: str, allowed: tuple[str, ...]):
        self.origin, self.path = origin, path
        if not isinstance(data, dict):
            raise self.error("checklist.bad_type", f"expected a mapping, got {_kind(data)}")
        self.data = data
        for key in data:
            if key not in allowed:
                raise self.error("checklist.unknown_field", f"unknown field {key!r}", str(key))

    def child(self, key: str) -> str:
        """Path of a key of this mapping."""
        return f"{self.path}.{key}" if self.path else key

    def where(self, key: str | None = None) -> str:
        """Location string of this mapping or one of its keys."""
        path = self.path if key is None else self.child(key)
        return f"{self.origin}: {path}" if path else self.origin

    def error(self, code: str, message: str, key: str | None = None) -> ChecklistError:
        return ChecklistError(code, message, self.where(key))

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, key: str, kinds: tuple[type, ...], *, required=False, default=None,
            missing_code="checklist.missing_field"):
        """A field's value after checking its YAML type; `key:` with no value counts as missing."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(missing_code, f"missing required field {key!r}", key)
            return default
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if wrong_bool or not isinstance(value, kinds):
            hint = " (YAML reads yes/no/on/off as booleans: quote it)" if wrong_bool else ""
            raise self.error("checklist.bad_type",
                             f"expected {_type_name(kinds)}, got {_kind(value)}{hint}", key)
        return value

    def string(self, key: str, *, required=False, missing_code="checklist.missing_field"):
        """A non-blank string field."""
        value = self.get(key, (str,), required=required, missing_code=missing_code)
        if value is not None and not value.strip():
            if required:
                raise self.error(missing_code, f"field {key!r} is empty", key)
            raise self.error("checklist.bad_value", f"field {key!r} is empty", key)
        return value

    def identifier(self, key: str) -> str:
        value = self.string(key, required=True)
        if not _ID.fullmatch(value):
            raise self.error("checklist.bad_value",
                             f"{key} {value!r} must match [a-z0-9_]+ (at most 64 characters)", key)
        return value

    def choice(self, key: str, allowed: tuple[str, ...], *, required=False):
        value = self.string(key, required=required)
        if value is not None and value not in allowed:
            raise self.error("checklist.bad_value",
                             f"{key} {value!r} is not one of: {', '.join(allowed)}", key)
        return value

    def text(self, key: str, *, required=False) -> Text | None:
        """A bilingual {id, en} text; both languages are required."""
        value = self.get(key, (dict,), required=required)
        if value is None:
            return None
        fields = _Fields(value, self.origin, self.child(key), ("id", "en"))
        for language in ("id", "en"):
            fields.string(language, required=True, missing_code="checklist.missing_translation")
        return Text(id=value["id"], en=value["en"])

    def expression(self, key: str) -> Expression | None:
        """An expression field, parsed now so a broken one fails at load time."""
        text = self.string(key)
        if text is None:
            return None
        try:
            return parse(text)
        except ExpressionError as error:
            raise self.error("checklist.bad_expression",
                             f"{key} {text!r}: {error.message} at position {error.position} "
                             f"[{error.code}]", key) from None


def _kind(value: object) -> str:
    """A YAML value's kind, for error messages."""
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:
            return name
    if value is None:
        return "nothing"
    if isinstance(value, datetime.date):
        return "a date (quote it to make it a string)"
    return type(value).__name__


def _list(fields: _Fields, key: str) -> list:
    """A required, non-empty list field."""
    value = fields.get(key, (list,), required=True)
    if not value:
        raise fields.error("checklist.bad_value", f"{key} must not be empty", key)
    return value


# --- Building the model ----------------------------------------------------------------------

_CHECKLIST_FIELDS = ("id", "version", "version_label", "title", "description", "facility_kinds", "source",
                     "source_text", "source_status", "source_note", "scoring", "sections", "tables")
_SECTION_FIELDS = ("id", "title", "source", "source_text", "source_status", "items")
_ITEM_FIELDS = ("id", "type", "label", "hint", "required", "relevant", "constraint",
                "constraint_message", "weight", "critical", "allow_na", "min", "max", "choices",
                "source", "source_status", "calculation", "default", "read_only", "choice_filter",
                "appearance", "accept", "choices_from")
_CONTAINER_FIELDS = ("id", "type", "label", "hint", "relevant", "count", "appearance", "items")
_YNP_FIELDS = ("weight", "critical", "allow_na")


def checklist_from_dict(data: object, origin: str = "<checklist>") -> Checklist:
    """Validate a checklist given as plain data (parsed YAML or an importer's dict)."""
    fields = _Fields(data, origin, "", _CHECKLIST_FIELDS)
    checklist_id = fields.identifier("id")
    version = fields.get("version", (int,), required=True)
    if version < 1:
        raise fields.error("checklist.bad_value", "version must be a positive integer", "version")
    containers: list[Container] = []
    checklist = Checklist(
        id=checklist_id,
        version=version,
        title=fields.text("title", required=True),
        description=fields.text("description"),
        facility_kinds=_facility_kinds(fields),
        source=fields.string("source", required=True, missing_code="checklist.missing_source"),
        source_status=fields.choice("source_status", SOURCE_STATUSES, required=True),
        source_note=fields.text("source_note"),
        source_text=fields.text("source_text"),
        scoring=_scoring(fields),
        sections=_sections(fields, containers),
        version_label=_version_label(fields),
        containers=tuple(containers),
        tables=_tables(fields),
    )
    _check_references(checklist, origin)
    return checklist


def _facility_kinds(fields: _Fields) -> tuple[str, ...]:
    kinds = _list(fields, "facility_kinds")
    allowed = (*FACILITY_KINDS, ALL_FACILITIES)
    for index, kind in enumerate(kinds):
        if not isinstance(kind, str) or kind not in allowed:
            raise fields.error("checklist.bad_value",
                               f"{kind!r} is not one of: {', '.join(allowed)}",
                               f"facility_kinds[{index}]")
    if len(set(kinds)) != len(kinds) or (ALL_FACILITIES in kinds and len(kinds) > 1):
        raise fields.error("checklist.bad_value",
                           "facility kinds must be distinct, and 'all' must stand alone",
                           "facility_kinds")
    return tuple(kinds)


def _scoring(fields: _Fields) -> Scoring:
    scoring = _Fields(fields.get("scoring", (dict,), required=True), fields.origin, "scoring",
                      ("memenuhi_min",))
    threshold = scoring.get("memenuhi_min", (int, float), required=True)
    if not 0 <= threshold <= 1:
        raise scoring.error("checklist.bad_range", "memenuhi_min must be between 0 and 1",
                            "memenuhi_min")
    return Scoring(memenuhi_min=threshold)


def _version_label(fields: _Fields) -> str | None:
    label = fields.string("version_label")
    if label is not None and len(label) > 64:
        raise fields.error("checklist.bad_value", "version_label is longer than 64 characters", "version_label")
    return label


def _tables(fields: _Fields) -> tuple:
    """pulldata() tables: {name: [{column: text}, ...]}, every cell a string."""
    data = fields.get("tables", (dict,), default={})
    tables = []
    for name, rows in data.items():
        where = f"tables.{name}"
        if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
            raise fields.error("checklist.bad_value", f"table name {name!r} must match [A-Za-z0-9_.-]+", "tables")
        if not isinstance(rows, list):
            raise fields.error("checklist.bad_type", f"expected a list, got {_kind(rows)}", where)
        table = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in row.items()):
                raise fields.error("checklist.bad_type", "a table row maps column names to strings",
                                   f"{where}[{index}]")
            table.append(tuple(row.items()))
        tables.append((name, tuple(table)))
    return tuple(tables)


def _sections(fields: _Fields, containers: list[Container]) -> tuple[Section, ...]:
    sections, section_ids, ids = [], set(), set()
    for index, data in enumerate(_list(fields, "sections")):
        section = _section(_Fields(data, fields.origin, f"sections[{index}]", _SECTION_FIELDS), containers, ids)
        if section.id in section_ids:
            raise fields.error("checklist.duplicate_id", f"section id {section.id!r} is used twice",
                               f"sections[{index}].id")
        section_ids.add(section.id)
        sections.append(section)
    return tuple(sections)


def _section(fields: _Fields, containers: list[Container], ids: set[str]) -> Section:
    section_id = fields.identifier("id")
    title = fields.text("title", required=True)
    source = fields.string("source", required=True, missing_code="checklist.missing_source")
    status = fields.choice("source_status", SOURCE_STATUSES)
    source_text = fields.text("source_text")
    items: list[Item] = []
    _entries(fields, (), containers, ids, items)
    return Section(id=section_id, title=title, source=source, items=tuple(items), source_status=status,
                   source_text=source_text)


def _entries(fields: _Fields, path: tuple[str, ...], containers: list[Container], ids: set[str],
             items: list[Item]) -> None:
    """The `items` list of a section or container: questions, and groups and repeats holding more."""
    for index, data in enumerate(_list(fields, "items")):
        kind = data.get("type") if isinstance(data, dict) else None
        child = fields.child(f"items[{index}]")
        if kind in CONTAINER_TYPES:
            entry = _Fields(data, fields.origin, child, _CONTAINER_FIELDS)
            container = _container(entry, path, containers)
            _claim(entry, ids, container.id)
            containers.append(container)
            _entries(entry, (*path, container.id), containers, ids, items)
        else:
            entry = _Fields(data, fields.origin, child, _ITEM_FIELDS)
            item = _item(entry, path)
            _claim(entry, ids, item.id)
            items.append(item)


def _claim(fields: _Fields, ids: set[str], new_id: str) -> None:
    """Items, groups and repeats share one namespace: ${name} must name exactly one of them."""
    if new_id in ids:
        raise fields.error("checklist.duplicate_id", f"item id {new_id!r} is used twice", "id")
    ids.add(new_id)


def _container(fields: _Fields, path: tuple[str, ...], containers: list[Container]) -> Container:
    container_id = fields.identifier("id")
    kind = fields.data["type"]
    if kind == "repeat" and sum(1 for c in containers if c.id in path and c.type == "repeat") >= MAX_REPEAT_DEPTH:
        raise fields.error("checklist.bad_value", f"repeats nest at most {MAX_REPEAT_DEPTH} deep", "type")
    if kind == "group" and fields.has("count"):
        raise fields.error("checklist.field_not_allowed", "count is for repeats", "count")
    relevant = fields.expression("relevant")
    if relevant is not None and relevant.uses_current:
        raise fields.error("checklist.bad_expression", "'.' means nothing in a group's relevant", "relevant")
    return Container(id=container_id, type=kind, label=fields.text("label", required=kind == "repeat"),
                     hint=fields.text("hint"), relevant=relevant, count=fields.expression("count"),
                     parent=path[-1] if path else None, appearance=fields.string("appearance"))


def _item(fields: _Fields, path: tuple[str, ...] = ()) -> Item:
    item_id = fields.identifier("id")
    item_type = fields.choice("type", ITEM_TYPES, required=True)
    # Calculations and hidden fields are not shown, so a label is optional there.
    label = fields.text("label", required=item_type not in COMPUTED_TYPES)
    if label is None:
        label = Text(id=item_id, en=item_id)
    hint = fields.text("hint")
    required, required_if = _required(fields)
    relevant = fields.expression("relevant")
    if relevant is not None and relevant.uses_current:
        raise fields.error("checklist.bad_expression",
                           "'.' (the item's own value) cannot decide whether the item is shown",
                           "relevant")
    constraint = fields.expression("constraint")
    constraint_message = fields.text("constraint_message", required=constraint is not None)
    if constraint is None and constraint_message is not None:
        raise fields.error("checklist.field_not_allowed",
                           "constraint_message without a constraint", "constraint_message")
    calculation = fields.expression("calculation")
    if item_type == "calculate" and calculation is None:
        raise fields.error("checklist.missing_field", "a calculate item needs a calculation", "calculation")
    if calculation is not None and calculation.uses_dot:  # once() may read the item's own value; `.` may not
        raise fields.error("checklist.bad_expression", "'.' cannot be used in a calculation", "calculation")
    if item_type == "note" and (required or required_if or constraint):
        raise fields.error("checklist.field_not_allowed", "a note takes no answer, so nothing is required of it",
                           "required" if required or required_if else "constraint")
    return Item(
        id=item_id, type=item_type, label=label, hint=hint, required=required, relevant=relevant,
        constraint=constraint, constraint_message=constraint_message,
        **_ynp_fields(fields, item_type), **_range(fields, item_type),
        choices=_choices(fields, item_type),
        source=fields.string("source"),
        source_status=fields.choice("source_status", SOURCE_STATUSES),
        required_if=required_if, calculation=calculation, default=_default(fields),
        read_only=fields.get("read_only", (bool,), default=False),
        choice_filter=_choice_filter(fields, item_type), appearance=fields.string("appearance"),
        path=path, accept=_accept(fields, item_type), choices_from=_choices_from(fields, item_type),
    )


def _choices_from(fields: _Fields, item_type: str) -> str | None:
    """XLSForm's `select_one ${name}`: the choices are the answers `name` got in a repeat's entries."""
    name = fields.string("choices_from")
    if name is None:
        return None
    if item_type not in ("select_one", "select_multiple"):
        raise fields.error("checklist.field_not_allowed", "choices_from is for select items", "choices_from")
    if fields.has("choices"):
        raise fields.error("checklist.field_not_allowed", "choices_from takes no choices of its own", "choices_from")
    if not _ID.fullmatch(name):
        raise fields.error("checklist.bad_value", f"choices_from {name!r} must name an item", "choices_from")
    return name


def _accept(fields: _Fields, item_type: str) -> str | None:
    if item_type != "file":
        _refuse(fields, ("accept",), "file items")
        return None
    return fields.choice("accept", FILE_ACCEPTS) or "file"


def _required(fields: _Fields) -> tuple[bool, Expression | None]:
    """`required: true`, or an expression text that decides it answer by answer."""
    value = fields.get("required", (bool, str), default=False)
    if isinstance(value, bool):
        return value, None
    expression = fields.expression("required")
    return False, expression


def _default(fields: _Fields) -> str | None:
    value = fields.get("default", (str, int, float), default=None)
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        raise fields.error("checklist.bad_value", "default must be a finite number", "default")
    return value if isinstance(value, str) else str(value)


def _choice_filter(fields: _Fields, item_type: str) -> Expression | None:
    text = fields.string("choice_filter")
    if text is None:
        return None
    if item_type not in ("select_one", "select_multiple"):
        raise fields.error("checklist.field_not_allowed", "choice_filter is for select items", "choice_filter")
    try:
        return parse(text, choice_filter=True)
    except ExpressionError as error:
        raise fields.error("checklist.bad_expression",
                           f"choice_filter {text!r}: {error.message} at position {error.position} "
                           f"[{error.code}]", "choice_filter") from None


def _ynp_fields(fields: _Fields, item_type: str) -> dict:
    if item_type != "ynp":
        _refuse(fields, _YNP_FIELDS, "only ynp items")
        return {}
    weight = fields.get("weight", (int, float), default=1)
    if weight < 0 or not math.isfinite(weight):
        raise fields.error("checklist.bad_value", "weight must be 0 or more", "weight")
    return {"weight": weight,
            "critical": fields.get("critical", (bool,), default=False),
            "allow_na": fields.get("allow_na", (bool,), default=True)}


def _range(fields: _Fields, item_type: str) -> dict:
    if item_type not in ("integer", "decimal"):
        _refuse(fields, ("min", "max"), "only integer and decimal items")
        return {}
    kinds = (int,) if item_type == "integer" else (int, float)
    low, high = fields.get("min", kinds), fields.get("max", kinds)
    if low is not None and high is not None and low > high:
        raise fields.error("checklist.bad_range", f"min {low} is greater than max {high}", "max")
    return {"min": low, "max": high}


def _choices(fields: _Fields, item_type: str) -> tuple[Choice, ...]:
    if item_type not in ("select_one", "select_multiple"):
        if fields.has("choices"):
            raise fields.error("checklist.bad_choices",
                               f"choices are only for select items, not {item_type}", "choices")
        return ()
    if fields.has("choices_from"):
        return ()
    if not fields.has("choices") or not fields.data["choices"]:
        raise fields.error("checklist.bad_choices", f"a {item_type} item needs choices", "choices")
    choices = []
    for index, data in enumerate(fields.get("choices", (list,))):
        choice = _Fields(data, fields.origin, fields.child(f"choices[{index}]"),
                         ("value", "label", "columns"))
        value = choice.get("value", (str,), required=True)
        if not _CHOICE_VALUE.fullmatch(value):
            raise choice.error("checklist.bad_choices",
                               f"choice value {value!r} must match [A-Za-z0-9_.-]+", "value")
        if value in (existing.value for existing in choices):
            raise choice.error("checklist.bad_choices", f"choice value {value!r} is used twice",
                               "value")
        columns = choice.get("columns", (dict,), default={})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
            raise choice.error("checklist.bad_choices", "a choice's columns map names to strings", "columns")
        choices.append(Choice(value=value, label=choice.text("label", required=True), columns=tuple(columns.items())))
    return tuple(choices)


def _refuse(fields: _Fields, keys: tuple[str, ...], who: str):
    """Reject fields that mean nothing for this item type rather than ignore them."""
    for key in keys:
        if key in fields.data:
            raise fields.error("checklist.field_not_allowed", f"{key} is for {who}", key)


def _check_references(checklist: Checklist, origin: str):
    """Every ${name} names an item, group or repeat; relevance never names its own item; nothing computes itself."""
    names = {item.id for item in checklist.items} | {c.id for c in checklist.containers}
    items = {item.id for item in checklist.items}
    paths = _paths(checklist)
    for item in checklist.items:
        if item.choices_from is not None and item.choices_from not in items:
            raise ChecklistError("checklist.unknown_reference",
                                 f"choices_from {item.choices_from!r} is not an item of this checklist",
                                 f"{origin}: {paths[item.id]}.choices_from")
    for name, path, expressions in _expression_owners(checklist):
        for key, expression in expressions.items():
            where = f"{origin}: {path}.{key}"
            for reference in sorted(expression.references | expression.last_saved):
                if reference not in names:
                    raise ChecklistError("checklist.unknown_reference",
                                         f"${{{reference}}} is not an item of this checklist", where)
            if key == "relevant" and name in expression.references:
                raise ChecklistError(
                    "checklist.self_reference",
                    f"relevant of {name!r} refers to the item itself", where)
    _check_cycles(checklist, origin)


def _expression_owners(checklist: Checklist):
    """(name, location, {field: expression}) of every item and container, in file order."""
    for name, path in _paths(checklist).items():
        if checklist.has_container(name):
            container = checklist.container(name)
            expressions = {"relevant": container.relevant, "count": container.count}
            yield name, path, {k: v for k, v in expressions.items() if v is not None}
        else:
            yield name, path, checklist.item(name).expressions()


def dependencies(checklist: Checklist) -> dict[str, list[str]]:
    """What each item's or container's value or visibility is computed from: the order evaluation must follow."""
    depends: dict[str, set[str]] = {}
    for item in checklist.items:
        used = set()
        for key in ("relevant", "calculation"):
            expression = getattr(item, key)
            used |= set(expression.references) if expression else set()
        if item.path:
            used.add(item.path[-1])
        depends[item.id] = used - {item.id}
    for container in checklist.containers:
        used = set()
        for expression in (container.relevant, container.count):
            used |= set(expression.references) if expression else set()
        if container.parent:
            used.add(container.parent)
        depends[container.id] = used - {container.id}
    return {name: sorted(used) for name, used in depends.items()}


def _check_cycles(checklist: Checklist, origin: str):
    """Refuse relevance or calculations that depend on themselves through others: their value would be undefined."""
    depends = dependencies(checklist)
    paths = _paths(checklist)
    visiting, done = 1, 2
    state: dict[str, int] = {}
    for start in depends:
        if start in state:
            continue
        # Iterative depth-first search: a long chain of items must not hit the recursion limit.
        state[start] = visiting
        stack = [(start, iter(depends[start]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = done
                stack.pop()
            elif state.get(child) == visiting:
                path = [name for name, _ in stack]
                cycle = " -> ".join(path[path.index(child):] + [child])
                key = "calculation" if _computes(checklist, node) else "relevant"
                code = "checklist.calculation_cycle" if key == "calculation" else "checklist.relevance_cycle"
                raise ChecklistError(code, f"{'calculation' if key == 'calculation' else 'relevance'} cycle: {cycle}",
                                     f"{origin}: {paths[node]}.{key}")
            elif child not in state and child in depends:
                state[child] = visiting
                stack.append((child, iter(depends[child])))


def _computes(checklist: Checklist, name: str) -> bool:
    return not checklist.has_container(name) and checklist.item(name).calculation is not None


def _paths(checklist: Checklist) -> dict[str, str]:
    """The file location of every item and container: sections[1].items[0].items[2]."""
    paths: dict[str, str] = {}
    for section_index, section in enumerate(checklist.sections):
        _walk_entries(section.items, 0, f"sections[{section_index}]", paths)
    return paths


def _walk_entries(items: tuple[Item, ...], depth: int, prefix: str, paths: dict[str, str]) -> None:
    """Number entries as the file does: an item or container is one entry of its parent's `items`."""
    for index, (item, container_id, members) in enumerate(entries_at(items, depth)):
        paths[item.id if item is not None else container_id] = f"{prefix}.items[{index}]"
        if container_id is not None:
            _walk_entries(members, depth + 1, f"{prefix}.items[{index}]", paths)


def load_checklist_text(text: str, origin: str = "<checklist>") -> Checklist:
    """Parse and validate checklist YAML; origin names the file in error locations."""
    return checklist_from_dict(_read_yaml(text, origin), origin)


def load_checklist(path: str | Path) -> Checklist:
    """Load and validate one checklist file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ChecklistError("checklist.bad_yaml", f"not UTF-8: {error}", path.name) from None
    return load_checklist_text(text, path.name)


def load_directory(path: str | Path) -> dict[str, Checklist]:
    """Load every checklist file in a folder, keyed by `id@version`."""
    checklists = {}
    for file in sorted(Path(path).glob("*.y*ml")):
        if not _FILENAME.fullmatch(file.name):
            raise ChecklistError("checklist.filename_mismatch",
                                 "checklist files are named <id>-v<version>.yaml", file.name)
        checklist = load_checklist(file)
        expected = f"{checklist.id}-v{checklist.version}.yaml"
        if file.name != expected:
            raise ChecklistError("checklist.filename_mismatch",
                                 f"file holds {checklist.key}, so it must be named {expected}",
                                 file.name)
        checklists[checklist.key] = checklist
    return checklists


# --- Writing ---------------------------------------------------------------------------------


def _text_dict(text: Text) -> dict:
    return {"id": text.id, "en": text.en}


def _put(data: dict, key: str, value, default=None):
    """Set a key only when it differs from its default, so dumps stay short."""
    if value is not None and value != default:
        data[key] = _text_dict(value) if isinstance(value, Text) else value


def _item_dict(item: Item) -> dict:
    data = {"id": item.id, "type": item.type, "label": _text_dict(item.label)}
    _put(data, "hint", item.hint)
    _put(data, "required", item.required, False)
    _put(data, "relevant", item.relevant and item.relevant.text)
    _put(data, "constraint", item.constraint and item.constraint.text)
    _put(data, "constraint_message", item.constraint_message)
    if item.type == "ynp":
        _put(data, "weight", item.weight, 1)
        _put(data, "critical", item.critical, False)
        _put(data, "allow_na", item.allow_na, True)
    _put(data, "min", item.min)
    _put(data, "max", item.max)
    if item.choices:
        data["choices"] = [_choice_dict(c) for c in item.choices]
    _put(data, "source", item.source)
    _put(data, "source_status", item.source_status)
    if item.required_if is not None:
        data["required"] = item.required_if.text
    _put(data, "calculation", item.calculation and item.calculation.text)
    _put(data, "default", item.default)
    _put(data, "read_only", item.read_only, False)
    _put(data, "choice_filter", item.choice_filter and item.choice_filter.text)
    _put(data, "appearance", item.appearance)
    if item.type == "file":
        _put(data, "accept", item.accept, "file")
    _put(data, "choices_from", item.choices_from)
    return data


def _choice_dict(choice: Choice) -> dict:
    data = {"value": choice.value, "label": _text_dict(choice.label)}
    if choice.columns:
        data["columns"] = dict(choice.columns)
    return data


def _container_dict(container: Container) -> dict:
    data = {"id": container.id, "type": container.type}
    _put(data, "label", container.label)
    _put(data, "hint", container.hint)
    _put(data, "relevant", container.relevant and container.relevant.text)
    _put(data, "count", container.count and container.count.text)
    _put(data, "appearance", container.appearance)
    return data


def entries_at(items: tuple[Item, ...], depth: int) -> Iterator[tuple[Item | None, str | None, tuple[Item, ...]]]:
    """A section's (or container's) flat items as the file nests them, one level: (item, None, ()) for an item
    at this depth, (None, container id, the items inside it) for a group or repeat. Members are contiguous."""
    index = 0
    while index < len(items):
        item = items[index]
        if len(item.path) == depth:
            yield item, None, ()
            index += 1
            continue
        container_id, start = item.path[depth], index
        while index < len(items) and len(items[index].path) > depth and items[index].path[depth] == container_id:
            index += 1
        yield None, container_id, items[start:index]


def _entry_dicts(checklist: Checklist, items: tuple[Item, ...], depth: int) -> list[dict]:
    """The nested `items` list: questions, and containers holding the questions inside them."""
    entries = []
    for item, container_id, members in entries_at(items, depth):
        if item is not None:
            entries.append(_item_dict(item))
            continue
        data = _container_dict(checklist.container(container_id))
        data["items"] = _entry_dicts(checklist, members, depth + 1)
        entries.append(data)
    return entries


def _section_dict(checklist: Checklist, section: Section) -> dict:
    data = {"id": section.id, "title": _text_dict(section.title), "source": section.source}
    _put(data, "source_text", section.source_text)
    _put(data, "source_status", section.source_status)
    data["items"] = _entry_dicts(checklist, section.items, 0)
    return data


def checklist_to_dict(checklist: Checklist) -> dict:
    """Plain data for a checklist in the file's key order; the inverse of checklist_from_dict."""
    data = {"id": checklist.id, "version": checklist.version}
    _put(data, "version_label", checklist.version_label)
    data["title"] = _text_dict(checklist.title)
    _put(data, "description", checklist.description)
    data["facility_kinds"] = list(checklist.facility_kinds)
    data["source"] = checklist.source
    _put(data, "source_text", checklist.source_text)
    data["source_status"] = checklist.source_status
    _put(data, "source_note", checklist.source_note)
    data["scoring"] = {"memenuhi_min": checklist.scoring.memenuhi_min}
    data["sections"] = [_section_dict(checklist, section) for section in checklist.sections]
    if checklist.tables:
        data["tables"] = {name: [dict(row) for row in rows] for name, rows in checklist.tables}
    return data


class _ChecklistDumper(yaml.SafeDumper):
    """Writes texts and choices on one line, as people write them by hand."""

    def ignore_aliases(self, data):
        return True

    def increase_indent(self, flow=False, indentless=False):
        # Indent lists under their key, as the hand-written files do.
        return super().increase_indent(flow, False)


def _represent_mapping(dumper: yaml.SafeDumper, data: dict):
    inline = set(data) in ({"id", "en"}, {"value", "label"}) and len(_flat(data)) <= _INLINE_MAX
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=inline)


_INLINE_MAX = 70


def _flat(data: object) -> str:
    """All scalar text of a value, to judge whether it fits on one line."""
    if isinstance(data, dict):
        return " ".join(_flat(value) for value in data.values())
    return str(data)


_ChecklistDumper.add_representer(dict, _represent_mapping)


def dump_checklist_yaml(checklist: Checklist) -> str:
    """YAML text that load_checklist_text reads back as an equal checklist."""
    return yaml.dump(checklist_to_dict(checklist), Dumper=_ChecklistDumper, sort_keys=False,
                     allow_unicode=True, width=4096)


# --- Answers ---------------------------------------------------------------------------------


def validate_answer(item: Item, value: object) -> str | None:
    """Error code when an answer has the wrong shape for its item; None when fine or unanswered."""
    if is_empty(value):
        return None
    return _VALIDATORS[item.type](item, value)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_ynp(item: Item, value: object) -> str | None:
    if value not in YNP_VALUES:
        return "answer.not_a_choice"
    if value == "tidak_berlaku" and not item.allow_na:
        return "answer.na_not_allowed"
    return None


def _check_range(item: Item, value: float) -> str | None:
    if item.min is not None and value < item.min:
        return "answer.below_min"
    if item.max is not None and value > item.max:
        return "answer.above_max"
    return None


def _check_integer(item: Item, value: object) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return "answer.not_integer"
    return _check_range(item, value)


def _check_decimal(item: Item, value: object) -> str | None:
    if not _is_number(value):
        return "answer.not_number"
    return _check_range(item, value)


def _check_select_one(item: Item, value: object) -> str | None:
    # Choices taken from a repeat's answers are known only with the form's state (survey.form checks them).
    offered = isinstance(value, str) and (item.choices_from is not None or value in item.choice_values)
    return None if offered else "answer.not_a_choice"


def _check_select_multiple(item: Item, value: object) -> str | None:
    if not isinstance(value, (list, tuple)):
        return "answer.not_a_list"
    if any(not isinstance(v, str) or (item.choices_from is None and v not in item.choice_values) for v in value):
        return "answer.not_a_choice"
    return "answer.duplicate" if len(set(value)) != len(value) else None


def _check_text(item: Item, value: object) -> str | None:
    if not isinstance(value, str):
        return "answer.not_text"
    return "answer.too_long" if len(value) > MAX_TEXT_ANSWER else None


def _check_date(item: Item, value: object) -> str | None:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return "answer.not_a_date"
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return "answer.not_a_date"
    return None


def _check_photo(item: Item, value: object) -> str | None:
    if not isinstance(value, (list, tuple)):
        return "answer.not_a_list"
    if any(not isinstance(v, str) or not _SHA256.fullmatch(v) for v in value):
        return "answer.bad_photo"
    return "answer.duplicate" if len(set(value)) != len(value) else None


def _check_gps(item: Item, value: object) -> str | None:
    if not isinstance(value, dict) or set(value) != {"lat", "lon", "accuracy"}:
        return "answer.bad_gps"
    lat, lon, accuracy = value["lat"], value["lon"], value["accuracy"]
    if not all(_is_number(v) for v in (lat, lon, accuracy)):
        return "answer.bad_gps"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and accuracy >= 0):
        return "answer.bad_gps"
    return None


def _check_time(item: Item, value: object) -> str | None:
    return None if isinstance(value, str) and _TIME.fullmatch(value) else "answer.not_a_time"


def _check_datetime(item: Item, value: object) -> str | None:
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    if not match or _check_date(item, match["date"]) or not _TIME.fullmatch(match["time"]):
        return "answer.not_a_datetime"
    return None


def _check_computed(item: Item, value: object) -> str | None:
    """A calculation's result is kept as ODK keeps it: text (numbers and booleans are written as text)."""
    if isinstance(value, str):
        return "answer.too_long" if len(value) > MAX_TEXT_ANSWER else None
    return None if _is_number(value) or isinstance(value, bool) else "answer.not_text"


def _check_note(item: Item, value: object) -> str | None:
    return "answer.not_answerable"


def _check_acknowledge(item: Item, value: object) -> str | None:
    return None if value == "OK" else "answer.not_a_choice"


_VALIDATORS = {
    "time": _check_time,
    "datetime": _check_datetime,
    "calculate": _check_computed,
    "hidden": _check_computed,
    "note": _check_note,
    "acknowledge": _check_acknowledge,
    "file": _check_photo,  # hashes of stored recordings or documents, as photos
    "ynp": _check_ynp,
    "integer": _check_integer,
    "decimal": _check_decimal,
    "select_one": _check_select_one,
    "select_multiple": _check_select_multiple,
    "text": _check_text,
    "date": _check_date,
    "photo": _check_photo,
    "gps": _check_gps,
}

_INTEGER = re.compile(r"[+-]?\d+")
# '.' is what <input type=number> sends; a lone ',' is how Indonesians write a decimal point.
_DECIMAL = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def coerce_answer(item: Item, raw: str | list[str]) -> object:
    """Typed answer from form input; None when blank. Unconvertible input is returned as given,
    so validate_answer reports it instead of it vanishing."""
    if item.type in ("select_multiple", "photo", "file"):
        parts = raw.split() if isinstance(raw, str) else [str(part).strip() for part in raw]
        parts = [part.lower() if item.type in ("photo", "file") else part for part in parts if part]
        return parts or None
    if isinstance(raw, (list, tuple)):
        if len(raw) > 1:
            return list(raw)
        raw = raw[0] if raw else ""
    text = raw.strip()
    if not text:
        return None
    return _COERCERS.get(item.type, lambda text: text)(text)


def _coerce_integer(text: str) -> object:
    return int(text) if _INTEGER.fullmatch(text) else text


def _coerce_decimal(text: str) -> object:
    if not _DECIMAL.fullmatch(text) or ("," in text and "." in text):
        return text
    return float(text.replace(",", "."))


def _coerce_time(text: str) -> object:
    """<input type=time> sends HH:MM or HH:MM:SS; seconds are kept only when not zero."""
    return text[:5] if re.fullmatch(r"\d{2}:\d{2}(:00)?", text) else text


def _coerce_datetime(text: str) -> object:
    """<input type=datetime-local> sends YYYY-MM-DDTHH:MM; a space instead of the T is taken too."""
    text = text.replace(" ", "T", 1) if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}.*", text) else text
    match = _DATETIME.fullmatch(text)
    return f"{match['date']}T{_coerce_time(match['time'])}" if match else text


def _coerce_gps(text: str) -> object:
    """ODK writes a geopoint as 'lat lon altitude accuracy'; altitude is dropped."""
    parts = text.split()
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return text
    if len(numbers) == 3:
        return {"lat": numbers[0], "lon": numbers[1], "accuracy": numbers[2]}
    if len(numbers) == 4:
        return {"lat": numbers[0], "lon": numbers[1], "accuracy": numbers[3]}
    return text


_COERCERS = {
    "time": _coerce_time,
    "datetime": _coerce_datetime,
    "integer": _coerce_integer,
    "decimal": _coerce_decimal,
    "gps": _coerce_gps,
}

