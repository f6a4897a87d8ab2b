"""GET /api/jobs/:id/history: every attempt, its checkpoints, errors and outcome, recorded with the
transitions by real worker and beat processes."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, update

from app.extensions import db
from app.jobs import state, sweeps
from app.models import Job
from tests.support.api import create_job, wait_for_job


def history(client, headers, job_id) -> list[dict]:
    response = client.get(f"/api/jobs/{job_id}/history", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_retried_job_keeps_the_error_of_its_first_attempt(client, user, worker, beat):
    payload = {"steps": 4, "stepSeconds": 0.4, "failAttempts": 1}
    created = create_job(client, user["headers"], payload=payload, options={"retryLimit": 1, "retryDelay": 0})
    job = wait_for_job(client, user["headers"], created.get_json()["id"])
    assert job["status"] == "completed" and job["error"] is None  # the row forgot the failure

    events = history(client, user["headers"], job["id"])
    kinds = [(e["kind"], e["attempt"]) for e in events]
    assert kinds[:3] == [("started", 1), ("retrying", 1), ("started", 2)]
    assert kinds[-1] == ("completed", 2)
    assert events[1]["error"] == "Injected retryable failure on attempt 1"
    # Checkpoints: the first one, then at most one a second (the four steps take 1.6 s).
    checkpoints = [e["progress"]["percentage"] for e in events if e["kind"] == "progress"]
    assert checkpoints[0] == 25 and 2 <= len(checkpoints) <= 3 and checkpoints == sorted(checkpoints)
    assert events[-1]["progress"]["percentage"] == 100
    times = [e["at"] for e in events]
    assert times == sorted(times)


def test_cancel_and_retry_are_in_the_history(client, user):
    # Retried, the job would be due at once and a worker left from an earlier test could run it:
    # it waits for a dependency delayed by an hour instead, so its history is only what the user did.
    blocker = create_job(client, user["headers"], payload={}, options={"startAfter": 3600}).get_json()
    created = create_job(client, user["headers"], payload={}, options={"dependsOn": [blocker["id"]]}).get_json()
    assert client.delete(f"/api/jobs/{created['id']}", headers=user["headers"]).status_code == 200
    assert client.post(f"/api/jobs/{created['id']}/retry", headers=user["headers"]).status_code == 202
    assert [(e["kind"], e["attempt"]) for e in history(client, user["headers"], created["id"])] == [
        ("cancelled", 0),
        ("requeued", 0),
    ]
    for job in (created, blocker):
        client.delete(f"/api/jobs/{job['id']}", headers=user["headers"])


def _lose_the_worker(job_id: str) -> None:
    """Claim the (delayed) job as a worker would, then let its heartbeat go stale as if that
    worker had died; one transaction, so no running worker or beat can take the job in between."""
    db.session.execute(update(Job).where(Job.id == uuid.UUID(job_id)).values(next_attempt_at=None))
    assert state.claim(uuid.UUID(job_id), "lost-worker") is not None
    db.session.execute(
        update(Job).where(Job.id == uuid.UUID(job_id)).values(heartbeat_at=func.now() - func.make_interval(0, 0, 0, 1))
    )
    db.session.commit()


@pytest.mark.parametrize(("retry_limit", "outcome"), [(1, "retrying"), (0, "failed")])
def test_a_lost_worker_recovered_by_the_sweep_is_in_the_history(ctx, client, user, retry_limit, outcome):
    options = {"startAfter": 3600, "retryLimit": retry_limit}
    created = create_job(client, user["headers"], payload={}, options=options).get_json()
    _lose_the_worker(created["id"])
    assert sweeps.recover_lost_jobs() >= 1

    events = history(client, user["headers"], created["id"])
    assert [(e["kind"], e["attempt"]) for e in events][:2] == [("started", 1), (outcome, 1)]
    assert events[1]["error"] == state.LOST_WORKER_ERROR
    client.delete(f"/api/jobs/{created['id']}", headers=user["headers"])


def test_another_users_job_is_404(client, user, other_user):
    created = create_job(client, user["headers"], payload={}, options={"startAfter": 3600}).get_json()
    response = client.get(f"/api/jobs/{created['id']}/history", headers=other_user["headers"])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"]
    assert client.get(f"/api/jobs/{uuid.uuid4()}/history", headers=user["headers"]).status_code == 404
    assert client.get(f"/api/jobs/{created['id']}/history").status_code == 401
    client.delete(f"/api/jobs/{created['id']}", headers=user["headers"])


def test_documented_in_openapi(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "/api/jobs/{job_id}/history" in spec["paths"]
    kind = spec["components"]["schemas"]["JobEvent"]["properties"]["kind"]
    assert set(kind["enum"]) == {"started", "progress", "retrying", "completed", "failed", "cancelled", "requeued"}
