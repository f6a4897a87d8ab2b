"""Health, metrics and the OpenAPI document, as an operator sees them."""

from __future__ import annotations

import time

import redis as redis_lib
from openapi_spec_validator import validate

from app import create_app
from app.jobs.registry import JOB_TYPES
from app.platform.health import WORKER_KEY_PREFIX
from tests.support.api import create_job, wait_for_job


def test_liveness_needs_no_token(client):
    response = client.get("/api/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_jobs_health_reports_queue_and_workers(client, user, worker):
    job_id = create_job(client, user["headers"]).get_json()["id"]
    wait_for_job(client, user["headers"], job_id)
    deadline = time.monotonic() + 15
    while True:
        response = client.get("/api/health/jobs")
        body = response.get_json()
        if body["status"] == "healthy" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert response.status_code == 200, body
    assert body["status"] == "healthy"
    assert body["workers"] >= 1
    assert {"queueSize", "activeJobs", "failedJobs", "lastProcessedAt"} <= set(body)
    assert body["lastProcessedAt"] is not None


def test_jobs_health_is_200_degraded_while_no_worker_reports(app, database, private_redis_url):
    """A load balancer probing it must keep the node while workers restart: degraded is 200."""
    # The session's private Redis may still hold the liveness key of a worker an earlier test stopped.
    stale = redis_lib.Redis.from_url(private_redis_url)
    for key in stale.scan_iter(WORKER_KEY_PREFIX + "*"):
        stale.delete(key)
    without_workers = create_app({"REDIS_URL": private_redis_url})
    response = without_workers.test_client().get("/api/health/jobs")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "degraded" and body["workers"] == 0
    assert "Retry-After" not in response.headers


def test_jobs_health_refuses_a_deep_that_is_not_a_boolean(client):
    response = client.get("/api/health/jobs?deep=1")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"] == {"deep": ["Not a valid boolean."]}


def test_jobs_health_is_503_when_redis_is_unreachable(app, database):
    broken = create_app({"REDIS_URL": "redis://127.0.0.1:1/0"})
    response = broken.test_client().get("/api/health/jobs")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy" and body["checks"]["redis"] is False


def test_deep_health_check_pushes_a_canary_through_the_pipeline(client, admin, worker):
    response = client.get("/api/health/jobs?deep=true", headers=admin["headers"])
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["canary"]["status"] == "completed"
    assert body["canary"]["roundTripMs"] > 0


def test_metrics_move_after_a_worker_completes_a_job(client, user, worker):
    def counter(text: str, prefix: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))

    before = client.get("/metrics").get_data(as_text=True)
    job_id = create_job(client, user["headers"]).get_json()["id"]
    wait_for_job(client, user["headers"], job_id)
    moved = ("jobs_created_total", "jobs_completed_total", 'notifications_sent_total{channel="in_app"')
    # Processes write their counts at most every METRICS_FLUSH_SECONDS (1 s by default).
    deadline = time.monotonic() + 10
    while True:
        response = client.get("/metrics")
        assert response.status_code == 200
        assert response.content_type.startswith("text/plain")
        after = response.get_data(as_text=True)
        if all(counter(after, name) > counter(before, name) for name in moved) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for name in moved:
        assert counter(after, name) > counter(before, name), name
    assert counter(after, 'job_duration_seconds_count{type="test-probe"}') >= 1
    for name in ("jobs_in_queue", "notifications_read_rate", "websocket_connections_total", "jobs_failed_total"):
        assert f"# TYPE {name.removesuffix('_total') if name == 'jobs_failed_total' else name}" in after, name


def test_metrics_labelled_by_job_type_have_a_series_for_every_type_before_any_job(app, database, empty_redis_url):
    """Dashboards and alerts must never meet a missing metric: zero series from the start."""
    fresh = create_app({"REDIS_URL": empty_redis_url})
    text = fresh.test_client().get("/metrics").get_data(as_text=True)
    lines = set(text.splitlines())
    assert JOB_TYPES, "no job type registered"
    for job_type in JOB_TYPES:
        label = f'type="{job_type}"'
        assert f"job_duration_seconds_count{{{label}}} 0.0" in lines, job_type
        assert f"job_duration_seconds_sum{{{label}}} 0.0" in lines, job_type
        assert f'job_duration_seconds_bucket{{le="+Inf",{label}}} 0.0' in lines, job_type
        assert f'job_duration_seconds_bucket{{le="0.01",{label}}} 0.0' in lines, job_type
        for counter in ("jobs_created_total", "jobs_completed_total", "jobs_failed_total"):
            assert f"{counter}{{{label}}} 0.0" in lines, (counter, job_type)


def test_openapi_document_lists_every_endpoint(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    for path in (
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/me",
        "/api/connections",
        "/api/connections/{connection_id}/rebuild",
        "/api/connections/{connection_id}/schema",
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/retry",
        "/api/notifications",
        "/api/notifications/read-all",
        "/api/notifications/preferences",
        "/api/admin/dead-letter",
        "/api/admin/audit-log",
    ):
        assert path in paths, path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"

    validate(spec)


def test_responses_carry_request_id_and_security_headers(client):
    response = client.get("/api/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    generated = client.get("/api/health").headers["X-Request-ID"]
    assert len(generated) == 32


def test_oversized_bodies_are_413(client, user):
    response = client.post(
        "/api/jobs",
        data=b'{"type": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={**user["headers"], "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_interactive_docs_are_served_without_internet(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "/api/docs/assets/swagger-ui-bundle.js" in page.get_data(as_text=True)
    script = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.get_data()) > 100_000
