"""schema-rebuild: introspect the connection's database and cache its schema."""

import uuid

from app.services.schema_rebuild import rebuild


def run(ctx) -> dict:
    return rebuild(ctx, uuid.UUID(ctx.payload["connectionId"]))
