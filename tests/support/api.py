"""Small helpers the API tests share: accounts, tokens, notification preferences, waiting for a job."""

from __future__ import annotations

import secrets
import time

PASSWORD = "correct horse battery staple"
# (notificationType, channel, enabled) of every preference a new account starts with.
DEFAULT_PREFERENCES = {
    ("job_status", "in_app", True),
    ("job_status", "email", True),
    ("invitations", "in_app", True),
    ("invitations", "email", True),
    ("system", "in_app", True),
    ("system", "email", False),
}


def register(client, email: str | None = None, password: str = PASSWORD, name: str = "Test User") -> dict:
    email = email or f"user-{secrets.token_hex(6)}@example.com"
    response = client.post("/api/auth/register", json={"email": email, "password": password, "name": name})
    assert response.status_code == 201, response.get_json()
    return _account(response.get_json(), email, password)


def login(client, email: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return _account(response.get_json(), email, password)


def _account(body: dict, email: str, password: str) -> dict:
    return {
        "id": body["user"]["id"],
        "email": email,
        "password": password,
        "token": body["accessToken"],
        "refresh": body["refreshToken"],
        "headers": {"Authorization": f"Bearer {body['accessToken']}"},
    }


def set_preference(client, user: dict, notification_type: str, channel: str, enabled: bool) -> None:
    """Switch one of the user's notification preferences through the REST API, as the page does."""
    preferences = client.get("/api/notifications/preferences", headers=user["headers"]).get_json()
    target = next(p for p in preferences if (p["notificationType"], p["channel"]) == (notification_type, channel))
    response = client.patch(
        f"/api/notifications/preferences/{target['id']}", json={"enabled": enabled}, headers=user["headers"]
    )
    assert response.status_code == 200


def wait_for_job(
    client, headers: dict, job_id: str, statuses=("completed", "failed", "cancelled"), timeout=30.0
) -> dict:
    """Poll the REST API until the job reaches one of `statuses`."""
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        body = client.get(f"/api/jobs/{job_id}", headers=headers).get_json()
        if body["status"] in statuses:
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach {statuses} in {timeout}s; last seen {body}")


# A job this far in the future stays queued: a worker left running by an earlier test (the
# session's worker fixture) cannot take it, so its state is the test's alone.
WAITING = {"startAfter": 3600}


def create_waiting_job(client, headers, type_="test-probe", payload=None, options=None, **kwargs):
    """A job no worker runs while the test looks at it (delayed by an hour)."""
    return create_job(client, headers, type_, payload, {**WAITING, **(options or {})}, **kwargs)


def create_job(client, headers, type_="test-probe", payload=None, options=None, **kwargs):
    body = {"type": type_, "payload": payload or {}}
    if options is not None:
        body["options"] = options
    return client.post("/api/jobs", json=body, headers=headers, **kwargs)
