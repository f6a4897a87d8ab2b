"""Rate limits: job creation per user, failed logins per account; 429 with Retry-After."""

from __future__ import annotations

from app import create_app
from tests.support.api import create_job, register


def test_job_creation_is_limited_per_user(database):
    app = create_app({"JOB_RATE_LIMIT_PER_MINUTE": 3})
    client = app.test_client()
    user, other = register(client), register(client)
    statuses = [create_job(client, user["headers"]).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    limited = create_job(client, user["headers"])
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert create_job(client, other["headers"]).status_code == 202, "limits are per user"


def test_failed_logins_are_limited_per_account(client, user):
    statuses = [
        client.post("/api/auth/login", json={"email": user["email"], "password": "wrong-password"}).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    right = client.post("/api/auth/login", json={"email": user["email"], "password": user["password"]})
    assert right.status_code == 429, "the account stays locked for the window, even with the right password"
    assert right.headers["Retry-After"]
