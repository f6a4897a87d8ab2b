"""Webhook endpoints through the API: validation, secrets shown twice only and stored encrypted,
ownership (another user's webhook is 404), and the outbox seam of job transitions."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
from standardwebhooks.webhooks import Webhook

from app.connections import crypto
from app.extensions import db
from app.webhooks import outbox
from app.webhooks.events import EVENT_TYPES
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.support import processes
from tests.support.api import create_job, register, wait_for_job
from tests.webhooks.conftest import create_webhook, wait_for_delivery


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://127.0.0.1:9/x", "events": ["job.exploded"]},
        {"url": "http://127.0.0.1:9/x", "events": []},
        {"url": "http://127.0.0.1:9/x", "events": ["*", "job.queued"]},
        {"url": "http://127.0.0.1:9/x", "events": ["job.queued", "job.queued"]},
        {"url": "http://127.0.0.1:9/x", "events": "job.queued"},
        {"url": "http://127.0.0.1:9/x"},
        {"events": ["*"]},
        {"url": "http://127.0.0.1:9/x", "events": ["*"], "secret": "whsec_mine"},
    ],
)
def test_invalid_bodies_are_400(wh_client, account, body):
    response = wh_client.post("/api/webhooks", json=body, headers=account["headers"])
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "validation_error"


def test_every_contract_event_type_is_accepted(wh_client, account):
    webhook = create_webhook(wh_client, account["headers"], "http://127.0.0.1:9/x", events=EVENT_TYPES)
    assert webhook["events"] == list(EVENT_TYPES)
    assert "batch.completed" in EVENT_TYPES and "workflow.failed" in EVENT_TYPES


def test_the_secret_is_shown_at_creation_and_rotation_only(wh_app, wh_client, account, admin, receiver):
    hook = receiver()
    created = create_webhook(wh_client, account["headers"], hook.url)
    secret = created["secret"]
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    headers = account["headers"]
    shown = [
        wh_client.get(f"/api/webhooks/{created['id']}", headers=headers),
        wh_client.get("/api/webhooks", headers=headers),
        wh_client.patch(f"/api/webhooks/{created['id']}", json={"description": "d"}, headers=headers),
        wh_client.get("/api/admin/audit-log", headers=admin["headers"]),
    ]
    for response in shown:
        assert response.status_code == 200
        assert "whsec_" not in response.get_data(as_text=True)
    rotated = wh_client.post(f"/api/webhooks/{created['id']}/rotate-secret", headers=headers).get_json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
    with wh_app.app_context():
        stored = db.session.get(WebhookEndpoint, uuid.UUID(created["id"])).secret_encrypted
        assert rotated["secret"].encode() not in bytes(stored)
        assert crypto.decrypt(stored) == rotated["secret"]
        db.session.remove()


def test_after_rotation_deliveries_verify_with_the_new_secret_only(wh_client, account, receiver, webhook_worker):
    hook = receiver()
    created = create_webhook(wh_client, account["headers"], hook.url)
    rotated = wh_client.post(f"/api/webhooks/{created['id']}/rotate-secret", headers=account["headers"]).get_json()
    wh_client.post(f"/api/webhooks/{created['id']}/test", headers=account["headers"])
    [request] = hook.wait_for(1)
    Webhook(rotated["secret"]).verify(request.body, request.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(created["secret"]).verify(request.body, request.headers)
    worker_log = processes.read_log(webhook_worker)
    assert rotated["secret"] not in worker_log and created["secret"] not in worker_log
    assert "whsec_" not in worker_log


def test_another_users_webhook_is_404_everywhere(wh_client, account, receiver, webhook_worker):
    hook = receiver()
    mine = create_webhook(wh_client, account["headers"], hook.url)
    delivery = wh_client.post(f"/api/webhooks/{mine['id']}/test", headers=account["headers"]).get_json()
    wait_for_delivery(wh_client, account["headers"], mine["id"])
    stranger = register(wh_client)
    theirs = create_webhook(wh_client, stranger["headers"], hook.url)
    base = f"/api/webhooks/{mine['id']}"
    attempts = [
        ("get", base, None),
        ("patch", base, {"enabled": False}),
        ("delete", base, None),
        ("post", f"{base}/rotate-secret", None),
        ("post", f"{base}/test", None),
        ("get", f"{base}/deliveries", None),
        ("get", f"{base}/deliveries/{delivery['id']}", None),
        ("post", f"{base}/deliveries/{delivery['id']}/redeliver", None),
        # My delivery through the stranger's own webhook is not theirs either.
        ("get", f"/api/webhooks/{theirs['id']}/deliveries/{delivery['id']}", None),
        ("post", f"/api/webhooks/{theirs['id']}/deliveries/{delivery['id']}/redeliver", None),
    ]
    for method, path, body in attempts:
        response = getattr(wh_client, method)(path, json=body, headers=stranger["headers"])
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.get_json()["error"]["code"] == "not_found"
    listed = wh_client.get("/api/webhooks", headers=stranger["headers"]).get_json()["data"]
    assert [w["id"] for w in listed] == [theirs["id"]]
    assert len(hook.requests) == 1  # the stranger's test and redeliver sent nothing
    shown = wh_client.get(base, headers=account["headers"]).get_json()
    assert shown["enabled"] is True


def test_one_users_job_events_never_reach_another_users_webhook(wh_client, account, receiver, worker, webhook_worker):
    mine, theirs = receiver(), receiver()
    create_webhook(wh_client, account["headers"], mine.url, events=["job.completed"])
    stranger = register(wh_client)
    create_webhook(wh_client, stranger["headers"], theirs.url, events=["*"])
    job_id = create_job(wh_client, account["headers"], "noop", {}).get_json()["id"]
    wait_for_job(wh_client, account["headers"], job_id)
    mine.wait_for(1)
    assert theirs.requests == []


def test_a_disabled_webhook_gets_no_job_events(wh_client, account, receiver, worker, webhook_worker):
    hook = receiver()
    webhook = create_webhook(wh_client, account["headers"], hook.url, events=["job.queued"])
    patched = wh_client.patch(f"/api/webhooks/{webhook['id']}", json={"enabled": False}, headers=account["headers"])
    assert patched.get_json()["enabled"] is False
    create_job(wh_client, account["headers"], "noop", {})
    rows = wh_client.get(f"/api/webhooks/{webhook['id']}/deliveries", headers=account["headers"]).get_json()
    assert rows["data"] == [] and rows["pagination"]["total"] == 0


def test_deliveries_are_staged_in_the_callers_transaction(wh_ctx, account, receiver, webhook_worker):
    hook = receiver()
    client = wh_ctx.test_client()
    create_webhook(client, account["headers"], hook.url, events=["job.failed"])
    user_id = uuid.UUID(account["id"])
    assert outbox.stage(user_id, "job.completed", {"job": {}}) == []  # not subscribed
    rolled_back = outbox.stage(user_id, "job.failed", {"job": {"token": "s3cret"}})
    assert len(rolled_back) == 1
    db.session.rollback()
    assert db.session.get(WebhookDelivery, rolled_back[0]) is None
    [kept] = outbox.stage(user_id, "job.failed", {"job": {"token": "s3cret"}})
    row = db.session.get(WebhookDelivery, kept)
    assert row.status == "pending" and row.attempts == 0
    assert "s3cret" not in row.body  # secret-named fields are redacted
    time.sleep(0.5)
    assert hook.requests == []  # nothing is handed over before the commit
    db.session.commit()  # the commit alone hands the delivery to the worker
    [request] = hook.wait_for(1)
    assert request.headers["webhook-id"] == str(kept)
    time.sleep(0.5)
    assert len(hook.requests) == 1  # the rolled-back delivery never went anywhere
