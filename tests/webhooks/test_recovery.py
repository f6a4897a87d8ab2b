"""A delivery survives its worker: SIGKILLed mid-attempt, it is sent again by the sweep once the
lease expires. And an endpoint failing for a day is disabled, with its owner told."""

from __future__ import annotations

import os
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app import create_app
from app.extensions import db
from app.webhooks import outbox, sweep
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.support import processes
from tests.support.api import register
from tests.support.private_stack import private_stack
from tests.support.web import free_port
from tests.webhooks.conftest import OVERRIDES, WEBHOOK_ENV, create_webhook, wait_for_delivery
from tests.webhooks.receiver import Answer


@pytest.fixture()
def stack(database):
    """A database and a Redis of the test's own: the session's beat, sweeping the session's
    database, would otherwise hand the delivery whose lease expired to its own broker, where no
    webhook worker of this test listens."""
    with private_stack(database, "whkill", WEBHOOK_ENV, OVERRIDES) as stack:
        yield stack


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_worker_killed_mid_delivery_loses_nothing(stack, receiver):
    env = stack.env
    hook = receiver(Answer(delay=1.5))  # the first attempt is still waiting for its answer when the worker dies
    client = stack.client
    account = register(client)
    webhook = create_webhook(client, account["headers"], hook.url)
    victim = processes.start_worker(concurrency=1, name=f"whkill-{uuid.uuid4().hex[:6]}", queues="webhooks", env=env)
    survivors = []
    try:
        delivery = client.post(f"/api/webhooks/{webhook['id']}/test", headers=account["headers"]).get_json()
        hook.wait_for(1)
        os.killpg(victim.pid, signal.SIGKILL)  # the main process and its pool child at once
        victim.wait(10)
        killed_at = time.monotonic()
        survivors = [
            processes.start_worker(concurrency=1, name=f"whnext-{uuid.uuid4().hex[:6]}", queues="webhooks", env=env),
            processes.start_beat(env=env),
        ]
        [row] = wait_for_delivery(client, account["headers"], webhook["id"], timeout=60)
    finally:
        for proc in survivors:
            processes.stop(proc)
    requests = hook.requests
    assert row["status"] == "succeeded" and row["attempts"] == 2, row
    assert [r.headers["webhook-id"] for r in requests] == [delivery["id"]] * 2
    # Not before the lost attempt's lease (time limit + margin) ran out: no two attempts at once.
    assert requests[1].at - killed_at > 5
    detail = client.get(
        f"/api/webhooks/{webhook['id']}/deliveries/{delivery['id']}", headers=account["headers"]
    ).get_json()
    assert [a["error"] for a in detail["attemptLog"]] == ["The worker stopped before this attempt finished", None]


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owner_told(wh_app, wh_client, receiver, webhook_worker):
    hook = receiver(default=Answer(500))
    account = register(wh_client)
    webhook = create_webhook(wh_client, account["headers"], hook.url)
    with wh_app.app_context():
        # Its deliveries have been failing since yesterday.
        db.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == uuid.UUID(webhook["id"]))
            .values(failing_since=datetime.now(UTC) - timedelta(hours=25))
        )
        db.session.commit()
        db.session.remove()
    wh_client.post(f"/api/webhooks/{webhook['id']}/test", headers=account["headers"])
    [row] = wait_for_delivery(wh_client, account["headers"], webhook["id"], statuses=("failed",))
    assert row["lastError"] == "The webhook is disabled"
    shown = wh_client.get(f"/api/webhooks/{webhook['id']}", headers=account["headers"]).get_json()
    assert shown["enabled"] is False and shown["disabledReason"] == "Deliveries have been failing for a day"
    notes = wh_client.get("/api/notifications", headers=account["headers"]).get_json()["data"]
    [note] = [n for n in notes if n["type"] == "system"]
    assert note["title"] == "Webhook disabled" and hook.url in note["message"]
    # Enabled again, it starts afresh.
    enabled = wh_client.patch(f"/api/webhooks/{webhook['id']}", json={"enabled": True}, headers=account["headers"])
    assert enabled.get_json()["enabled"] is True and enabled.get_json()["disabledReason"] is None


def test_a_delivery_the_broker_never_got_is_sent_by_the_sweep(wh_app, wh_client, receiver, webhook_worker):
    """Redis down at hand-off: the committed delivery waits in Postgres, and the sweep sends it."""
    hook = receiver()
    account = register(wh_client)
    webhook = create_webhook(wh_client, account["headers"], hook.url, events=["job.failed"])
    no_broker = create_app({**OVERRIDES, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    with no_broker.app_context():
        ids = outbox.stage(uuid.UUID(account["id"]), "job.failed", {"job": {"id": "j"}})
        db.session.commit()  # the hand-off after it finds the broker unreachable: logged, left to the sweep
        assert db.session.get(WebhookDelivery, ids[0]).enqueued_at is None
        db.session.remove()
    with wh_app.app_context():
        # Beat's own loop (a session beat may be running) or this call: either sweep sends it.
        sweep.resend_due()
        db.session.remove()
    [request] = hook.wait_for(1)
    assert request.headers["webhook-id"] == str(ids[0])
    [row] = wait_for_delivery(wh_client, account["headers"], webhook["id"])
    assert row["status"] == "succeeded"
