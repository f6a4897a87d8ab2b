"""The data-export job: run a user's read-only query on one of their connections and keep the
rows as a CSV or JSON artifact."""

from __future__ import annotations

import time
import uuid

from flask import current_app

from app.connections.service import connection_url, job_connection, refuse_own_database
from app.extensions import db
from app.files.artifacts import describe, write_artifact
from app.jobs.errors import JobError
from app.jobtypes.data_export.query_guard import QueryRefused, check_query
from app.jobtypes.data_export.sources import ExportTimedOut, open_rows
from app.jobtypes.data_export.sql_lexer import DIALECTS
from app.jobtypes.data_export.writers import FORMATS, make_writer

PROGRESS_INTERVAL_SECONDS = 0.5


def run(ctx) -> dict:
    """The registered handler."""
    return export(ctx, ctx.payload)


def export(ctx, payload: dict) -> dict:
    connection_id = uuid.UUID(str(payload["connectionId"]))
    fmt = payload.get("format", "csv")
    ctx.progress(0, 0, "Starting export...")
    connection = job_connection(ctx.user_id, connection_id)
    dialect, url = connection.dialect, connection_url(connection)
    db.session.rollback()  # do not hold a transaction on our database while reading theirs
    try:
        query = check_query(payload["query"], DIALECTS[dialect])
        refuse_own_database(url)
        return write_export(ctx, dialect, url, query, fmt)
    except QueryRefused as exc:
        raise JobError(str(exc)) from None
    except ExportTimedOut:
        seconds = current_app.config["EXPORT_STATEMENT_TIMEOUT_SECONDS"]
        raise JobError(
            f"The query was stopped after running for {seconds} second{'' if seconds == 1 else 's'} "
            "(EXPORT_STATEMENT_TIMEOUT_SECONDS); make it faster or more selective"
        ) from None


def write_export(ctx, dialect: str, url, query: str, fmt: str) -> dict:
    """Stream the rows of an already checked query into an export artifact; the job's result."""
    timeout = current_app.config["EXPORT_STATEMENT_TIMEOUT_SECONDS"]
    filename = f"export-{str(ctx.job_id)[:8]}.{fmt}"
    rows_written = 0
    with open_rows(dialect, url, query, timeout, ctx.cancelled) as rows:
        with write_artifact(
            user_id=ctx.user_id, job_id=ctx.job_id, kind="export", filename=filename, content_type=FORMATS[fmt]
        ) as out:
            writer = make_writer(fmt, out, rows.columns)
            last_report = time.monotonic()
            for batch in rows.batches:
                writer.write_rows(batch)
                rows_written += len(batch)
                ctx.check_cancelled()
                if time.monotonic() - last_report >= PROGRESS_INTERVAL_SECONDS:
                    # The total is unknown (counting first would run the query twice): 0.
                    ctx.progress(rows_written, 0, _rows_message(rows_written))
                    last_report = time.monotonic()
            writer.finish()
            # Before the artifact's row joins the session: progress commits.
            ctx.progress(rows_written, rows_written, _rows_message(rows_written))
    return {
        "rowCount": rows_written,
        "sizeBytes": out.bytes_written,
        "format": fmt,
        "columns": rows.columns,
        "artifacts": [describe(out.artifact)],
    }


def _rows_message(rows: int) -> str:
    return f"{rows:,} {'row' if rows == 1 else 'rows'} written"
