"""Email digests end to end: jobs created over the API in a loop, run by a real worker, emailed to
a real mailbox (aiosmtpd), the digest sent by beat's sweep at the end of the window.

This module runs its own worker and beat, with SMTP_URL set and a short EMAIL_DIGEST_SECONDS
window, on a database and Redis database of its own."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import EmailDelivery, EmailDigest
from tests.support import processes
from tests.support.api import create_job, wait_for_job
from tests.support.private_stack import private_stack
from tests.support.smtp import SmtpServer

WINDOW = 4.0  # EMAIL_DIGEST_SECONDS of this module's worker
BURST = 10
CLOCK_SLACK = 0.2  # seconds: converting Postgres' clock to the test's, and the mailbox polling


@pytest.fixture(scope="module")
def stack(database):
    """A database and Redis database of this module's own: the beat other tests run on the
    session's database would otherwise close these digest windows through its own broker."""
    settings = {"EMAIL_DIGEST_SECONDS": str(WINDOW)}
    with private_stack(database, "dig", settings, {"EMAIL_DIGEST_SECONDS": WINDOW}) as stack:
        yield stack


@pytest.fixture(scope="module")
def app(stack):
    """The root conftest's client, users and app context, bound to this module's own stack."""
    return stack.app


@pytest.fixture(scope="module")
def mailbox(stack):
    """A mailbox, and a worker and beat that send to it, with a WINDOW-second digest window."""
    with SmtpServer() as mailbox:
        env = {**stack.env, "SMTP_URL": mailbox.url()}
        worker = processes.start_worker(concurrency=2, name=f"digest-{uuid.uuid4().hex[:6]}", env=env)
        beat = processes.start_beat(env=env)
        try:
            yield mailbox
        finally:
            processes.stop(beat)
            processes.stop(worker)


def burst(client, user: dict, count: int) -> list[str]:
    """`count` single POST /api/jobs in a loop; the job ids, once every job has completed."""
    job_ids = [create_job(client, user["headers"]).get_json()["id"] for _ in range(count)]
    for job_id in job_ids:
        assert wait_for_job(client, user["headers"], job_id)["status"] == "completed"
    return job_ids


def arrivals(mailbox, address: str, count: int, timeout: float) -> list[tuple[float, object]]:
    """Wait for `count` messages to `address`; (arrival time, message) of each, in order."""
    seen: list[tuple[float, object]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(seen) < count:
        for message in mailbox.messages_to(address)[len(seen) :]:
            seen.append((time.monotonic(), message))
        time.sleep(0.02)
    assert len(seen) >= count, f"{count} emails to {address} not received in {timeout}s; got {len(seen)}"
    return seen


def window_due_at(user: dict) -> datetime:
    """The end of the user's (single) digest window, as Postgres set it."""
    db.session.expire_all()
    return db.session.scalars(select(EmailDigest.due_at).where(EmailDigest.user_id == uuid.UUID(user["id"]))).one()


def monotonic_at(moment: datetime) -> float:
    """A wall-clock moment on `time.monotonic()`'s scale, as `arrivals` records times."""
    return time.monotonic() - (time.time() - moment.timestamp())


def user_deliveries(user: dict) -> list[EmailDelivery]:
    db.session.expire_all()
    query = select(EmailDelivery).where(EmailDelivery.user_id == uuid.UUID(user["id"]))
    return list(db.session.scalars(query.order_by(EmailDelivery.created_at)))


def test_a_burst_of_jobs_gives_one_email_then_one_digest_listing_the_rest(client, user, mailbox, ctx):
    job_ids = burst(client, user, BURST)
    (_, first), (digest_at, digest) = arrivals(mailbox, user["email"], 2, timeout=WINDOW + 20)

    first_job = first.subject == "Test probe completed" and next(j for j in job_ids if f"/jobs/{j}" in first.text)
    assert first_job, first.subject
    # The digest comes at the window's end, not before, within a beat sweep and an email worker's
    # hand-off (generous: a loaded machine delays the worker). The end is the window's own `due_at`:
    # the first email may itself reach the mailbox late, so the gap between the two proves nothing.
    window_end = monotonic_at(window_due_at(user))
    assert window_end <= digest_at + CLOCK_SLACK
    assert digest_at - window_end <= 10.0
    assert digest.subject == f"{BURST - 1} job updates"
    assert f"{BURST - 1} completed" in digest.text
    for job_id in job_ids:
        listed = f"/jobs/{job_id}" in digest.text and f"/jobs/{job_id}" in digest.html
        assert listed == (job_id != first_job), job_id
    time.sleep(WINDOW + 1)
    assert len(mailbox.messages_to(user["email"])) == 2  # nothing else trickles in

    # In-app stays per job: every job announced its own completion.
    body = client.get("/api/notifications?limit=100", headers=user["headers"]).get_json()
    completed = {n["data"]["jobId"] for n in body["data"] if n["type"] == "job_completed"}
    assert completed == set(job_ids)
    kinds = sorted((d.notification_type, d.status) for d in user_deliveries(user))
    assert kinds == [("job_completed", "digested")] * (BURST - 1) + [("job_completed", "sent"), ("job_digest", "sent")]


def test_two_users_get_digests_of_their_own(client, user, other_user, mailbox, ctx):
    mine = [create_job(client, user["headers"]).get_json()["id"] for _ in range(3)]
    theirs = [create_job(client, other_user["headers"]).get_json()["id"] for _ in range(3)]
    for owner, job_ids in ((user, mine), (other_user, theirs)):
        for job_id in job_ids:
            wait_for_job(client, owner["headers"], job_id)

    for owner, own, foreign in ((user, mine, theirs), (other_user, theirs, mine)):
        (_, first), (_, digest) = arrivals(mailbox, owner["email"], 2, timeout=WINDOW + 20)
        assert digest.subject == "2 job updates" and digest.recipients == [owner["email"]]
        listed = [job_id for job_id in own if f"/jobs/{job_id}" in digest.text]
        assert len(listed) == 2 and not any(f"/jobs/{job_id}" in first.text for job_id in listed)
        assert not any(f"/jobs/{job_id}" in digest.text + first.text for job_id in foreign)


def test_email_turned_off_gets_neither_email_nor_digest(client, user, other_user, mailbox, ctx):
    preferences = client.get("/api/notifications/preferences", headers=user["headers"]).get_json()
    email = next(p for p in preferences if (p["notificationType"], p["channel"]) == ("job_status", "email"))
    response = client.patch(
        f"/api/notifications/preferences/{email['id']}", json={"enabled": False}, headers=user["headers"]
    )
    assert response.status_code == 200
    burst(client, user, 4)
    burst(client, other_user, 2)  # the same worker and sweep mail someone else meanwhile

    arrivals(mailbox, other_user["email"], 2, timeout=WINDOW + 20)
    assert mailbox.messages_to(user["email"]) == []
    assert user_deliveries(user) == []
