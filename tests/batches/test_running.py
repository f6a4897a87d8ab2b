"""Batches on a real Celery worker: one batch_completed (in-app and email) with the counts once
every job finished, no per-job notifications, a retry that reopens the batch, and the
batch.completed webhook event."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from tests.batches.support import (
    FAILS,
    LATER,
    batch_jobs,
    create_batch,
    item,
    notifications_of,
    wait_for_notifications,
)
from tests.support.api import wait_for_job
from tests.support.mail import email_subjects
from tests.webhooks.conftest import create_webhook

ONCE = {"retryLimit": 0}
PER_JOB = ("job_queued", "job_started", "job_completed", "job_failed", "job_cancelled")


def test_a_finished_batch_announces_once_with_its_counts_and_a_retry_reopens_it(app, client, user, worker):
    jobs = [item(), item(), item(payload=FAILS, options=ONCE), item(options=LATER)]
    body = create_batch(client, user["headers"], jobs)
    ids = [job["id"] for job in body["data"]]
    assert client.delete(f"/api/jobs/{ids[3]}", headers=user["headers"]).status_code == 200
    for job_id in ids[:3]:
        wait_for_job(client, user["headers"], job_id)
    [finished] = wait_for_notifications(client, user["headers"], "batch_completed")
    data = finished["data"]
    assert data["batchId"] == body["batchId"] and data["url"].endswith(f"/jobs?batchId={body['batchId']}")
    assert (data["count"], data["completed"], data["failed"], data["cancelled"]) == (4, 2, 1, 1)
    assert finished["title"] == "Batch of 4 jobs finished"
    assert email_subjects(app, user["id"], "batch_completed") == ["Batch of 4 jobs finished"]
    # The batch spoke for its jobs: one job_queued for the batch, nothing per job.
    assert len(notifications_of(client, user["headers"], "job_queued")) == 1
    for kind in PER_JOB[1:]:
        assert notifications_of(client, user["headers"], kind) == [], kind
    assert {job["status"] for job in batch_jobs(client, user["headers"], body["batchId"])} == {
        "completed",
        "failed",
        "cancelled",
    }

    # A retry reopens the batch; the job fails again and the batch announces its new finish.
    assert client.post(f"/api/jobs/{ids[2]}/retry", headers=user["headers"]).status_code == 202
    wait_for_job(client, user["headers"], ids[2], statuses=("failed",))
    again = wait_for_notifications(client, user["headers"], "batch_completed", count=2)
    assert len(again) == 2 and again[0]["data"]["failed"] == 1
    # A retried batch job announces no job_queued of its own.
    assert len(notifications_of(client, user["headers"], "job_queued")) == 1


def test_an_all_completed_batch_says_so(client, user, worker):
    body = create_batch(client, user["headers"], [item() for _ in range(6)])
    [finished] = wait_for_notifications(client, user["headers"], "batch_completed")
    assert finished["title"] == "Batch of 6 jobs completed"
    assert (finished["data"]["completed"], finished["data"]["failed"]) == (6, 0)
    assert finished["data"]["batchId"] == body["batchId"]


@pytest.mark.usefixtures("webhook_worker")
def test_the_batch_completed_webhook_event_is_delivered_once(wh_client, account, receiver, worker):
    hook = receiver()
    webhook = create_webhook(wh_client, account["headers"], hook.url, events=["batch.completed", "job.queued"])
    body = create_batch(wh_client, account["headers"], [item(type_="noop", payload={}) for _ in range(3)])
    requests = hook.wait_for(4)
    events = [Webhook(webhook["secret"]).verify(request.body, request.headers) for request in requests]
    assert sorted(event["type"] for event in events) == ["batch.completed"] + ["job.queued"] * 3
    queued = {event["data"]["job"]["id"] for event in events if event["type"] == "job.queued"}
    assert queued == {job["id"] for job in body["data"]}
    assert all(event["data"]["job"]["batchId"] == body["batchId"] for event in events if event["type"] == "job.queued")
    [finished] = [event["data"]["batch"] for event in events if event["type"] == "batch.completed"]
    assert finished["batchId"] == body["batchId"]
    assert (finished["count"], finished["completed"], finished["failed"], finished["cancelled"]) == (3, 3, 0, 0)
