"""backup-connection: the connection's schema as DDL, optionally with some tables' rows."""

import uuid

from app.services.backup.job import run_backup


def run(ctx) -> dict:
    payload = ctx.payload
    return run_backup(
        ctx,
        uuid.UUID(payload["connectionId"]),
        include_data=bool(payload.get("includeData", False)),
        requested=list(payload.get("tables") or []),
    )
