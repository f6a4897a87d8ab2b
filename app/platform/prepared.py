"""Server-side prepared statements for the statements every job runs.

psycopg2 sends each statement as text, so PostgreSQL parses and plans it on every execution. For
the hot path's statements (a transition with its history row, a transition's announcement with
its notification, email and webhook CTEs, the job's INSERT) planning took longer than running
them: 0.5 ms of planning against 0.36 ms of execution for an announcement, on the server's CPU,
which a two-core host shares with the workers. A statement marked `prepared` is sent instead as
`EXECUTE name(...)` of a `PREPARE name AS ...` made once per connection, and planned once there.

    statement = text("...").execution_options(prepared=True)

A prepared statement lives as long as its server session, whatever its transactions do; the
names a connection holds are read from `pg_prepared_statements` when it first needs one, so a
connection never prepares a name twice. PostgreSQL replans a prepared statement itself when a
table it reads changes.

SQL-level PREPARE needs one server session per client connection: behind a pooler in
transaction mode (PgBouncer's `pool_mode = transaction`) turn it off with
DATABASE_PREPARED_STATEMENTS=false; every statement then goes as text.

`execute()` runs such a statement straight on the DBAPI cursor of the session's connection: its
SQL compiled once, its parameters through their types' bind processors, its rows as named
tuples. SQLAlchemy's own execution of a statement (its cache key, the execution context, the
result's set-up) cost three times what the cursor's round trip did (265 µs against 91 µs for a
statement of eleven parameters); the execution events and the handling of driver errors
(wrapping, invalidating a lost connection) stay SQLAlchemy's.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.sql import ClauseElement

OPTION = "prepared"  # the execution option that marks a statement
_HELD = "prepared_statements"  # the key in a connection's `info` (dropped with the connection)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")  # psycopg2's pyformat parameters, and an escaped %


def use_prepared_statements(engine: Engine) -> None:
    """Send this engine's statements marked `prepared` as EXECUTE of a per-connection PREPARE."""
    event.listen(engine, "before_cursor_execute", _execute_prepared, retval=True)


def _execute_prepared(connection, cursor, statement, parameters, context, executemany):
    if executemany or context is None or not context.execution_options.get(OPTION):
        return statement, parameters
    return _prepared_on(connection, cursor, statement, cursor.execute), parameters


def _prepared_on(connection, cursor, statement: str, run: Callable[[str], Any]) -> str:
    """The EXECUTE of `statement`, prepared on this connection first if it was not yet (`run`
    sends a text without parameters on `cursor`: psycopg2 sends it as it is)."""
    name, prepare, execute = _translated(statement)
    held = connection.info.get(_HELD)
    if held is None:
        run("SELECT name FROM pg_prepared_statements")
        held = connection.info[_HELD] = {row[0] for row in cursor.fetchall()}
    if name not in held:
        run(prepare)
        held.add(name)
    return execute


@dataclass
class _Compiled:
    """What `execute` needs of a statement, worked out once per statement and dialect."""

    sql: str  # the dialect's SQL, pyformat parameters
    literals: dict[str, Any]  # the values Core bound itself, processed
    processors: dict[str, Callable]  # the bind processors of the caller's parameters that have one
    row: type | None = field(default=None)  # the named tuple of its rows, once it has run


def execute(connection: Connection, statement: ClauseElement, parameters: dict) -> list:
    """Run `statement` in `connection`'s transaction on its DBAPI cursor, prepared on the
    connection when the engine uses prepared statements: its rows, as named tuples read like
    SQLAlchemy's rows (attributes, `_asdict()`). For the few statements every job runs; their
    parameters are those the statement names (no expanding IN lists)."""
    compiled = _compile(statement, connection.dialect)
    values = {**compiled.literals, **parameters}
    for name, process in compiled.processors.items():
        values[name] = process(values[name])
    cursor = connection.connection.cursor()
    try:
        # SQLAlchemy's execution of a text on a cursor: its events, and its handling of errors.
        def run(sql: str, parameters: dict | None = None) -> None:
            connection._cursor_execute(cursor, sql, parameters)

        sql = compiled.sql
        if _uses_prepared_statements(connection.engine):
            sql = _prepared_on(connection, cursor, sql, run)
        run(sql, values)
        if cursor.description is None:
            return []
        if compiled.row is None:
            # rename: an unnamed column (`?column?`) becomes `_0`, `_1` ... as it is not a name
            compiled.row = namedtuple("Row", [column[0] for column in cursor.description], rename=True)
        return [compiled.row._make(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _uses_prepared_statements(engine: Engine) -> bool:
    return event.contains(engine, "before_cursor_execute", _execute_prepared)


@functools.lru_cache(maxsize=512)
def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    """Compiled once, with the values Core bound itself (through their bind processors)."""
    compiled = statement.compile(dialect=dialect)
    literals, processors = {}, {}
    for bind, name in compiled.bind_names.items():
        if bind.expanding:
            raise ValueError(f"{name}: an expanding IN list has no fixed SQL; use = or ANY()")
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if not bind.required:
            literals[name] = process(bind.effective_value) if process else bind.effective_value
        elif process is not None:
            processors[name] = process
    return _Compiled(compiled.string, literals, processors)


@functools.lru_cache(maxsize=512)
def _translated(statement: str) -> tuple[str, str, str]:
    """(name, PREPARE text, EXECUTE text) of a pyformat statement: each named parameter becomes
    a positional one ($1 ...), in the order of its first use, and the EXECUTE passes them."""
    positions: dict[str, int] = {}

    def positional(match: re.Match) -> str:
        if match.group(0) == "%%":
            return "%"
        return f"${positions.setdefault(match.group(1), len(positions) + 1)}"

    body = _PLACEHOLDER.sub(positional, statement)
    name = "hot_" + hashlib.sha1(statement.encode()).hexdigest()[:20]
    arguments = ", ".join(f"%({parameter})s" for parameter in positions)
    return name, f"PREPARE {name} AS {body}", f"EXECUTE {name}({arguments})" if positions else f"EXECUTE {name}"
