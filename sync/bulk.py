"""Bulk writes for the merge, straight to the driver: PostgreSQL COPY, SQLite executemany. Never commits.

A hub ingests hundreds of thousands of answer rows per bundle; SQLAlchemy's per-row statement
machinery costs more than the insert itself, so rows go to the DBAPI as plain tuples.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy.orm import Session

CHUNK = 500  # rows per IN (...) list: well under SQLite's variable limit


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    """The items in consecutive lists of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def bulk_insert(session: Session, table, rows: list[dict], raw: tuple[str, ...] = ()) -> None:
    """executemany straight to the driver (see bulk_insert_columns), from rows as dicts."""
    if rows:
        bulk_insert_columns(session, table, {name: [row[name] for row in rows] for name in rows[0]}, raw)


def bulk_insert_columns(session: Session, table, columns: dict[str, list], raw: tuple[str, ...] = ()) -> None:
    """executemany straight to the driver, from equally long value lists per column.

    Each column's type conversion is applied once per distinct value (map and zip loop in C).
    Columns named in `raw` already hold driver values.
    """
    names = list(columns)
    if not names or not columns[names[0]]:
        return
    connection = session.connection()
    dialect = connection.dialect
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    sql = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({quoted}) VALUES ({', '.join([marker] * len(names))})"
    converted = []
    for name in names:
        process = None if name in raw else table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        converted.append(_convert(process, columns[name]) if process else columns[name])
    if dialect.name == "postgresql":
        _copy_rows(connection, f"COPY {dialect.identifier_preparer.format_table(table)} ({quoted}) FROM STDIN",
                   zip(*converted))
    else:
        connection.exec_driver_sql(sql, list(zip(*converted)))


def _copy_rows(connection, statement: str, rows) -> None:
    """PostgreSQL: COPY in the request's own transaction, several times faster than executemany."""
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def _convert(process, values: list) -> list:
    """Each distinct value converted once, in loops that run in C.

    Answers repeat a handful of values ("ya", "tidak") and an audit's id and time repeat on each of
    its answer rows. Objects are told apart by identity first (cheap, and what repeats within an
    audit), then by (type, value): 1, 1.0 and True are equal in a dict but not in JSON.
    """
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
