"""Dependency outages: a clear 503 with Retry-After, and nothing lost."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.jobs.sweeps import release_due_jobs
from app.models import Job
from tests.support.api import create_job

DEAD_POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:1/nowhere"
DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_postgres_down_is_503_with_retry_after(user):
    broken = create_app({"SQLALCHEMY_DATABASE_URI": DEAD_POSTGRES})
    response = broken.test_client().get("/api/jobs", headers=user["headers"])
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    error = response.get_json()["error"]
    assert error["code"] == "service_unavailable" and error["details"]["dependency"] == "database"
    login = broken.test_client().post("/api/auth/login", json={"email": user["email"], "password": user["password"]})
    assert login.status_code == 503


def test_a_job_created_while_redis_is_down_is_kept_and_sent_by_the_sweep(user, ctx):
    """The job is committed (202) although the broker is unreachable; the release sweep sends it
    once Redis answers again."""
    broken = create_app({"REDIS_URL": DEAD_REDIS})
    response = create_job(broken.test_client(), user["headers"])
    assert response.status_code == 202
    job_id = uuid.UUID(response.get_json()["id"])
    db.session.expire_all()
    job = db.session.scalar(select(Job).where(Job.id == job_id))
    assert job.status == "queued" and job.enqueued_at is None, "not marked as sent"
    # A beat and a worker left running by earlier tests of the session may release and run it
    # first: either way it is with the broker now, or a worker already took it.
    release_due_jobs()
    db.session.expire_all()
    job = db.session.scalar(select(Job).where(Job.id == job_id))
    assert job.enqueued_at is not None or job.status != "queued", (job.status, job.attempts, job.next_attempt_at)


def test_rate_limits_fail_open_while_redis_is_down(user):
    """Refusing every request because the limiter's store is down would be worse than no limit."""
    broken = create_app({"REDIS_URL": DEAD_REDIS, "JOB_RATE_LIMIT_PER_MINUTE": 1})
    client = broken.test_client()
    assert [create_job(client, user["headers"]).status_code for _ in range(3)] == [202, 202, 202]
