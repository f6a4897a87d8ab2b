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
"""

from __future__ import annotations

import functools
import hashlib
import re

from sqlalchemy import event
from sqlalchemy.engine import Engine

OPTION = "prepared"  # the execution option that marks a statement
_HELD = "prepared_statements"  # the key in a connection's `info` (dropped with the connection)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")  # psycopg2's pyformat parameters, and an escaped %


def use_prepared_statements(engine: Engine) -> None:
    """Send this engine's statements marked `prepared` as EXECUTE of a per-connection PREPARE."""
    event.listen(engine, "before_cursor_execute", _execute_prepared, retval=True)


def _execute_prepared(connection, cursor, statement, parameters, context, executemany):
    if executemany or context is None or not context.execution_options.get(OPTION):
        return statement, parameters
    name, prepare, execute = _translated(statement)
    held = connection.info.get(_HELD)
    if held is None:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        held = connection.info[_HELD] = {row[0] for row in cursor.fetchall()}
    if name not in held:
        cursor.execute(prepare)  # no parameters: psycopg2 sends the text as it is
        held.add(name)
    return execute, parameters


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
