"""Inserting checked rows in batches, inside the one transaction the caller holds.

Each batch runs under a savepoint. When the database refuses a batch (a unique or foreign key
violation, a value it will not take), the batch is rolled back to its savepoint and its rows are
tried one at a time, each under its own savepoint, to name the lines at fault; then the import
stops and the caller rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import groupby, islice
from typing import Any

from sqlalchemy import column, insert, table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import quoted_name
from sqlalchemy.sql.expression import TableClause

from app.jobs.errors import describe_error

MAX_REPORTED_REJECTS = 100
Batch = list[tuple[int, dict[str, Any]]]


class DatabaseRejected(Exception):
    """The database refused rows of a batch; `rejects` names their lines."""

    def __init__(self, rejects: list[dict]):
        super().__init__(f"{len(rejects)} rows rejected by the database")
        self.rejects = rejects


def target_table(spec: dict) -> TableClause:
    """The table as SQLAlchemy quotes it for the dialect; names are used exactly as cached."""
    columns = [column(quoted_name(c["name"], True)) for c in spec["columns"]]
    schema = quoted_name(spec["schema"], True) if spec.get("schema") else None
    return table(quoted_name(spec["name"], True), *columns, schema=schema)


def insert_rows(
    conn: Connection,
    target: TableClause,
    rows: Iterable[tuple[int, dict[str, Any]]],
    batch_size: int,
    after_batch: Callable[[int], None],
) -> int:
    """Insert every row, `batch_size` at a time; `after_batch(rows done)` runs after each batch
    (progress, and the cancellation checkpoint). Returns the number of rows inserted."""
    done = 0
    iterator = iter(rows)
    while batch := list(islice(iterator, batch_size)):
        _insert_batch(conn, target, batch)
        done += len(batch)
        after_batch(done)
    return done


def _insert_batch(conn: Connection, target: TableClause, batch: Batch) -> None:
    savepoint = conn.begin_nested()
    try:
        for values in _runs_of_same_columns(batch):
            _execute(conn, target, values)
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise
        try:
            savepoint.rollback()
        except DBAPIError:
            raise exc from None  # the server ended the transaction (a deadlock): not a row's fault
        rejects = _rejected_rows(conn, target, batch)
        if not rejects:
            raise
        raise DatabaseRejected(rejects) from None
    savepoint.commit()


def _runs_of_same_columns(batch: Batch) -> Iterator[list[dict[str, Any]]]:
    """Consecutive rows naming the same columns, one multi-row INSERT each (JSON objects may
    leave different columns to their defaults)."""
    for _columns, run in groupby(batch, key=lambda row: tuple(row[1])):
        yield [values for _line, values in run]


def _execute(conn: Connection, target: TableClause, values: list[dict[str, Any]]) -> None:
    if values and values[0]:
        conn.execute(insert(target), values)
    else:
        for _ in values:  # every column left to its default
            conn.execute(insert(target))


def _rejected_rows(conn: Connection, target: TableClause, batch: Batch) -> list[dict]:
    rejects: list[dict] = []
    for line, values in batch:
        try:
            with conn.begin_nested():
                _execute(conn, target, [values])
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise
            rejects.append(_describe_reject(line, exc))
            if len(rejects) >= MAX_REPORTED_REJECTS:
                break
    return rejects


def _describe_reject(line: int, exc: DBAPIError) -> dict:
    """The driver's message, with PostgreSQL's detail line (e.g. which key already exists)."""
    reject: dict[str, Any] = {"line": line}
    diag = getattr(exc.orig, "diag", None)
    if diag is not None and diag.column_name:
        reject["column"] = diag.column_name
    error = describe_error(exc)
    if diag is not None and diag.message_detail:
        error = f"{error} ({diag.message_detail})"
    reject["error"] = error[:500]
    return reject
