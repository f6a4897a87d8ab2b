"""A user's database connections: stored encrypted, returned without the password."""

from __future__ import annotations

import sqlite3
import time
import uuid

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from app.connections import crypto
from app.connections.urls import display_url, parse_connection_url
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.jobs.errors import JobError, describe_error
from app.models import Connection, SchemaCache
from app.models.base import iso
from app.platform import audit
from app.platform.ownership import get_owned, is_owned
from app.platform.pagination import fetch_page

CONNECT_TIMEOUT_SECONDS = 10
_INSTANCE_FINGERPRINT = text("SELECT current_database(), pg_postmaster_start_time(), current_setting('port')")


def create_connection(user_id: uuid.UUID, name: str, raw_url: str) -> Connection:
    url, dialect = parse_connection_url(raw_url)
    connection = Connection(
        user_id=user_id,
        name=name.strip(),
        dialect=dialect,
        url_encrypted=crypto.encrypt(url.render_as_string(hide_password=False)),
        display_url=display_url(url),
    )
    db.session.add(connection)
    db.session.commit()
    return connection


def get_connection(user_id: uuid.UUID, connection_id: uuid.UUID) -> Connection:
    """The caller's connection, or 404 (another user's connection is not revealed)."""
    return get_owned(Connection, connection_id, user_id, "Connection")


def list_connections(user_id: uuid.UUID, page: int, limit: int) -> tuple[list[Connection], int]:
    query = select(Connection).where(Connection.user_id == user_id)
    return fetch_page(query, page, limit, Connection.created_at.desc(), Connection.id.desc())


def delete_connection(user_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    connection = get_connection(user_id, connection_id)
    audit.record(user_id, "connection.deleted", "connection", connection.id, {"name": connection.name})
    db.session.delete(connection)
    db.session.commit()


def connection_url(connection: Connection) -> URL:
    """The decrypted URL, credentials included: for connecting only, never for output."""
    return make_url(crypto.decrypt(connection.url_encrypted))


def job_connection(user_id: uuid.UUID, connection_id: uuid.UUID) -> Connection:
    """The connection a running job names, or a failed job: it may have been deleted (or, in
    principle, changed hands) since the job was queued."""
    connection = db.session.get(Connection, connection_id)
    if not is_owned(connection, user_id):
        raise JobError("The connection no longer exists")
    return connection


def refuse_own_database(url: URL) -> None:
    """A URL can name our database through an alias the creation check could not see; compare
    the servers themselves (database, start time and port) before reading anything. Only
    PostgreSQL can be ours."""
    if url.get_backend_name() != "postgresql":
        return
    ours = tuple(db.session.execute(_INSTANCE_FINGERPRINT).one())
    db.session.rollback()
    engine = target_engine(url)
    try:
        with engine.connect() as conn:
            theirs = tuple(conn.execute(_INSTANCE_FINGERPRINT).one())
    finally:
        engine.dispose()
    if ours == theirs:
        raise JobError("This connection points at the service's own database, which is never allowed")


def target_engine(url: URL):
    """A short-lived engine on a user's database with a connect timeout."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        # Read-only: a test or a rebuild must never create or change the user's file.
        ro_url = f"file:{url.database}?mode=ro"
        return create_engine("sqlite://", poolclass=NullPool, creator=_sqlite_creator(ro_url))
    args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return create_engine(url, poolclass=NullPool, connect_args=args)


def _sqlite_creator(uri: str):
    return lambda: sqlite3.connect(uri, uri=True, timeout=CONNECT_TIMEOUT_SECONDS)


def test_connection(user_id: uuid.UUID, connection_id: uuid.UUID) -> dict:
    """Connect now and run `SELECT 1`; report latency or a clear, password-free error."""
    connection = get_connection(user_id, connection_id)
    engine = target_engine(connection_url(connection))
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure is the answer, not a server error
        return {"ok": False, "latencyMs": None, "error": describe_error(exc)}
    finally:
        engine.dispose()
    return {"ok": True, "latencyMs": round((time.perf_counter() - started) * 1000, 1)}


def get_schema(user_id: uuid.UUID, connection_id: uuid.UUID) -> SchemaCache:
    get_connection(user_id, connection_id)
    cache = db.session.get(SchemaCache, connection_id)
    if cache is None:
        raise NotFound("No schema has been built for this connection yet; start a rebuild", code="schema_not_built")
    return cache


def require_owned_connection_id(user_id: uuid.UUID, raw_id) -> uuid.UUID:
    """For job payloads: the id of one of the caller's connections; a malformed one is 400, an unknown one 404."""
    try:
        connection_id = uuid.UUID(str(raw_id))
    except ValueError:
        raise ValidationFailed("Invalid payload", {"payload": {"connectionId": ["Not a valid UUID."]}}) from None
    # As for an upload: an id that names nothing of the caller's is 404, with the field named.
    field_error = {"payload": {"connectionId": ["Connection not found."]}}
    get_owned(Connection, connection_id, user_id, "Connection", details=field_error)
    return connection_id


def serialize_connection(connection: Connection) -> dict:
    return {
        "id": str(connection.id),
        "name": connection.name,
        "dialect": connection.dialect,
        "url": connection.display_url,
        "createdAt": iso(connection.created_at),
        "updatedAt": iso(connection.updated_at),
    }


def serialize_schema(cache: SchemaCache) -> dict:
    return {
        "connectionId": str(cache.connection_id),
        "builtAt": iso(cache.built_at),
        "totalTables": cache.total_tables,
        "tables": cache.tables,
    }
