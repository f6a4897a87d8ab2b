"""The SQL statements sent while a block runs, as the DBAPI cursor gets them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements_sent(target=Engine, this_thread_only: bool = False) -> Iterator[list[str]]:
    """The statements `target` (an engine; by default every engine) sends inside the block, in
    order, after SQLAlchemy's listeners rewrote them (a prepared statement is its EXECUTE); with
    `this_thread_only`, none of other threads' (a worker's watchdog heartbeats)."""
    seen: list[str] = []
    thread = threading.get_ident()

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not this_thread_only or threading.get_ident() == thread:
            seen.append(statement)

    event.listen(target, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", record)
