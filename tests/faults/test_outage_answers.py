"""What a client is told during an outage, checked without worker processes."""

from __future__ import annotations

import uuid

from app import create_app
from tests.support.api import register

DEAD_POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:1/nowhere"


def test_jobs_health_during_a_redis_outage_is_503_with_retry_after(private_redis, database):
    client = create_app({"REDIS_URL": private_redis.url}).test_client()
    private_redis.stop()
    response = client.get("/api/health/jobs")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] is False
    assert response.headers.get("Retry-After")


def test_job_creation_during_a_redis_outage_is_accepted(private_redis, database):
    """The job is committed to PostgreSQL first, so a broker outage is no reason to refuse it."""
    client = create_app({"REDIS_URL": private_redis.url}).test_client()
    account = register(client, email=f"r-{uuid.uuid4().hex[:8]}@example.com")
    private_redis.stop()
    response = client.post("/api/jobs", json={"type": "test-probe", "payload": {}}, headers=account["headers"])
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "queued"


def test_logins_during_a_database_outage_do_not_lock_the_account(private_redis, database):
    good = create_app({"REDIS_URL": private_redis.url}).test_client()
    account = register(good, email=f"lock-{uuid.uuid4().hex[:8]}@example.com")
    broken = create_app({"REDIS_URL": private_redis.url, "SQLALCHEMY_DATABASE_URI": DEAD_POSTGRES}).test_client()
    credentials = {"email": account["email"], "password": account["password"]}
    # A client retrying through a short outage (the limit is 10 failures per account).
    statuses = [broken.post("/api/auth/login", json=credentials).status_code for _ in range(12)]
    assert 500 not in statuses
    assert good.post("/api/auth/login", json=credentials).status_code == 200
