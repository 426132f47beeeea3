"""Bulk writes for the merge, straight to the driver: PostgreSQL COPY, SQLite executemany. Never commits.

A hub ingests hundreds of thousands of answer rows per bundle; SQLAlchemy's per-row statement
machinery costs more than the insert itself, so rows go to the DBAPI as plain tuples.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from itertools import chain, repeat
from typing import Iterable

from sqlalchemy import JSON
from sqlalchemy.orm import Session

CHUNK = 500  # rows per IN (...) list: well under SQLite's variable limit
BLOCK_ROWS = 20_000  # rows made and sent at a time: one executemany, or one write to the COPY stream


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    """The items in consecutive lists of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def bulk_insert(session: Session, table, rows: list[dict], raw: tuple[str, ...] = ()) -> None:
    """executemany straight to the driver (see bulk_insert_columns), from rows as dicts."""
    if rows:
        bulk_insert_columns(session, table, {name: [row[name] for row in rows] for name in rows[0]}, raw)


def bulk_insert_columns(session: Session, table, columns: dict[str, list], raw: tuple[str, ...] = (),
                        ready: tuple[str, ...] = ()) -> None:
    """Rows straight to the driver, from equally long value lists per column: PostgreSQL COPY, SQLite executemany.

    One statement for all the rows (on PostgreSQL one COPY, so the server inserts a block while the next is
    made here, and checks the foreign keys once at its end), made and sent BLOCK_ROWS rows at a time.
    Each column's type conversion is applied once per distinct value of a block (map and zip loop in C).
    Columns named in `raw` already hold driver values (on PostgreSQL: text, or None for NULL); columns named
    in `ready` hold what `driver_values` made of them, used as they are.
    """
    names = list(columns)
    if not names or not columns[names[0]]:
        return
    total = len(columns[names[0]])
    connection = session.connection()
    dialect = connection.dialect
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    target = f"{dialect.identifier_preparer.format_table(table)} ({quoted})"
    if dialect.name == "postgresql":
        fields = [None if name in ready else _copy_field(None if name in raw else table.c[name].type, dialect)
                  for name in names]
        blocks = ([_convert(field, columns[name][start:start + BLOCK_ROWS]) if field else columns[name][start:start + BLOCK_ROWS]
                   for name, field in zip(names, fields)] for start in range(0, total, BLOCK_ROWS))
        _copy_text(connection, f"COPY {target} FROM STDIN", blocks)
        return
    processes = [None if name in raw or name in ready else table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                 for name in names]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = f"INSERT INTO {target} VALUES ({', '.join([marker] * len(names))})"
    for start in range(0, total, BLOCK_ROWS):
        block = [columns[name][start:start + BLOCK_ROWS] for name in names]
        connection.exec_driver_sql(statement, list(zip(*(_convert(process, values) if process else values
                                                         for process, values in zip(processes, block)))))


def driver_values(session: Session, column, values: list) -> list:
    """The column's values as bulk_insert_columns hands them to the driver (`ready`): a COPY text field on
    PostgreSQL, the bound value on SQLite. For a value repeated on many rows (an audit's id on each of its
    answers), converted once and repeated after."""
    dialect = session.connection().dialect
    if dialect.name == "postgresql":
        return _convert(_copy_field(column.type, dialect), values)
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return _convert(process, values) if process else list(values)


def repeated(values: list, counts: list[int]) -> list:
    """Each value `count` times in a row: [a, a, b] from [a, b] and [2, 1] (in C)."""
    return list(chain.from_iterable(map(repeat, values, counts)))


# --- PostgreSQL: COPY in text format, made here ----------------------------------------------------------
# psycopg's write_row adapts every value of every row (an answer's JSON dumped again on each of its rows); the
# fields are made here instead, once per distinct value, and the rows joined in C: COPY's own cost is what is left.

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(column_type, dialect):
    """A function from a column's Python value to its COPY text field (\\N for NULL).

    The value is first what SQLAlchemy would bind (the column type's bind processor: a UTCDateTime in UTC, an
    Enum's name); JSON is its serializer's text, as SQLAlchemy writes it (a None is JSON null unless the column
    says none_as_null). `column_type` None: the value is already text or None.
    """
    if column_type is None:
        return lambda value: "\\N" if value is None else _text_field(value)
    if isinstance(column_type, JSON):
        dumps = dialect._json_serializer or json.dumps
        none_as_null = column_type.none_as_null
        return lambda value: "\\N" if value is None and none_as_null else dumps(value).translate(_ESCAPES)
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return _field
    return lambda value: _field(process(value))


def _field(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _text_field(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, float, uuid.UUID)):
        return str(value) if not isinstance(value, float) else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no COPY text for {type(value).__name__}")


def _text_field(value: str) -> str:
    if "\x00" in value:
        raise ValueError("PostgreSQL text cannot hold NUL")
    return value.translate(_ESCAPES)


def _copy_text(connection, statement: str, blocks: Iterable[list[list[str]]]) -> None:
    """COPY ... FROM STDIN in the request's own transaction, one write per block of fields (a list per column)."""
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for block in blocks:
                copy.write("\n".join(map("\t".join, zip(*block))).encode() + b"\n")
    finally:
        cursor.close()


_TEXT = frozenset({str, type(None)})


def _convert(process, values: list) -> list:
    """Each distinct value converted once, in loops that run in C.

    Answers repeat a handful of values ("ya", "tidak") and an audit's id and time repeat on each of
    its answer rows. Text is told apart by value (its hash is cached in the string). Anything else by
    identity first (cheap, and what repeats within an audit), then by (type, value): 1, 1.0 and True
    are equal in a dict but not in JSON.
    """
    if set(map(type, values)) <= _TEXT:
        table = dict.fromkeys(values)
        for value in table:
            table[value] = process(value)
        return list(map(table.__getitem__, values))
    ids = list(map(id, values))
    distinct = dict(zip(ids, values))  # every value object is alive in `values`: ids are unique
    objects = list(distinct.values())
    try:
        keys = list(zip(map(type, objects), objects))
        by_value = {key: process(key[1]) for key in dict.fromkeys(keys)}
        table = dict(zip(distinct, map(by_value.__getitem__, keys)))
    except TypeError:  # an unhashable value (a list or dict answer): convert each object
        table = {ident: process(value) for ident, value in distinct.items()}
    return list(map(table.__getitem__, ids))
