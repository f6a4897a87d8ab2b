"""The schema-rebuild job: introspect a user's database and cache what was found."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.models import Connection, SchemaCache
from app.services.connections import connection_url, target_engine
from app.services.errors import JobError

STEPS = 4
_INSTANCE_FINGERPRINT = text("SELECT current_database(), pg_postmaster_start_time(), current_setting('port')")


def rebuild(ctx, connection_id: uuid.UUID) -> dict:
    """DESIGN.md's four steps: validate, fetch, process, complete."""
    from app.services.introspection import introspect

    ctx.progress(1, STEPS, "Validating connection...")
    connection = db.session.get(Connection, connection_id)
    if connection is None or connection.user_id != ctx.user_id:
        raise JobError("The connection no longer exists")
    url = connection_url(connection)
    db.session.rollback()  # do not hold a transaction on our database while reading theirs
    if url.get_backend_name() == "postgresql":
        refuse_own_database(url)

    ctx.progress(2, STEPS, "Fetching schema metadata...")

    def on_step(message: str) -> None:
        ctx.check_cancelled()

    schema = introspect(url.render_as_string(hide_password=False), progress=on_step)

    ctx.progress(3, STEPS, f"Processing schema data ({schema['totalTables']} tables)...")
    built_at = datetime.now(UTC)
    values = {
        "connection_id": connection_id,
        "job_id": ctx.job_id,
        "built_at": built_at,
        "total_tables": schema["totalTables"],
        "tables": schema["tables"],
    }
    statement = insert(SchemaCache).values(**values)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[SchemaCache.connection_id],
            set_={k: statement.excluded[k] for k in values if k != "connection_id"},
        )
    )
    db.session.commit()

    ctx.progress(4, STEPS, "Schema rebuild completed")
    return {"connectionId": str(connection_id), "totalTables": schema["totalTables"], "builtAt": built_at.isoformat()}


def refuse_own_database(url) -> None:
    """A URL can name our database through an alias the creation check could not see; compare
    the servers themselves (database, start time and port) before reading anything."""
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
