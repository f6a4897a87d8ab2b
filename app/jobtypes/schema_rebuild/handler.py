"""The schema-rebuild job: introspect a user's database and cache what was found."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert

from app.connections.introspection import introspect
from app.connections.service import connection_url, job_connection, refuse_own_database
from app.extensions import db
from app.models import SchemaCache

STEPS = 4


def run(ctx) -> dict:
    """The registered handler: rebuild the payload's connection's cached schema."""
    return rebuild(ctx, uuid.UUID(ctx.payload["connectionId"]))


def rebuild(ctx, connection_id: uuid.UUID) -> dict:
    """DESIGN.md's four steps: validate, fetch, process, complete."""
    ctx.progress(1, STEPS, "Validating connection...")
    url = connection_url(job_connection(ctx.user_id, connection_id))
    db.session.rollback()  # do not hold a transaction on our database while reading theirs
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
