"""The table an import writes to: found in the connection's cached schema, reached through a
writable engine prepared per dialect."""

from __future__ import annotations

import sqlite3
import uuid
from urllib.parse import quote

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from app.connections.service import CONNECT_TIMEOUT_SECONDS, target_engine
from app.extensions import db
from app.jobs.errors import JobError
from app.models import SchemaCache

# Engines that can roll an import back; MyISAM, Aria, MEMORY and CSV tables keep every row
# written before an error, which would break all-or-nothing.
TRANSACTIONAL_MYSQL_ENGINES = {"innodb", "rocksdb", "tokudb"}
DEFAULT_POSTGRES_SCHEMA = "public"


def find_table(connection_id: uuid.UUID, name: str, schema: str | None) -> dict:
    """The table's entry in the cached schema, or a failure telling the user to rebuild it."""
    cache = db.session.get(SchemaCache, connection_id)
    rebuild = f"rebuild it (POST /api/connections/{connection_id}/rebuild) and import again"
    if cache is None:
        raise JobError(f"This connection's schema has not been built yet: {rebuild}")
    matches = [t for t in cache.tables if t["name"] == name and (schema is None or t["schema"] == schema)]
    if len(matches) > 1:
        preferred = [t for t in matches if t["schema"] == DEFAULT_POSTGRES_SCHEMA]
        if len(preferred) != 1:
            schemas = ", ".join(sorted(str(t["schema"]) for t in matches))
            raise JobError(f"Table {name} exists in several schemas ({schemas}): name one with `schema`")
        matches = preferred
    if not matches:
        qualified = f"{schema}.{name}" if schema else name
        built = cache.built_at.strftime("%Y-%m-%d %H:%M UTC")
        raise JobError(
            f"Table {qualified} is not in this connection's cached schema (built {built}); "
            f"if it was created since, {rebuild}"
        )
    return matches[0]


def writable_engine(url: URL) -> Engine:
    """An engine that may write: the shared `target_engine` opens SQLite files read-only."""
    if url.get_backend_name() != "sqlite":
        return target_engine(url)
    uri = f"file:{quote(url.database or '')}?mode=rw"  # rw: a missing file is an error, not created

    def connect():
        return sqlite3.connect(uri, uri=True, timeout=CONNECT_TIMEOUT_SECONDS, isolation_level=None)

    engine = create_engine("sqlite://", poolclass=NullPool, creator=connect)

    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented recipe is
    # to switch it off (isolation_level=None above) and emit BEGIN ourselves. IMMEDIATE takes
    # the write lock at once rather than failing half-way when another writer holds it.
    @event.listens_for(engine, "begin")
    def begin_immediate(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def prepare_session(conn: Connection, table: dict) -> None:
    """Dialect settings for the import, checked before anything is written."""
    if conn.dialect.name == "mysql":
        engine_name = conn.execute(
            text("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = :schema AND TABLE_NAME = :name"),
            {"schema": table["schema"], "name": table["name"]},
        ).scalar()
        if engine_name is None:
            raise JobError(f"Table {table['schema']}.{table['name']} no longer exists; rebuild the schema")
        if engine_name.lower() not in TRANSACTIONAL_MYSQL_ENGINES:
            raise JobError(
                f"Table {table['name']} uses the {engine_name} storage engine, which cannot roll back a failed "
                "import; convert it to InnoDB to import into it"
            )
        mode = conn.execute(text("SELECT @@SESSION.sql_mode")).scalar() or ""
        modes = [m for m in mode.split(",") if m]
        # Strict: a value the server would otherwise truncate or coerce with a warning is an error.
        if "STRICT_ALL_TABLES" not in modes:
            conn.execute(text("SET SESSION sql_mode = :mode"), {"mode": ",".join([*modes, "STRICT_ALL_TABLES"])})
        # Timestamps are sent as UTC wall time.
        conn.execute(text("SET SESSION time_zone = '+00:00'"))
