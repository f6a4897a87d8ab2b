"""Deliveries through a real worker to real receivers on loopback: signatures as a receiver
verifies them, job events, retries with one id, time limits, 410, redirects."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from tests.support.api import create_job, wait_for_job
from tests.webhooks.conftest import create_webhook, wait_for_delivery
from tests.webhooks.receiver import Answer

pytestmark = pytest.mark.usefixtures("webhook_worker")


def _detail(client, headers, webhook_id, delivery_id) -> dict:
    response = client.get(f"/api/webhooks/{webhook_id}/deliveries/{delivery_id}", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_a_test_ping_is_signed_so_that_standardwebhooks_verifies_it(wh_client, account, receiver):
    hook = receiver()
    webhook = create_webhook(wh_client, account["headers"], hook.url, description="ping")
    assert webhook["secret"].startswith("whsec_")
    answer = wh_client.post(f"/api/webhooks/{webhook['id']}/test", headers=account["headers"])
    assert answer.status_code == 202
    delivery = answer.get_json()
    [request] = hook.wait_for(1)
    payload = Webhook(webhook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["webhookId"] == webhook["id"]
    assert request.headers["webhook-id"] == delivery["id"]
    assert request.headers["Content-Type"] == "application/json"
    # A different secret does not verify: the signature really depends on this one.
    other = create_webhook(wh_client, account["headers"], hook.url)
    with pytest.raises(Exception, match="signature"):
        Webhook(other["secret"]).verify(request.body, request.headers)
    [row] = wait_for_delivery(wh_client, account["headers"], webhook["id"])
    assert row["status"] == "succeeded" and row["responseStatus"] == 200 and row["attempts"] == 1


def test_job_events_carry_the_job_as_the_api_shows_it(wh_client, account, receiver, worker):
    hook = receiver()
    webhook = create_webhook(wh_client, account["headers"], hook.url, events=["job.queued", "job.completed"])
    job_id = create_job(wh_client, account["headers"], "noop", {}).get_json()["id"]
    job = wait_for_job(wh_client, account["headers"], job_id)
    requests = hook.wait_for(2)
    events = [Webhook(webhook["secret"]).verify(r.body, r.headers) for r in requests]
    assert sorted(e["type"] for e in events) == ["job.completed", "job.queued"]  # not job.started
    completed = next(e for e in events if e["type"] == "job.completed")
    assert completed["data"]["job"] == job
    assert next(e for e in events if e["type"] == "job.queued")["data"]["job"]["status"] == "queued"
    assert len({r.headers["webhook-id"] for r in requests}) == 2


def test_a_finished_workflow_is_delivered_once_with_its_counts(wh_client, account, receiver, worker):
    hook = receiver()
    webhook = create_webhook(wh_client, account["headers"], hook.url, events=["workflow.completed"])
    body = {
        "name": "nightly",
        "jobs": [
            {"key": "a", "type": "noop", "payload": {}},
            {"key": "b", "type": "noop", "payload": {}, "dependsOn": ["a"]},
        ],
    }
    created = wh_client.post("/api/workflows", json=body, headers=account["headers"])
    assert created.status_code == 202, created.get_json()
    [request] = hook.wait_for(1)
    event = Webhook(webhook["secret"]).verify(request.body, request.headers)
    assert event["type"] == "workflow.completed"
    workflow = event["data"]["workflow"]
    assert workflow["workflowId"] == created.get_json()["id"] and workflow["name"] == "nightly"
    assert (workflow["count"], workflow["completed"], workflow["failed"]) == (2, 2, 0)


def test_a_receiver_failing_twice_gets_the_same_id_three_times_then_succeeds(wh_client, account, receiver):
    hook = receiver(Answer(500, b"boom"), Answer(503, b"busy"))
    webhook = create_webhook(wh_client, account["headers"], hook.url)
    delivery = wh_client.post(f"/api/webhooks/{webhook['id']}/test", headers=account["headers"]).get_json()
    requests = hook.wait_for(3)
    assert {r.headers["webhook-id"] for r in requests} == {delivery["id"]}
    assert len({r.body for r in requests}) == 1
    for request in requests:  # each attempt signed anew, each one valid
        Webhook(webhook["secret"]).verify(request.body, request.headers)
    [row] = wait_for_delivery(wh_client, account["headers"], webhook["id"])
    assert row["status"] == "succeeded" and row["attempts"] == 3
    log = _detail(wh_client, account["headers"], webhook["id"], delivery["id"])["attemptLog"]
    assert [a["responseStatus"] for a in log] == [500, 503, 200]
    assert log[0]["responseBody"] == "boom" and log[0]["error"] == "The receiver answered 500"
    assert all(a["durationMs"] is not None for a in log)
    # Back-off: about 0.2 s, then about 0.4 s (WEBHOOK_RETRY_DELAY_SECONDS doubling, +/-20%).
    assert requests[1].at - requests[0].at >= 0.15
    assert requests[2].at - requests[1].at >= 0.3


@pytest.mark.parametrize("answer", [Answer(delay=30), Answer(trickle=0.3)], ids=["silent", "trickling"])
def test_a_receiver_that_never_answers_in_time_is_cut_off_and_retried(wh_client, account, receiver, answer):
    hook = receiver(default=answer)
    webhook = create_webhook(wh_client, account["headers"], hook.url)
    delivery = wh_client.post(f"/api/webhooks/{webhook['id']}/test", headers=account["headers"]).get_json()
    [row] = wait_for_delivery(wh_client, account["headers"], webhook["id"], statuses=("failed",), timeout=60)
    assert row["attempts"] == 4 and row["responseStatus"] is None
    assert "no answer within 2 s" in row["lastError"]
    log = _detail(wh_client, account["headers"], webhook["id"], delivery["id"])["attemptLog"]
    assert len(log) == 4
    # The whole attempt, however the receiver trickles, ends at the time limit.
    assert all(1900 <= a["durationMs"] <= 3000 for a in log), [a["durationMs"] for a in log]


def test_410_disables_the_webhook_and_tells_its_owner(wh_client, account, receiver):
    hook = receiver(default=Answer(410, b"gone"))
    webhook = create_webhook(wh_client, account["headers"], hook.url)
    wh_client.post(f"/api/webhooks/{webhook['id']}/test", headers=account["headers"])
    [row] = wait_for_delivery(wh_client, account["headers"], webhook["id"])
    assert row["status"] == "failed" and row["attempts"] == 1 and row["responseStatus"] == 410
    shown = wh_client.get(f"/api/webhooks/{webhook['id']}", headers=account["headers"]).get_json()
    assert shown["enabled"] is False and "410" in shown["disabledReason"]
    notes = wh_client.get("/api/notifications", headers=account["headers"]).get_json()["data"]
    assert any(n["type"] == "system" and n["title"] == "Webhook disabled" for n in notes)
    again = wh_client.post(f"/api/webhooks/{webhook['id']}/test", headers=account["headers"])
    assert again.status_code == 409
    assert len(hook.requests) == 1


def test_redirects_are_not_followed(wh_client, account, receiver):
    elsewhere = receiver()
    hook = receiver(default=Answer(302, b"", {"Location": elsewhere.url}))
    webhook = create_webhook(wh_client, account["headers"], hook.url)
    wh_client.post(f"/api/webhooks/{webhook['id']}/test", headers=account["headers"])
    [row] = wait_for_delivery(wh_client, account["headers"], webhook["id"], statuses=("failed",), timeout=30)
    assert row["responseStatus"] == 302 and row["attempts"] == 4
    assert len(hook.requests) == 4 and elsewhere.requests == []


def test_redeliver_sends_the_same_id_again(wh_client, account, receiver):
    hook = receiver()
    webhook = create_webhook(wh_client, account["headers"], hook.url)
    delivery = wh_client.post(f"/api/webhooks/{webhook['id']}/test", headers=account["headers"]).get_json()
    wait_for_delivery(wh_client, account["headers"], webhook["id"])
    path = f"/api/webhooks/{webhook['id']}/deliveries/{delivery['id']}/redeliver"
    assert wh_client.post(path, headers=account["headers"]).status_code == 202
    requests = hook.wait_for(2)
    assert [r.headers["webhook-id"] for r in requests] == [delivery["id"]] * 2
    assert json.loads(requests[1].body)["type"] == "webhook.test"
