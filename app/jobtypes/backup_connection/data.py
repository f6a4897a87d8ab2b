"""A table's rows as multi-row INSERT statements, streamed: the driver fetches rows in chunks
(a server-side cursor on PostgreSQL, an unbuffered one on MySQL) and each statement is written
as soon as it is full, so memory stays flat whatever the table's size."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from .ddl import SchemaScript

FETCH_ROWS = 1000
STATEMENT_ROWS = 500
STATEMENT_BYTES = 1 << 20
PROGRESS_EVERY_ROWS = 10_000


def write_rows(
    conn: Connection,
    script: SchemaScript,
    table: dict,
    write: Callable[[str], None],
    on_rows: Callable[[int], None],
) -> int:
    """Write every row of `table` as INSERT statements; returns the number of rows.

    `on_rows(count)` is called every PROGRESS_EVERY_ROWS rows (it may raise to cancel)."""
    dialect = script.dialect
    columns = script.inserted_columns(table)
    if not columns:
        return 0
    types = [column["type"] for column in columns]
    prefix = script.insert_prefix(table, columns)
    result = conn.execution_options(stream_results=True, yield_per=FETCH_ROWS).exec_driver_sql(
        _select(script, table, columns)
    )
    rows_written = 0
    pending: list[str] = []
    pending_bytes = 0
    for row in result:
        values = ", ".join(dialect.literal(value, type_) for value, type_ in zip(row, types, strict=True))
        pending.append(f"({values})")
        pending_bytes += len(pending[-1])
        rows_written += 1
        if len(pending) >= STATEMENT_ROWS or pending_bytes >= STATEMENT_BYTES:
            write(prefix + ",\n".join(pending) + ";\n")
            pending, pending_bytes = [], 0
        if rows_written % PROGRESS_EVERY_ROWS == 0:
            on_rows(rows_written)
    if pending:
        write(prefix + ",\n".join(pending) + ";\n")
    result.close()
    return rows_written


def _select(script: SchemaScript, table: dict, columns: list[dict]) -> str:
    """SELECT of the inserted columns in primary-key order (a stable, diffable file).

    PostgreSQL columns are read as text: every type's output form is accepted back by its input
    function, so arrays, ranges, intervals, JSON, bytea and user types need no Python mapping."""
    quote = script.dialect.quote
    as_text = "::text" if script.dialect.name == "postgresql" else ""
    select_list = ", ".join(f"{quote(column['name'])}{as_text}" for column in columns)
    sql = f"SELECT {select_list} FROM {script.table_name(table['schema'], table['name'])}"
    if table["primaryKey"]:
        sql += f" ORDER BY {script.column_list(table['primaryKey'])}"
    # The statement goes to the driver as is: a literal % must not read as a parameter marker.
    return sql.replace("%", "%%") if script.dialect.name != "sqlite" else sql
