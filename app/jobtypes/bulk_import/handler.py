"""The bulk-import job: load an uploaded CSV or JSON file into a table, all or nothing.

Two passes over the file, which stays in the artifact store:
1. Check: every record is matched to the table's columns in the cached schema and converted by
   column type, without touching the target database. All rejected rows are collected; if there
   is any, the job fails listing them (the first 100, with their lines) and nothing is written.
2. Insert: the rows are inserted in batches inside ONE transaction on the target. If the
   database refuses a row (a constraint), the lines at fault in that batch are named and the
   transaction is rolled back; cancellation between batches rolls back too.
Checking first means a file with bad values never opens a write transaction on the user's
database, and the report lists every bad value rather than only the first.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app

from app.connections.service import connection_url, job_connection, refuse_own_database
from app.extensions import db
from app.files.artifacts import artifact_store
from app.files.uploads import find_upload
from app.jobs.errors import JobError
from app.jobtypes.bulk_import.loader import MAX_REPORTED_REJECTS, DatabaseRejected, insert_rows, target_table
from app.jobtypes.bulk_import.readers import CountingReader, open_rows
from app.jobtypes.bulk_import.rows import Rejected, RowChecker
from app.jobtypes.bulk_import.target import find_table, prepare_session, writable_engine

# The check pass is fast; it reports (and looks for a cancellation) every this many rows.
CHECK_PROGRESS_ROWS = 1000


class RejectReport:
    """Rejected rows: all counted, the first MAX_REPORTED_REJECTS kept for the job's result."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.count = 0

    def add(self, reject: dict) -> None:
        self.count += 1
        if len(self.rows) < MAX_REPORTED_REJECTS:
            self.rows.append(reject)

    def failure(self, table: str, checked: int) -> JobError:
        first = self.rows[0]
        where = f"line {first['line']}" + (f", column {first['column']}" if first.get("column") else "")
        noun = "row" if self.count == 1 else "rows"
        return JobError(
            f"{self.count:,} {noun} rejected; nothing was imported (first: {where}: {first['error']})",
            retryable=False,
            result={"rejectedRows": self.rows, "rejectedCount": self.count, "rowsChecked": checked, "table": table},
        )


def run(ctx) -> dict:
    """The registered handler."""
    return run_import(ctx)


def run_import(ctx) -> dict:
    payload = ctx.payload
    upload = find_upload(ctx.user_id, uuid.UUID(payload["uploadId"]))
    if upload is None:
        raise _upload_gone()
    connection = job_connection(ctx.user_id, uuid.UUID(payload["connectionId"]))
    spec = find_table(connection.id, payload["table"], payload.get("schema"))
    url = connection_url(connection)
    path, content_type, size = artifact_store().path(upload.storage_key), upload.content_type, upload.size_bytes
    db.session.rollback()  # hold no transaction on our database while working on theirs

    checker = RowChecker(spec, url.get_backend_name())
    batch_size = payload.get("batchSize") or 1000
    try:
        # One handle for both passes: an upload deleted meanwhile cannot vanish between them.
        raw = open(path, "rb", buffering=0)
    except FileNotFoundError:
        raise _upload_gone() from None
    with raw:
        total = _check_pass(ctx, raw, content_type, size, checker, spec["name"])
        if total == 0:
            raise JobError("The file has no data rows; nothing was imported")
        raw.seek(0)
        imported = _insert_pass(ctx, url, raw, content_type, checker, spec, batch_size, total)
    return {"rowsImported": imported, "table": spec["name"], "schema": spec["schema"], "artifacts": []}


def _upload_gone() -> JobError:
    hours = current_app.config["UPLOAD_RETENTION_HOURS"]
    return JobError(f"The upload no longer exists (uploads are kept {hours} hours); upload the file again")


def _check_pass(ctx, raw, content_type: str, size: int, checker: RowChecker, table: str) -> int:
    """Check every record; returns the number of rows, or fails listing the rejected ones."""
    report = RejectReport()
    checked = 0
    counter = CountingReader(raw)
    rows = open_rows(counter, content_type)
    if rows.columns is not None:
        checker.check_header(rows.columns)
    ctx.progress(0, size, "Checking rows...")
    for line, record in rows:
        try:
            checker.values(line, record)
        except Rejected as exc:
            report.add({"line": line, **({"column": exc.column} if exc.column else {}), "error": exc.error})
        checked += 1
        if checked % CHECK_PROGRESS_ROWS == 0:
            ctx.progress(counter.bytes_read, size, f"Checking rows: {checked:,} checked")
    if report.count:
        raise report.failure(table, checked)
    return checked


def _insert_pass(ctx, url, raw, content_type, checker: RowChecker, spec: dict, batch_size: int, total: int) -> int:
    def after_batch(done: int) -> None:
        ctx.progress(done, total, f"Importing rows: {done:,} of {total:,}")

    refuse_own_database(url)
    engine = writable_engine(url)
    try:
        with engine.connect() as conn:
            prepare_session(conn, spec)
            conn.commit()  # the session settings stay; the import gets a transaction of its own
            after_batch(0)
            rows = _converted(checker, raw, content_type)
            with conn.begin():
                return insert_rows(conn, target_table(spec), rows, batch_size, after_batch)
    except DatabaseRejected as exc:
        report = RejectReport()
        for reject in exc.rejects:
            report.add(reject)
        raise report.failure(spec["name"], total) from None
    finally:
        engine.dispose()


def _converted(checker: RowChecker, raw, content_type: str):
    """The rows again, converted; the check pass already accepted every one."""
    for line, record in open_rows(CountingReader(raw), content_type):
        values: dict[str, Any] = checker.values(line, record)
        yield line, values
