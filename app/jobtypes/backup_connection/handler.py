"""The backup-connection job: introspect the connection, write DDL (and rows) to an artifact."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from sqlalchemy.engine import URL, Connection

from app.connections.introspection import introspect, short_lived_engine
from app.connections.service import CONNECT_TIMEOUT_SECONDS, connection_url, job_connection, refuse_own_database
from app.extensions import db
from app.files.artifacts import describe, write_artifact
from app.jobs.errors import JobError

from .catalog_extras import read_extras
from .data import write_rows
from .ddl import SchemaScript
from .dialects import dialect_for
from .tables import describe_unknown, resolve_tables

CONTENT_TYPE = "application/sql"
# Reading rows may take a while on big tables; a cap still stops a runaway statement.
READ_STATEMENT_TIMEOUT_SECONDS = 3600


def run(ctx) -> dict:
    """The registered handler: back up the payload's connection."""
    payload = ctx.payload
    return run_backup(
        ctx,
        uuid.UUID(payload["connectionId"]),
        include_data=bool(payload.get("includeData", False)),
        requested=list(payload.get("tables") or []),
    )


def run_backup(ctx, connection_id: uuid.UUID, include_data: bool, requested: list[str]) -> dict:
    connection = job_connection(ctx.user_id, connection_id)
    url, label = connection_url(connection), connection.name
    db.session.rollback()  # hold no transaction on our database while reading theirs
    dialect = dialect_for(url.get_backend_name())
    refuse_own_database(url)  # the service's own database is never backed up for a user

    ctx.progress(0, 1, "Reading the schema...")
    schema = introspect(url.render_as_string(hide_password=False), progress=lambda _message: ctx.check_cancelled())
    tables = schema["tables"]
    data_tables = _tables_with_data(tables, requested, url) if include_data else []
    total_steps = len(data_tables) + 2

    engine = _engine(url)
    try:
        with engine.connect() as conn:
            _start_consistent_read(conn, dialect.name)
            extras = read_extras(conn, dialect.name, url.database)
            script = SchemaScript(
                dialect,
                tables,
                extras,
                qualify=dialect.name == "postgresql" or (dialect.name == "mysql" and not url.database),
                is_mariadb=bool(getattr(conn.dialect, "is_mariadb", False)),
            )
            ctx.progress(1, total_steps, f"Writing the schema of {len(tables)} tables...")
            with write_artifact(
                user_id=ctx.user_id,
                job_id=ctx.job_id,
                kind="backup",
                filename=_filename(label),
                content_type=CONTENT_TYPE,
            ) as writer:
                rows = _write_script(ctx, conn, script, data_tables, total_steps, writer)
    finally:
        engine.dispose()

    ctx.progress(total_steps, total_steps, "Backup complete")
    return {
        "totalTables": len(tables),
        "tablesWithData": len(data_tables),
        "rowsWritten": rows,
        "sizeBytes": writer.bytes_written,
        "artifacts": [describe(writer.artifact)],
    }


def _write_script(ctx, conn: Connection, script: SchemaScript, data_tables: list, total_steps: int, writer) -> int:
    def write(text: str) -> None:
        writer.write(text.encode("utf-8"))

    def statements(lines: list[str]) -> None:
        if lines:
            write("\n".join(lines) + "\n\n")

    taken = datetime.now(UTC).replace(microsecond=0).isoformat()
    write(
        f"-- Backup of a {script.dialect.name} database: {len(script.tables)} tables, "
        f"rows of {len(data_tables)}; taken {taken}\n\n"
    )
    statements(script.dialect.header())
    statements(script.preamble())
    for table in script.tables:
        statements([script.create_table(table), *script.after_create(table)])

    rows = 0
    for position, table in enumerate(data_tables, start=1):
        name = script.label(table)
        ctx.progress(position, total_steps, f"Backing up the rows of {name} ({position}/{len(data_tables)})...")
        write(f"-- Rows of {_one_line(name)}\n")

        def on_rows(count: int, name=name, position=position) -> None:
            ctx.progress(position, total_steps, f"Backing up the rows of {name}: {count:,} rows...")

        rows += write_rows(conn, script, table, write, on_rows)
        write("\n")
        statements(script.reset_sequences(table))

    ctx.progress(total_steps - 1, total_steps, "Writing indexes and foreign keys...")
    for table in script.tables:
        statements(script.indexes(table))
    for table in script.tables:
        statements(script.foreign_keys(table))
    statements(script.dialect.footer())
    return rows


def _tables_with_data(tables: list[dict], requested: list[str], url: URL) -> list[dict]:
    """The tables whose rows to include: the ones asked for (all must exist), or every table."""
    if not requested:
        return list(tables)
    default_schema = url.database if url.get_backend_name() in ("mysql", "mariadb") else None
    matched, unknown = resolve_tables(tables, requested, default_schema)
    if unknown:
        raise JobError(f"These tables were not found in the connection: {describe_unknown(unknown)}", retryable=False)
    return matched


def _engine(url: URL):
    """A short-lived engine on the user's database, as the introspection opens it (SQLite read-only)."""
    return short_lived_engine(url, CONNECT_TIMEOUT_SECONDS)


def _start_consistent_read(conn: Connection, dialect: str) -> None:
    """One read-only snapshot for the catalog and every table; output forms that read back
    exactly (hex bytea, all float digits, ISO dates, UTC time zone)."""
    if dialect == "postgresql":
        conn.exec_driver_sql(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
            f"SET LOCAL statement_timeout = '{READ_STATEMENT_TIMEOUT_SECONDS}s'; "
            "SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 3; "
            "SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL TimeZone = 'UTC'"
        )
    elif dialect == "mysql":
        variable = "max_statement_time" if getattr(conn.dialect, "is_mariadb", False) else "max_execution_time"
        limit = READ_STATEMENT_TIMEOUT_SECONDS * (1 if variable == "max_statement_time" else 1000)
        conn.exec_driver_sql(f"SET SESSION {variable} = {limit}")
        conn.exec_driver_sql("SET SESSION time_zone = '+00:00'")
        conn.exec_driver_sql("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")


def _one_line(text: str) -> str:
    """A name inside an SQL comment: a line break in it would end the comment and let the rest
    of the name run as SQL on restore."""
    return re.sub(r"[\x00-\x1f\x7f\u0085\u2028\u2029]", "?", text)


def _filename(connection_name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", connection_name).strip("-")[:60] or "connection"
    return f"backup-{slug}-{datetime.now(UTC):%Y%m%d-%H%M%S}.sql"
