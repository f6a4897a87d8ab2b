"""Helpers of the workflow tests: create a workflow, wait for it, read its jobs."""

from __future__ import annotations

import time
from datetime import datetime

FINAL = ("completed", "failed", "cancelled")
QUICK = {"steps": 1, "stepSeconds": 0.1}
FAILS = {"failAttempts": 100, "failWith": "permanent"}


def spec(key: str, depends_on=(), payload=None, options=None, type_="test-probe") -> dict:
    job = {"key": key, "type": type_, "payload": payload or QUICK, "dependsOn": list(depends_on)}
    if options is not None:
        job["options"] = options
    return job


def create_workflow(client, headers, jobs: list[dict], name: str | None = "test") -> dict:
    response = client.post("/api/workflows", json={"name": name, "jobs": jobs}, headers=headers)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def get_workflow(client, headers, workflow_id: str) -> dict:
    response = client.get(f"/api/workflows/{workflow_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def wait_for_workflow(client, headers, workflow_id: str, statuses=FINAL, timeout: float = 60.0) -> dict:
    """Poll the REST API until the workflow's status is one of `statuses`."""
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        body = get_workflow(client, headers, workflow_id)
        if body["status"] in statuses:
            return body
        time.sleep(0.2)
    raise AssertionError(f"workflow {workflow_id} not {statuses} after {timeout}s: {body}")


def jobs_by_key(client, headers, workflow: dict) -> dict[str, dict]:
    """{key: the job as GET /api/jobs/:id shows it}."""
    return {job["key"]: client.get(f"/api/jobs/{job['id']}", headers=headers).get_json() for job in workflow["jobs"]}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def assert_ran_after(jobs: dict[str, dict], edges: dict[str, list[str]]) -> None:
    """Every job started only after each of its dependencies had completed."""
    for key, dependencies in edges.items():
        for dependency in dependencies:
            assert moment(jobs[key]["startedAt"]) >= moment(jobs[dependency]["completedAt"]), (key, dependency)


def notifications_of(client, headers, type_: str) -> list[dict]:
    body = client.get("/api/notifications?limit=100", headers=headers).get_json()
    return [item for item in body["data"] if item["type"] == type_]
