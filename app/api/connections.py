"""Database connections: stored encrypted, returned without the password; schema rebuilds."""

from __future__ import annotations

import uuid

from app.api.blueprint import Blueprint
from app.api.links import from_body, link, links
from app.api.security import caller_id, login_required
from app.connections import service as connections
from app.jobs import service as jobs
from app.platform.rate_limit import check_job_creation
from app.schemas.common import ErrorSchema, MessageSchema, PaginationArgsSchema, page_schema, paginated
from app.schemas.connections import (
    CachedSchemaSchema,
    ConnectionCreateSchema,
    ConnectionSchema,
    ConnectionTestSchema,
    RebuildArgsSchema,
    RebuildResponseSchema,
)

blp = Blueprint("connections", __name__, url_prefix="/api/connections", description="Database connections")
ConnectionPageSchema = page_schema(ConnectionSchema, "ConnectionPage")


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(ConnectionCreateSchema)
@blp.response(201, ConnectionSchema)
@blp.alt_response(400, schema=ErrorSchema, description="Malformed URL, unsupported dialect or host not allowed")
@blp.doc(
    operationId="createConnection",
    **links(
        201,
        GetConnection=link("getConnection", connection_id=from_body("/id")),
        TestConnection=link("testConnection", connection_id=from_body("/id")),
        RebuildConnection=link("rebuildConnection", connection_id=from_body("/id")),
        DeleteConnection=link("deleteConnection", connection_id=from_body("/id")),
    ),
)
def create(data):
    """Add a connection. Its URL is checked but the database need not be reachable yet."""
    return connections.serialize_connection(connections.create_connection(caller_id(), data["name"], data["url"]))


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, ConnectionPageSchema)
@blp.doc(operationId="listConnections")
def list_connections(args):
    """The caller's connections, newest first."""
    rows, total = connections.list_connections(caller_id(), args["page"], args["limit"])
    return paginated([connections.serialize_connection(c) for c in rows], args["page"], args["limit"], total)


@blp.route("/<uuid:connection_id>", methods=["GET"])
@login_required
@blp.response(200, ConnectionSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.doc(operationId="getConnection")
def get(connection_id: uuid.UUID):
    return connections.serialize_connection(connections.get_connection(caller_id(), connection_id))


@blp.route("/<uuid:connection_id>", methods=["DELETE"])
@login_required
@blp.response(200, MessageSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.doc(operationId="deleteConnection")
def delete(connection_id: uuid.UUID):
    """Delete a connection and its cached schema."""
    connections.delete_connection(caller_id(), connection_id)
    return {"message": "Connection deleted"}


@blp.route("/<uuid:connection_id>/test", methods=["POST"])
@login_required
@blp.response(200, ConnectionTestSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.doc(operationId="testConnection")
def test(connection_id: uuid.UUID):
    """Try to connect now."""
    return connections.test_connection(caller_id(), connection_id)


@blp.route("/<uuid:connection_id>/rebuild", methods=["POST"])
@login_required
@blp.arguments(RebuildArgsSchema, required=False)
@blp.response(202, RebuildResponseSchema)
@blp.alt_response(200, schema=RebuildResponseSchema, description="A rebuild of this connection is already waiting")
@blp.alt_response(404, schema=ErrorSchema)
@blp.doc(
    operationId="rebuildConnection",
    **links(
        202, GetJob=link("getJob", job_id=from_body("/jobId")), CancelJob=link("cancelJob", job_id=from_body("/jobId"))
    ),
)
def rebuild(args, connection_id: uuid.UUID):
    """Queue a schema rebuild; while one is queued or active, answer with it (unless `force`)."""
    user_id = caller_id()
    connections.get_connection(user_id, connection_id)
    check_job_creation(user_id)
    force = bool((args or {}).get("force"))
    options = None if force else {"singletonKey": f"connection:{connection_id}"}
    job, created = jobs.create_job(
        user_id, "schema-rebuild", {"connectionId": str(connection_id), "force": force}, options
    )
    body = {
        "jobId": str(job.id),
        "message": "Schema rebuild job queued" if created else "Schema rebuild already in progress",
    }
    return body, 202 if created else 200


@blp.route("/<uuid:connection_id>/schema", methods=["GET"])
@login_required
@blp.response(200, CachedSchemaSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Unknown connection, or no rebuild has finished yet")
@blp.doc(operationId="getConnectionSchema")
def schema(connection_id: uuid.UUID):
    """The schema cached by the last successful rebuild."""
    return connections.serialize_schema(connections.get_schema(caller_id(), connection_id))
