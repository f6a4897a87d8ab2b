"""Job lifecycle on a real Celery worker process: runs, progress, retries, failure, dead letters."""

from __future__ import annotations

from tests.support.api import create_job, wait_for_job


def test_probe_job_runs_to_completion_on_the_worker(client, user, worker):
    response = create_job(client, user["headers"], payload={"steps": 3})
    assert response.status_code == 202
    job = wait_for_job(client, user["headers"], response.get_json()["id"])
    assert job["status"] == "completed"
    assert job["attempts"] == 1
    assert job["result"] == {"steps": 3}
    assert job["progress"] == {"current": 3, "total": 3, "percentage": 100, "message": "Step 3 of 3"}
    assert job["startedAt"] and job["completedAt"]


def test_retryable_failure_retries_with_backoff_then_completes(client, user, worker, beat):
    response = create_job(
        client, user["headers"], payload={"failAttempts": 2}, options={"retryLimit": 3, "retryDelay": 1}
    )
    job = wait_for_job(client, user["headers"], response.get_json()["id"], timeout=45)
    assert job["status"] == "completed"
    assert job["attempts"] == 3


def test_permanent_failure_fails_at_once_and_is_dead_lettered(client, user, admin, worker):
    response = create_job(
        client, user["headers"], payload={"failAttempts": 5, "failWith": "permanent"}, options={"retryLimit": 3}
    )
    job = wait_for_job(client, user["headers"], response.get_json()["id"])
    assert job["status"] == "failed"
    assert job["attempts"] == 1
    assert "Injected permanent failure" in job["error"]
    letters = client.get("/api/admin/dead-letter?limit=100", headers=admin["headers"]).get_json()["data"]
    assert job["id"] in {d["jobId"] for d in letters}


def test_exhausted_retries_fail_and_redrive_runs_again(client, user, admin, worker, beat):
    response = create_job(
        client, user["headers"], payload={"failAttempts": 2}, options={"retryLimit": 1, "retryDelay": 0}
    )
    job_id = response.get_json()["id"]
    job = wait_for_job(client, user["headers"], job_id, timeout=45)
    assert job["status"] == "failed" and job["attempts"] == 2
    letters = client.get("/api/admin/dead-letter?limit=100", headers=admin["headers"]).get_json()["data"]
    letter = next(d for d in letters if d["jobId"] == job_id)
    redriven = client.post(f"/api/admin/dead-letter/{letter['id']}/redrive", headers=admin["headers"])
    assert redriven.status_code == 202
    # Attempts start again from zero: attempt 1 fails (failAttempts=2), attempt 2 fails too -> failed again.
    job = wait_for_job(client, user["headers"], job_id, timeout=45)
    assert job["status"] == "failed"
    again = client.post(f"/api/admin/dead-letter/{letter['id']}/redrive", headers=admin["headers"])
    assert again.status_code == 409
