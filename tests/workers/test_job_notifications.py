"""Job lifecycle notifications made by real worker processes: what lands in the notification
centre, and what lands in a real mailbox (aiosmtpd) through a worker that has SMTP_URL.

This module runs its own worker (and beat, for retries) on the session's private Redis database
rather than using the shared `worker`: that one consumes the `email` queue too, without SMTP_URL,
and would take (and only log) these emails. Jobs created through `client` during these tests are
handed to the private broker (see `private_broker`), so only our worker runs them."""

from __future__ import annotations

import secrets
import sqlite3
import time
import uuid

import pytest
import redis as redis_lib
from celery import Celery
from sqlalchemy import select

import celeryconfig
from app.extensions import db
from app.models import EmailDelivery
from tests.support import processes
from tests.support.api import create_job, register, set_preference, wait_for_job
from tests.support.smtp import SmtpServer

LIFECYCLE = ["job_completed", "job_started", "job_queued"]  # newest first


def job_notifications(client, user: dict, job_id: str) -> list[dict]:
    body = client.get("/api/notifications?limit=100", headers=user["headers"]).get_json()
    return [n for n in body["data"] if n["data"].get("jobId") == job_id]


def wait_for_notifications(client, user: dict, job_id: str, last: str, timeout: float = 30) -> list[dict]:
    """The job's notifications (newest first) once one of type `last` has arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = job_notifications(client, user, job_id)
        if any(n["type"] == last for n in found):
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {last} notification for job {job_id}; have {job_notifications(client, user, job_id)}")


def user_deliveries(user: dict) -> list[EmailDelivery]:
    db.session.expire_all()
    query = select(EmailDelivery).where(EmailDelivery.user_id == uuid.UUID(user["id"]))
    return list(db.session.scalars(query.order_by(EmailDelivery.created_at)))


def wait_for_deliveries(user: dict, done, timeout: float = 30) -> list[EmailDelivery]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = user_deliveries(user)
        if done(rows):
            return rows
        time.sleep(0.1)
    raise AssertionError(f"deliveries not as expected in {timeout}s: {[(d.status, d.error) for d in rows]}")


BUSY_PREFIX = "busy-"  # our SMTP server answers 451 (try later) to these recipients


def _busy_mailboxes(recipient: str) -> str | None:
    return "451 4.3.0 Mailbox busy" if recipient.startswith(BUSY_PREFIX) else None


@pytest.fixture(scope="module")
def pipeline(app, private_redis_url):
    """An SMTP server and a worker with SMTP_URL on this session's private Redis database;
    yields (worker environment, mailbox, a Celery client of that broker)."""
    redis_lib.Redis.from_url(private_redis_url).flushdb()
    with SmtpServer(refuse=_busy_mailboxes) as mailbox:
        env = {
            "REDIS_URL": private_redis_url,
            "SMTP_URL": mailbox.url(),
            "EMAIL_MAX_RETRIES": "2",
            "EMAIL_RETRY_DELAY_SECONDS": "0.2",
            "EMAIL_DIGEST_SECONDS": "0",  # every job email at once (digests: test_email_digests.py)
        }
        worker = processes.start_worker(concurrency=2, name=f"notif-{uuid.uuid4().hex[:6]}", env=env)
        broker = Celery("notifications-tests", set_as_current=False)
        broker.conf.update(celeryconfig.build({**app.config, "REDIS_URL": private_redis_url}))
        try:
            yield env, mailbox, broker
        finally:
            broker.close()
            processes.stop(worker)
            redis_lib.Redis.from_url(private_redis_url).flushdb()


@pytest.fixture(scope="module")
def private_beat(pipeline):
    """Beat on the private broker: hands delayed retries back to the private worker."""
    env, _, _ = pipeline
    proc = processes.start_beat(env=env)
    yield proc
    processes.stop(proc)


@pytest.fixture(autouse=True)
def private_broker(app, pipeline, monkeypatch):
    """Jobs created (and emails queued) by this process during a test go to the private broker."""
    monkeypatch.setitem(app.extensions, "celery", pipeline[2])


@pytest.fixture()
def mailbox(pipeline):
    return pipeline[1]


# --- in-app -----------------------------------------------------------------------------------


def test_a_job_announces_queued_started_and_completed(client, user):
    job_id = create_job(client, user["headers"], payload={"steps": 2}).get_json()["id"]
    found = wait_for_notifications(client, user, job_id, "job_completed")
    assert [n["type"] for n in found] == LIFECYCLE
    by_type = {n["type"]: n for n in found}
    assert by_type["job_queued"]["title"] == "Test probe queued"
    assert by_type["job_started"]["title"] == "Test probe started"
    assert by_type["job_completed"]["title"] == "Test probe completed"
    assert by_type["job_completed"]["message"] == "Test probe completed successfully"
    assert all(n["data"]["url"].endswith(f"/jobs/{job_id}") and not n["read"] for n in found)


def test_a_permanent_failure_announces_failed_with_the_error(client, user):
    job_id = create_job(
        client, user["headers"], payload={"failAttempts": 1, "failWith": "permanent"}, options={"retryLimit": 3}
    ).get_json()["id"]
    found = wait_for_notifications(client, user, job_id, "job_failed")
    assert [n["type"] for n in found] == ["job_failed", "job_started", "job_queued"]
    failed = found[0]
    assert failed["title"] == "Test probe failed"
    assert "Injected permanent failure on attempt 1" in failed["message"]
    assert "Injected permanent failure" in failed["data"]["error"]


def test_a_cancelled_queued_job_announces_cancelled(client, user):
    job_id = create_job(client, user["headers"], options={"startAfter": 600}).get_json()["id"]
    assert client.delete(f"/api/jobs/{job_id}", headers=user["headers"]).status_code == 200
    found = wait_for_notifications(client, user, job_id, "job_cancelled")
    assert [n["type"] for n in found] == ["job_cancelled", "job_queued"]
    assert found[0]["title"] == "Test probe cancelled"


def test_retried_attempts_announce_one_start_and_no_failure(client, user, private_beat):
    job_id = create_job(
        client, user["headers"], payload={"failAttempts": 2}, options={"retryLimit": 3, "retryDelay": 1}
    ).get_json()["id"]
    job = wait_for_job(client, user["headers"], job_id, timeout=45)
    assert job["status"] == "completed" and job["attempts"] == 3
    assert [n["type"] for n in wait_for_notifications(client, user, job_id, "job_completed")] == LIFECYCLE


def test_a_schema_rebuild_announces_its_table_count(client, user, tmp_path):
    pytest.importorskip("app.connections.introspection", reason="schema introspection is not written yet")
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id));"
            "CREATE TABLE items (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id), sku TEXT);"
        )
    body = {"name": "shop", "url": f"sqlite:///{path}"}
    response = client.post("/api/connections", json=body, headers=user["headers"])
    assert response.status_code == 201, response.get_json()
    connection_id = response.get_json()["id"]
    rebuild = client.post(f"/api/connections/{connection_id}/rebuild", json={}, headers=user["headers"])
    assert rebuild.status_code == 202, rebuild.get_json()
    job_id = rebuild.get_json()["jobId"]

    done = wait_for_notifications(client, user, job_id, "job_completed")[0]
    assert done["title"] == "Schema rebuild completed"
    assert done["message"] == "Schema rebuild completed successfully with 3 tables"
    assert done["data"]["tablesCount"] == 3 and done["data"]["connectionId"] == connection_id


def test_a_connection_password_never_reaches_a_notification(client, user):
    secret = f"pw-{secrets.token_hex(8)}"
    url = f"postgresql://postgres:{secret}@127.0.0.1:5432/no_such_db_{secrets.token_hex(4)}"
    created = client.post("/api/connections", json={"name": "missing", "url": url}, headers=user["headers"])
    assert created.status_code == 201, created.get_json()
    job_id = client.post(
        f"/api/connections/{created.get_json()['id']}/rebuild", json={}, headers=user["headers"]
    ).get_json()["jobId"]
    found = wait_for_notifications(client, user, job_id, "job_failed")
    assert "does not exist" in found[0]["message"]
    assert secret not in repr(found)


def test_in_app_off_means_no_notification_for_the_next_job(client, user, ctx):
    set_preference(client, user, "job_status", "in_app", False)
    job_id = create_job(client, user["headers"]).get_json()["id"]
    assert wait_for_job(client, user["headers"], job_id)["status"] == "completed"
    # The completion's email delivery is written in the same commit the in-app row would have been.
    wait_for_deliveries(user, lambda rows: any(d.notification_type == "job_completed" for d in rows))
    body = client.get("/api/notifications", headers=user["headers"]).get_json()
    assert body["data"] == [] and body["unreadCount"] == 0


# --- email ------------------------------------------------------------------------------------


def test_finished_jobs_are_emailed_and_queued_or_started_ones_are_not(client, user, mailbox, ctx):
    done = create_job(client, user["headers"], payload={"steps": 1}).get_json()["id"]
    failed = create_job(client, user["headers"], payload={"failAttempts": 1, "failWith": "permanent"}).get_json()["id"]

    received = {m.subject: m for m in mailbox.wait_for(user["email"], count=2)}
    assert set(received) == {"Test probe completed", "Test probe failed"}
    completed_mail, failed_mail = received["Test probe completed"], received["Test probe failed"]
    assert completed_mail.recipients == [user["email"]]
    assert "Test probe completed successfully" in completed_mail.text
    assert f"/jobs/{done}" in completed_mail.text and f'href="http://localhost:5000/jobs/{done}"' in completed_mail.html
    assert "Injected permanent failure on attempt 1" in failed_mail.text and f"/jobs/{failed}" in failed_mail.html

    rows = wait_for_deliveries(user, lambda rows: len(rows) == 2 and all(d.status == "sent" for d in rows))
    assert sorted(d.notification_type for d in rows) == ["job_completed", "job_failed"]
    # The chatty ones were announced in-app only.
    for job_id, last in ((done, "job_completed"), (failed, "job_failed")):
        assert {n["type"] for n in wait_for_notifications(client, user, job_id, last)} >= {"job_queued", "job_started"}
    time.sleep(0.5)  # nothing else trickles in
    assert len(mailbox.messages_to(user["email"])) == 2


def test_with_digests_off_a_burst_of_jobs_gets_one_email_each(client, user, mailbox, ctx):
    job_ids = [create_job(client, user["headers"]).get_json()["id"] for _ in range(5)]
    received = mailbox.wait_for(user["email"], count=5)
    assert sorted(next(j for j in job_ids if f"/jobs/{j}" in m.text) for m in received) == sorted(job_ids)
    assert {m.subject for m in received} == {"Test probe completed"}
    time.sleep(0.5)
    assert len(mailbox.messages_to(user["email"])) == 5


def test_email_off_gets_no_email_from_the_worker(client, user, other_user, mailbox, ctx):
    set_preference(client, user, "job_status", "email", False)
    quiet = create_job(client, user["headers"]).get_json()["id"]
    create_job(client, other_user["headers"])

    mailbox.wait_for(other_user["email"])  # the same worker mailed the other user's job
    wait_for_notifications(client, user, quiet, "job_completed")  # committed with any delivery row
    assert user_deliveries(user) == []
    assert mailbox.messages_to(user["email"]) == []


def test_a_refusing_server_is_retried_then_recorded_as_failed_and_in_app_remains(client, mailbox, ctx):
    busy = register(client, email=f"{BUSY_PREFIX}{secrets.token_hex(4)}@example.com")
    job_id = create_job(client, busy["headers"]).get_json()["id"]

    [delivery] = wait_for_deliveries(busy, lambda rows: rows and rows[0].status == "failed")
    assert delivery.attempts == 3  # the first try and EMAIL_MAX_RETRIES=2 retries
    assert "451" in delivery.error and "Mailbox busy" in delivery.error
    assert [n["type"] for n in job_notifications(client, busy, job_id)] == LIFECYCLE
    assert mailbox.messages_to(busy["email"]) == []
