"""Fixtures of the webhook tests: an app and a worker that may reach 127.0.0.1 (the only place a
test receiver can listen), receivers on loopback, and short time limits and retry delays."""

from __future__ import annotations

import time
import uuid

import pytest

from app import create_app
from app.extensions import db
from tests.support import processes
from tests.support.api import register
from tests.webhooks.receiver import Receiver

ALLOWED = "127.0.0.1"
WEBHOOK_ENV = {
    "WEBHOOK_ALLOWED_HOSTS": ALLOWED,
    "WEBHOOK_TIMEOUT_SECONDS": "2",
    "WEBHOOK_MAX_ATTEMPTS": "4",
    "WEBHOOK_RETRY_DELAY_SECONDS": "0.2",
}
OVERRIDES = {
    "WEBHOOK_ALLOWED_HOSTS": [ALLOWED],
    "WEBHOOK_TIMEOUT_SECONDS": 2.0,
    "WEBHOOK_MAX_ATTEMPTS": 4,
    "WEBHOOK_RETRY_DELAY_SECONDS": 0.2,
}


@pytest.fixture(scope="session")
def wh_app(database):
    app = create_app(OVERRIDES)
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def wh_ctx(wh_app):
    with wh_app.app_context():
        yield wh_app
        db.session.remove()


@pytest.fixture()
def wh_client(wh_app):
    return wh_app.test_client()


@pytest.fixture()
def account(wh_client):
    return register(wh_client)


@pytest.fixture(scope="session")
def webhook_worker(database):
    """A real worker consuming the `webhooks` queue, with the settings above."""
    return processes.start_worker(concurrency=2, name=f"wh-{uuid.uuid4().hex[:6]}", queues="webhooks", env=WEBHOOK_ENV)


@pytest.fixture()
def receiver():
    made: list[Receiver] = []

    def make(*script, default=None) -> Receiver:
        made.append(Receiver(list(script), default))
        return made[-1]

    yield make
    for each in made:
        each.close()


def create_webhook(client, headers, url, events=("*",), **extra) -> dict:
    response = client.post("/api/webhooks", json={"url": url, "events": list(events), **extra}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def wait_for_delivery(client, headers, webhook_id, statuses=("succeeded", "failed"), timeout=30, count=1) -> list:
    """Poll the deliveries list until `count` deliveries are in one of `statuses`."""
    deadline = time.monotonic() + timeout
    rows = []
    while time.monotonic() < deadline:
        rows = client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=headers).get_json()["data"]
        if len([row for row in rows if row["status"] in statuses]) >= count:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"deliveries not {statuses} in {timeout}s: {rows}")
