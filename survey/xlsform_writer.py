"""Write a checklist version as an XLSForm workbook: what the importer reads back as the same checklist. Pure.

Everything ODK knows goes in XLSForm's own columns (types, labels and hints per language, relevant, constraint,
required, calculation, default, read_only, choice_filter, appearance, repeat_count). What only Pantau KLA has
travels in `kla_*` columns that other XLSForm tools ignore: on the settings sheet the checklist's facility kinds,
source, source status, source texts, description and `memenuhi_min`; on group and question rows their source and
source status; on number questions `kla_min`/`kla_max`. A scored ya/tidak item is a `select_one` of the list
`ynp` (with `tidak_berlaku`) or `ynp_wajib` (without) marked `scored`, with its `weight` and `critical`.
Other selects get a list of their own, named after the question. pulldata() tables are CSV attachments
(`attachments()`), as XLSForm keeps them.
"""

from __future__ import annotations

import csv
import io

import openpyxl

from survey.checklist import Checklist, Container, Item, Section, Text, entries_at

ID_LANG, EN_LANG = "Indonesian (id)", "English (en)"
YNP_LIST, YNP_REQUIRED_LIST = "ynp", "ynp_wajib"
_YNP_LABELS = {"ya": ("Ya", "Yes"), "tidak": ("Tidak", "No"), "sebagian": ("Sebagian", "Partly"),
               "tidak_berlaku": ("Tidak berlaku", "Not applicable")}
_TYPES = {"integer": "integer", "decimal": "decimal", "text": "text", "date": "date", "time": "time",
          "datetime": "dateTime", "photo": "image", "gps": "geopoint", "calculate": "calculate", "note": "note",
          "hidden": "hidden", "acknowledge": "acknowledge"}
SURVEY_COLUMNS = ("type", "name", f"label::{ID_LANG}", f"label::{EN_LANG}", f"hint::{ID_LANG}", f"hint::{EN_LANG}",
                  "required", "relevant", "constraint", f"constraint_message::{ID_LANG}",
                  f"constraint_message::{EN_LANG}", "calculation", "default", "read_only", "choice_filter",
                  "appearance", "repeat_count", "scored", "weight", "critical", "kla_min", "kla_max", "kla_source",
                  "kla_source_status", f"kla_source_text::{ID_LANG}", f"kla_source_text::{EN_LANG}")
SETTINGS_COLUMNS = ("form_id", "version", f"form_title::{ID_LANG}", f"form_title::{EN_LANG}", "default_language",
                    "kla_facility_kinds", "kla_source", "kla_source_status", "kla_memenuhi_min",
                    f"kla_description::{ID_LANG}", f"kla_description::{EN_LANG}", f"kla_source_note::{ID_LANG}",
                    f"kla_source_note::{EN_LANG}", f"kla_source_text::{ID_LANG}", f"kla_source_text::{EN_LANG}")


def write_xlsform(checklist: Checklist) -> bytes:
    """The checklist as an .xlsx workbook (survey, choices and settings sheets)."""
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(SURVEY_COLUMNS)
    choices = book.create_sheet("choices")
    columns = _choice_columns(checklist)
    choices.append(("list_name", "name", f"label::{ID_LANG}", f"label::{EN_LANG}", *columns))
    for row in survey_rows(checklist):
        survey.append([row.get(column) for column in SURVEY_COLUMNS])
    for row in choice_rows(checklist):
        choices.append([row.get(column) for column in ("list_name", "name", f"label::{ID_LANG}",
                                                       f"label::{EN_LANG}", *columns)])
    settings = book.create_sheet("settings")
    settings.append(SETTINGS_COLUMNS)
    values = settings_row(checklist)
    settings.append([values.get(column) for column in SETTINGS_COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def attachments(checklist: Checklist) -> dict[str, bytes]:
    """The pulldata() tables as the CSV files the form names (`<table>.csv`)."""
    files = {}
    for name, rows in checklist.tables:
        records = [dict(row) for row in rows]
        header = list(dict.fromkeys(key for record in records for key in record))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        writer.writerows(records)
        files[f"{name}.csv"] = out.getvalue().encode("utf-8")
    return files


def file_name(checklist: Checklist) -> str:
    """`<id>-v<version>.xlsx`: the importer takes the id from form_id, whatever the file is called."""
    return f"{checklist.id}-v{checklist.version}.xlsx"


# --- rows ------------------------------------------------------------------------------------


def settings_row(checklist: Checklist) -> dict:
    row = {"form_id": checklist.id, "version": checklist.version_label or str(checklist.version),
           "default_language": ID_LANG, "kla_facility_kinds": " ".join(checklist.facility_kinds),
           "kla_source": checklist.source, "kla_source_status": checklist.source_status,
           "kla_memenuhi_min": checklist.scoring.memenuhi_min}
    _texts(row, "form_title", checklist.title)
    for key in ("description", "source_note", "source_text"):
        _texts(row, f"kla_{key}", getattr(checklist, key))
    return row


def survey_rows(checklist: Checklist) -> list[dict]:
    rows = []
    for section in checklist.sections:
        rows.append(_section_row(section))
        rows.extend(_entries(checklist, section.items, 0))
        rows.append({"type": "end group"})
    return rows


def choice_rows(checklist: Checklist) -> list[dict]:
    rows = []
    if any(item.type == "ynp" and item.allow_na for item in checklist.items):
        rows.extend(_ynp_choices(YNP_LIST, ("ya", "tidak", "sebagian", "tidak_berlaku")))
    if any(item.type == "ynp" and not item.allow_na for item in checklist.items):
        rows.extend(_ynp_choices(YNP_REQUIRED_LIST, ("ya", "tidak", "sebagian")))
    for item in checklist.items:
        for choice in item.choices:
            row = {"list_name": item.id, "name": choice.value, f"label::{ID_LANG}": choice.label.id,
                   f"label::{EN_LANG}": choice.label.en}
            row.update(dict(choice.columns))
            rows.append(row)
    return rows


def _ynp_choices(list_name: str, values: tuple[str, ...]) -> list[dict]:
    return [{"list_name": list_name, "name": value, f"label::{ID_LANG}": _YNP_LABELS[value][0],
             f"label::{EN_LANG}": _YNP_LABELS[value][1]} for value in values]


def _choice_columns(checklist: Checklist) -> list[str]:
    return list(dict.fromkeys(key for item in checklist.items for choice in item.choices for key, _ in choice.columns))


def _section_row(section: Section) -> dict:
    row = {"type": "begin group", "name": section.id, "kla_source": section.source,
           "kla_source_status": section.source_status}
    _texts(row, "label", section.title)
    _texts(row, "kla_source_text", section.source_text)
    return row


def _entries(checklist: Checklist, items: tuple[Item, ...], depth: int) -> list[dict]:
    """Rows of the items at this depth, with begin/end rows around the containers inside."""
    rows = []
    for item, container_id, members in entries_at(items, depth):
        if item is not None:
            rows.append(_item_row(item))
            continue
        container = checklist.container(container_id)
        rows.append(_container_row(container))
        rows.extend(_entries(checklist, members, depth + 1))
        rows.append({"type": f"end {container.type}"})
    return rows


def _container_row(container: Container) -> dict:
    row = {"type": f"begin {container.type}", "name": container.id, "relevant": _text_of(container.relevant),
           "repeat_count": _text_of(container.count), "appearance": container.appearance}
    _texts(row, "label", container.label)
    _texts(row, "hint", container.hint)
    return row


def _item_row(item: Item) -> dict:
    row = {"name": item.id, "relevant": _text_of(item.relevant), "constraint": _text_of(item.constraint),
           "calculation": _text_of(item.calculation), "default": item.default,
           "read_only": "yes" if item.read_only else None, "choice_filter": _text_of(item.choice_filter),
           "appearance": item.appearance, "kla_source": item.source, "kla_source_status": item.source_status,
           "kla_min": item.min, "kla_max": item.max}
    if item.type == "ynp":
        row.update(type=f"select_one {YNP_LIST if item.allow_na else YNP_REQUIRED_LIST}", scored="yes",
                   weight=item.weight, critical="yes" if item.critical else None)
    elif item.type in ("select_one", "select_multiple"):
        row["type"] = f"{item.type} ${{{item.choices_from}}}" if item.choices_from else f"{item.type} {item.id}"
    elif item.type == "file":
        row["type"] = {"audio": "audio", "video": "video", "osm": "osm"}.get(item.accept, "file")
    else:
        row["type"] = _TYPES[item.type]
    if item.required_if is not None:
        row["required"] = item.required_if.text
    elif item.required:
        row["required"] = "yes"
    unlabelled = item.label.id == item.id and item.label.en == item.id
    if not (unlabelled and item.type in ("calculate", "hidden", "note")):
        _texts(row, "label", item.label)
    _texts(row, "hint", item.hint)
    _texts(row, "constraint_message", item.constraint_message)
    return row


def _texts(row: dict, column: str, text: Text | None) -> None:
    if text is not None:
        row[f"{column}::{ID_LANG}"] = text.id
        row[f"{column}::{EN_LANG}"] = text.en


def _text_of(expression) -> str | None:
    return expression.text if expression is not None else None
