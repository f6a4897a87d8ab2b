"""Rows from a user's database, streamed in batches inside a read-only transaction.

One function per dialect opens the connection, makes the session read-only with a statement
timeout, checks the query again with the session's own lexing rules, and yields a `RowStream`:
the column names and an iterator of row batches read through a server-side cursor (psycopg2
named cursor, PyMySQL SSCursor, SQLite's stepwise cursor), so memory does not grow with the
number of rows. A cancelled job interrupts a query that is still running on the server.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import psycopg2.errors
import pymysql
from pymysql.constants import CLIENT
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from app.connections.service import target_engine
from app.jobs.errors import JobCancelled, JobError
from app.jobtypes.data_export.query_guard import check_query
from app.jobtypes.data_export.sql_lexer import MYSQL, POSTGRESQL, SQLITE

BATCH_ROWS = 2000
# SQLite calls the progress handler every N virtual-machine instructions: often enough to stop
# within milliseconds, rarely enough to cost nothing measurable.
SQLITE_HANDLER_INSTRUCTIONS = 20_000


class ExportTimedOut(Exception):
    """The database stopped the query at the export's statement timeout."""


def _write_refused(database_message: str) -> JobError:
    """The read-only transaction stopped a write (a function with side effects, say)."""
    return JobError(f"The query tried to change data, which an export never does: {database_message}")


@dataclass
class RowStream:
    columns: list[str]
    batches: Iterator[list[tuple]]


@contextmanager
def open_rows(dialect: str, url: URL, query: str, timeout_seconds: int, cancelled: threading.Event):
    """The rows of `query` on the database at `url`, as a RowStream."""
    opener = {"postgresql": _postgres_rows, "mysql": _mysql_rows, "sqlite": _sqlite_rows}[dialect]
    engine = target_engine(url)
    try:
        raw = engine.raw_connection()  # connection errors arrive wrapped, as for schema rebuilds
        connection = raw.driver_connection
        raw.detach()  # ours to close, however the export ends (the pool would try to reuse it)
        try:
            with (
                _driver_errors_wrapped(engine.dialect.loaded_dbapi),
                opener(connection, url, query, timeout_seconds, cancelled) as stream,
            ):
                yield stream
        finally:
            _close_quietly(connection)
    finally:
        engine.dispose()


@contextmanager
def _driver_errors_wrapped(dbapi):
    """Raw driver errors become SQLAlchemy's, so `classify()` sees a lost server as retryable."""
    try:
        yield
    except dbapi.Error as exc:
        raise sa_exc.DBAPIError.instance(None, None, exc, dbapi.Error) from exc


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # the server may already have dropped it; nothing is left to release
        pass


@contextmanager
def _cancel_on(cancelled: threading.Event, interrupt: Callable[[], None]):
    """While the body runs, call `interrupt` once if the job is cancelled (a query can block
    for a long time inside the driver, where no Python checkpoint is reached)."""
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if cancelled.wait(0.2):
                if not finished.is_set():
                    try:
                        interrupt()
                    except Exception:  # best effort: the watchdog remains the last resort
                        pass
                return

    thread = threading.Thread(target=watch, name="export-cancel", daemon=True)
    thread.start()
    try:
        yield
    finally:
        finished.set()


def _raise_if_cancelled(cancelled: threading.Event) -> None:
    if cancelled.is_set():
        raise JobCancelled()


# -- PostgreSQL ---------------------------------------------------------------------------------


@contextmanager
def _postgres_rows(conn, url: URL, query: str, timeout_seconds: int, cancelled: threading.Event):
    conn.autocommit = False
    with conn.cursor() as setup:
        setup.execute("SET TRANSACTION READ ONLY")
        # Per statement: the DECLARE and each FETCH of a batch.
        setup.execute("SELECT set_config('statement_timeout', %s, true)", (f"{timeout_seconds * 1000}",))
        setup.execute("SHOW standard_conforming_strings")
        standard_strings = setup.fetchone()[0] == "on"
    checked = check_query(query, replace(POSTGRESQL, backslash_escapes=not standard_strings))
    cursor = conn.cursor(name=f"export_{uuid.uuid4().hex}")
    with _cancel_on(cancelled, conn.cancel):
        try:
            cursor.execute(checked)
            first = cursor.fetchmany(BATCH_ROWS)  # a named cursor describes its columns after a fetch
            columns = [column.name for column in cursor.description]

            def batches() -> Iterator[list[tuple]]:
                batch = first
                while batch:
                    yield batch
                    batch = cursor.fetchmany(BATCH_ROWS)

            yield RowStream(columns, batches())
        except psycopg2.errors.QueryCanceled:
            _raise_if_cancelled(cancelled)
            raise ExportTimedOut() from None
        except psycopg2.errors.ReadOnlySqlTransaction as exc:
            raise _write_refused(str(exc).strip().splitlines()[0]) from None
    conn.rollback()


# -- MySQL / MariaDB -----------------------------------------------------------------------------

_MYSQL_TIMEOUT_ERRORS = (1969, 3024)  # MariaDB max_statement_time, MySQL max_execution_time
_MYSQL_INTERRUPTED = 1317  # KILL QUERY
_MYSQL_READ_ONLY_TRANSACTION = 1792


@contextmanager
def _mysql_rows(conn, url: URL, query: str, timeout_seconds: int, cancelled: threading.Event):
    if conn.client_flag & CLIENT.MULTI_STATEMENTS:
        raise JobError("This connection allows several statements per query (client_flag); exports refuse it")
    with conn.cursor() as setup:
        setup.execute("SELECT @@SESSION.sql_mode, VERSION()")
        sql_mode, version = setup.fetchone()
        if "mariadb" in version.lower():
            setup.execute("SET SESSION max_statement_time = %s", (timeout_seconds,))
        else:
            setup.execute("SET SESSION max_execution_time = %s", (timeout_seconds * 1000,))
        setup.execute("SET SESSION TRANSACTION READ ONLY")
        setup.execute("START TRANSACTION READ ONLY")
    modes = set(sql_mode.upper().split(","))
    checked = check_query(
        query,
        replace(
            MYSQL,
            backslash_escapes="NO_BACKSLASH_ESCAPES" not in modes,
            double_quoted_strings="ANSI_QUOTES" not in modes,
        ),
    )
    cursor = conn.cursor(pymysql.cursors.SSCursor)
    with _cancel_on(cancelled, lambda: _mysql_kill_query(url, conn.thread_id())):
        try:
            cursor.execute(checked)
            columns = [column[0] for column in cursor.description or ()]

            def batches() -> Iterator[list[tuple]]:
                while batch := cursor.fetchmany(BATCH_ROWS):
                    yield list(batch)

            yield RowStream(columns, batches())
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else None
            if code == _MYSQL_READ_ONLY_TRANSACTION:
                raise _write_refused(str(exc.args[1])) from None
            if code in _MYSQL_TIMEOUT_ERRORS or code == _MYSQL_INTERRUPTED:
                _raise_if_cancelled(cancelled)
                if code in _MYSQL_TIMEOUT_ERRORS:
                    raise ExportTimedOut() from None
            raise
    # Not cursor.close(): an SSCursor reads every remaining row first. The connection is closed
    # by the caller, which drops the rest of a result that was abandoned.


def _mysql_kill_query(url: URL, thread_id: int) -> None:
    """Stop our running query from a second connection (the first one is busy streaming)."""
    engine = target_engine(url)
    try:
        raw = engine.raw_connection()
        try:
            with raw.driver_connection.cursor() as cursor:
                cursor.execute("KILL QUERY %s", (thread_id,))
        finally:
            raw.close()
    finally:
        engine.dispose()


# -- SQLite -------------------------------------------------------------------------------------


@contextmanager
def _sqlite_rows(conn, url: URL, query: str, timeout_seconds: int, cancelled: threading.Event):
    # The file is already opened read-only (mode=ro); query_only also refuses writes to
    # temporary tables and anything an attached database could offer.
    conn.execute("PRAGMA query_only = ON")
    conn.text_factory = lambda data: data.decode("utf-8", "replace")
    checked = check_query(query, SQLITE)
    deadline = {"at": time.monotonic() + timeout_seconds, "passed": False}

    def stop_when_due() -> int:
        if cancelled.is_set():
            return 1
        if time.monotonic() > deadline["at"]:
            deadline["passed"] = True
            return 1
        return 0

    # Like PostgreSQL's: the limit applies to each step (the first rows, then each batch).
    conn.set_progress_handler(stop_when_due, SQLITE_HANDLER_INSTRUCTIONS)

    def fetch(step: Callable):
        deadline["at"] = time.monotonic() + timeout_seconds
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                _raise_if_cancelled(cancelled)
                if deadline["passed"]:
                    raise ExportTimedOut() from None
            raise

    cursor = fetch(lambda: conn.execute(checked))
    columns = [column[0] for column in cursor.description or ()]

    def batches() -> Iterator[list[tuple]]:
        while batch := fetch(lambda: cursor.fetchmany(BATCH_ROWS)):
            yield batch

    yield RowStream(columns, batches())
