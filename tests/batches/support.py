"""Helpers of the batch tests: create a batch, read its jobs and notifications."""

from __future__ import annotations

import time

QUICK = {"steps": 1}
FAILS = {"failAttempts": 100, "failWith": "permanent"}
LATER = {"startAfter": 3600}  # stays queued: no worker takes it while the test looks


def item(payload=None, options=None, type_="test-probe") -> dict:
    job = {"type": type_, "payload": payload if payload is not None else QUICK}
    if options is not None:
        job["options"] = options
    return job


def post_batch(client, headers, jobs: list, **kwargs):
    return client.post("/api/jobs/batch", json={"jobs": jobs}, headers=headers, **kwargs)


def create_batch(client, headers, jobs: list) -> dict:
    response = post_batch(client, headers, jobs)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def batch_jobs(client, headers, batch_id: str) -> list[dict]:
    response = client.get(f"/api/jobs?batchId={batch_id}&limit=100", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def notifications_of(client, headers, type_: str) -> list[dict]:
    body = client.get("/api/notifications?limit=100", headers=headers).get_json()
    return [entry for entry in body["data"] if entry["type"] == type_]


def wait_for_notifications(client, headers, type_: str, count: int = 1, timeout: float = 60.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while time.monotonic() < deadline:
        found = notifications_of(client, headers, type_)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{count} {type_} notifications not there after {timeout}s: {found}")
