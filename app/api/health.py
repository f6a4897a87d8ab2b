"""Liveness, pipeline health, socket health and Prometheus metrics (no authentication)."""

from __future__ import annotations

from flask import Response, jsonify
from flask_jwt_extended import current_user, verify_jwt_in_request
from marshmallow import EXCLUDE, Schema, fields
from prometheus_client import CONTENT_TYPE_LATEST

from app.api.blueprint import Blueprint
from app.errors import RETRY_AFTER_SECONDS
from app.jobs.state import JobStatus
from app.platform import health
from app.platform.metrics_export import render
from app.schemas.common import ErrorSchema, QueryBoolean
from app.sockets.presence import websocket_health as read

blp = Blueprint("health", __name__, description="Health and metrics")


class LivenessSchema(Schema):
    status = fields.String()


class JobsHealthArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    deep = QueryBoolean(
        load_default=False,
        metadata={"description": "`true` (admin token): also push a canary job through the pipeline"},
    )


class JobsHealthSchema(Schema):
    status = fields.String(metadata={"enum": ["healthy", "degraded", "unhealthy"]})
    queueSize = fields.Integer()
    activeJobs = fields.Integer()
    failedJobs = fields.Integer(metadata={"description": "failed in the last 24 hours"})
    lastProcessedAt = fields.String(allow_none=True)
    workers = fields.Integer(metadata={"description": "workers that reported in the last 20 seconds"})
    checks = fields.Dict(keys=fields.String(), values=fields.Boolean())
    errors = fields.Dict(keys=fields.String(), values=fields.String())
    canary = fields.Dict()


class WebsocketHealthSchema(Schema):
    status = fields.String()
    connectedClients = fields.Integer(allow_none=True)
    webProcesses = fields.Integer()
    uptime = fields.Float()
    asyncMode = fields.String()
    error = fields.String()


@blp.route("/api/health", methods=["GET"])
@blp.alt_response(200, schema=LivenessSchema, description="The process runs")
@blp.doc(security=[])
def liveness():
    """200 while the process runs; checks no dependency."""
    return jsonify({"status": "ok"})


@blp.route("/api/health/jobs", methods=["GET"])
@blp.arguments(JobsHealthArgsSchema, location="query")
@blp.alt_response(200, schema=JobsHealthSchema, description="Healthy, or degraded (no live worker, canary not through)")
@blp.alt_response(400, schema=ErrorSchema, description="`deep` is not `true` or `false`")
@blp.alt_response(503, schema=JobsHealthSchema, description="Unhealthy: PostgreSQL or Redis unreachable")
@blp.doc(security=[])
def jobs_health(args):
    """Queue size, active and failed jobs, last processed. 200 while healthy or degraded (a load
    balancer keeps the node while a worker restarts), 503 only when unhealthy.
    `?deep=true` (admin token) also pushes a canary job through the pipeline."""
    body, status = health.jobs_health()
    if args["deep"] and body["status"] == "healthy":
        verify_jwt_in_request()
        body["canary"] = health.canary_round_trip(current_user.id)
        if body["canary"]["status"] != JobStatus.COMPLETED:
            body["status"] = "degraded"
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}
    return jsonify(body), status, headers


@blp.route("/api/health/websocket", methods=["GET"])
@blp.alt_response(200, schema=WebsocketHealthSchema, description="Healthy")
@blp.alt_response(503, schema=WebsocketHealthSchema, description="Redis unreachable")
@blp.doc(security=[])
def websocket_health():
    """Sockets connected to all web processes together."""
    body, status = read()
    return jsonify(body), status


@blp.route("/metrics", methods=["GET"])
@blp.alt_response(200, description="Prometheus text format", content_type="text/plain")
@blp.doc(security=[])
def metrics():
    """Prometheus text format, counting the work of every web and worker process."""
    return Response(render(), content_type=CONTENT_TYPE_LATEST)
