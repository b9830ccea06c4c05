"""Bulk writes for the nightly job: INSERT … ON CONFLICT DO NOTHING and UPDATE by id for thousands
of rows per batch, without per-row ORM or per-row SQLAlchemy parameter handling.

Values go through the column types' own bind processors (the conversions SQLAlchemy itself
applies), so rows read back exactly as if the ORM had written them. SQLite gets the driver's
executemany (in-process, fast); PostgreSQL gets COPY into a temporary table and one set-based
INSERT … SELECT / UPDATE … FROM, because a pipelined executemany still costs a server round of
work per row (≈ 55 µs) and COPY about a tenth of that.
"""
from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import ARRAY, Integer, Table, any_, bindparam, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app import db

SMALL = 100  # fewer rows than this (a request's fee, a test) take SQLAlchemy's ordinary path


def insert_once(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]) -> None:
    """INSERT the rows, skipping any whose ``keys`` already exist: a retried or repeated run adds
    nothing twice. Every row must have the same keys (columns left out get their defaults)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if len(rows) < SMALL:
        session.execute(db.insert_ignoring_conflicts(session, table, index_elements=tuple(keys)), list(rows))
        return
    if dialect.name == "postgresql":
        names = list(rows[0]) + [c.key for c in table.columns if c.default is not None and c.key not in rows[0]]
        values = _converted(connection, table, names, rows)
        _copy_in(connection, table, names, values, lambda tmp, cols: (
            f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM {tmp} '
            f'ON CONFLICT ({", ".join(_quote(k) for k in keys)}) DO NOTHING'))
        return
    statement = db.insert_ignoring_conflicts(session, table, index_elements=tuple(keys))
    compiled = statement.compile(dialect=dialect, column_keys=list(rows[0]), for_executemany=True)
    names = list(compiled.positiontup or ())
    connection.exec_driver_sql(compiled.string, [tuple(v) for v in _converted(connection, table, names, rows)])


def update_column_by_id(session: Session, table: Table, column: str, pairs: Sequence[tuple[int, Any]]) -> None:
    """``UPDATE table SET column = value WHERE id = …`` for many (id, value) pairs."""
    if not pairs:
        return
    connection = session.connection()
    dialect = connection.dialect
    rows = [{"id": row_id, column: value} for row_id, value in pairs]
    if dialect.name == "postgresql":
        values = _converted(connection, table, ["id", column], rows)
        _copy_in(connection, table, ["id", column], values, lambda tmp, _cols: (
            f'UPDATE "{table.name}" SET {_quote(column)} = {tmp}.{_quote(column)} FROM {tmp} '
            f'WHERE "{table.name}".id = {tmp}.id'))
        return
    statement = update(table).where(table.c.id == bindparam("b_id")).values({column: bindparam("b_value")})
    compiled = statement.compile(dialect=dialect, for_executemany=True)
    process = _processor(connection, table, column) or (lambda value: value)
    order = list(compiled.positiontup or ())
    connection.exec_driver_sql(compiled.string, [
        tuple(process(value) if name == "b_value" else row_id for name in order) for row_id, value in pairs])


def ids_in(session: Session, column: Any, ids: Collection[int]) -> Any:
    """``column IN ids`` for thousands of ids: one array parameter on PostgreSQL (``= ANY(…)``), where
    an IN list of 2,000 parameters costs more to compile and send than to run."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _processor(connection: Connection, table: Table, name: str) -> Any:
    dialect = connection.dialect
    return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)


def _converted(connection: Connection, table: Table, names: list[str], rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Rows as value lists in ``names`` order, through the columns' bind processors. Every row has the
    keys of the first; the other names get the column's default."""
    given = [n for n in names if n in rows[0]]
    defaults = [_default(table.c[n]) for n in names if n not in rows[0]]
    order = {n: i for i, n in enumerate(given + [n for n in names if n not in rows[0]])}
    get = itemgetter(*given)
    values = [[*get(row), *defaults] if len(given) > 1 else [get(row), *defaults] for row in rows]
    for name in names:
        process = _remembering(_processor(connection, table, name))
        if process is not None:
            i = order[name]
            for value in values:
                value[i] = process(value[i])
    position = [order[n] for n in names]
    if position != sorted(position):
        values = [[value[i] for i in position] for value in values]
    return values


def _copy_in(connection: Connection, table: Table, names: list[str], values: list[list[Any]], then: Any) -> None:
    """COPY the values into a temporary copy of the columns, run ``then(tmp, cols)``, drop it."""
    cols = ", ".join(_quote(n) for n in names)
    # One temporary table per connection and column list, emptied at every commit: creating and
    # dropping one per batch would write PostgreSQL's catalog hundreds of times a night.
    shape = hashlib.sha1(f"{table.name}:{cols}".encode()).hexdigest()[:12]
    tmp = f'"tmp_bulk_{table.name[:30]}_{shape}"'
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute(f'CREATE TEMP TABLE IF NOT EXISTS {tmp} ON COMMIT DELETE ROWS AS '
                       f'SELECT {cols} FROM "{table.name}" WITH NO DATA')
        cursor.execute(f"DELETE FROM {tmp}")  # a second bulk write to the same table in one transaction
        with cursor.copy(f"COPY {tmp} ({cols}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        cursor.execute(then(tmp, cols))


def _remembering(process: Any) -> Any:
    """A bind processor that reuses its last answer for the same object (every row of a batch
    carries the same ``now``: convert it once)."""
    if process is None:
        return None
    last: list[Any] = [object(), None]

    def remembered(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return remembered


def _default(column: Any) -> Any:
    """A column's Python-side default (for rows that leave the column out)."""
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg

