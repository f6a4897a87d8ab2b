"""Digest windows in-process: which job emails a window collects, and the sweep that closes it,
against real Postgres and a real SMTP server (aiosmtpd). The hand-off to the broker is recorded
and run here, as in tests/services/test_email.py; worker processes and beat deliver digests in
tests/workers/test_email_digests.py."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from app.extensions import db
from app.models import EmailDelivery, EmailDigest
from app.notifications import digest as email_digest
from app.notifications import service as notifications
from tests.support.mail import SEND_EMAIL, TaskRecorder, record_tasks
from tests.support.smtp import SmtpServer


class EmailTaskRecorder(TaskRecorder):
    """A TaskRecorder that fails at once when anything but one email's task is handed over."""

    def send_task(self, name, args=None, queue=None, **options):
        assert name == SEND_EMAIL and queue == "email"
        super().send_task(name, args, queue, **options)


@pytest.fixture()
def tasks(app, ctx, monkeypatch):
    recorder = record_tasks(app, monkeypatch, EmailTaskRecorder())
    monkeypatch.setitem(app.config, "EMAIL_DIGEST_SECONDS", 60)
    return recorder


@pytest.fixture()
def mailbox(app, monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setitem(app.config, "SMTP_URL", server.url())
        yield server


def finish(app, user: dict, kind: str = "job_completed") -> str:
    """Announce a finished job the way a worker does; returns the job id."""
    job_id = str(uuid.uuid4())
    data = {"jobId": job_id, "jobType": "test-probe", "url": f"{app.config['PUBLIC_URL']}/jobs/{job_id}"}
    outcome = "completed" if kind == "job_completed" else "failed"
    notifications.send(uuid.UUID(user["id"]), kind, f"Test probe {outcome}", f"Job {job_id} {outcome}", data)
    return job_id


def deliveries(user: dict) -> list[EmailDelivery]:
    db.session.expire_all()
    query = select(EmailDelivery).where(EmailDelivery.user_id == uuid.UUID(user["id"]))
    return list(db.session.scalars(query.order_by(EmailDelivery.created_at, EmailDelivery.id)))


def end_windows(user: dict) -> None:
    """Make the user's open windows due now, as if EMAIL_DIGEST_SECONDS had passed."""
    db.session.execute(
        update(EmailDigest)
        .where(EmailDigest.user_id == uuid.UUID(user["id"]), EmailDigest.status == "open")
        .values(due_at=func.now() - timedelta(seconds=1))
    )
    db.session.commit()


def test_the_first_job_email_goes_at_once_and_the_rest_wait_in_one_window(app, user, tasks):
    first = finish(app, user)
    later = [finish(app, user) for _ in range(4)]
    assert [args[0] for args in tasks.email_tasks()] == [str(deliveries(user)[0].id)]  # only the first was handed over
    rows = deliveries(user)
    assert [row.status for row in rows] == ["pending"] + ["digest"] * 4
    assert rows[0].data["jobId"] == first and rows[0].digest_id is None
    assert {row.digest_id for row in rows[1:]} == {rows[1].digest_id} and rows[1].digest_id is not None
    assert [row.data["jobId"] for row in rows[1:]] == later


def test_the_sweep_sends_one_digest_listing_the_collected_emails_once(app, user, tasks, mailbox):
    finish(app, user)
    assert tasks.run_emails() == ["sent"]
    later = [finish(app, user) for _ in range(2)] + [finish(app, user, "job_failed")]
    assert email_digest.send_due_digests() == 0  # the window is not due yet
    end_windows(user)

    assert email_digest.send_due_digests() == 1
    assert email_digest.send_due_digests() == 0  # a second sweep finds nothing left to send
    assert tasks.run_emails() == ["sent"]
    first_mail, digest = mailbox.wait_for(user["email"], count=2)
    assert digest.subject == "3 job updates"
    assert "2 completed, 1 failed" in digest.text
    for job_id in later:
        assert f"/jobs/{job_id}" in digest.text and f'href="{app.config["PUBLIC_URL"]}/jobs/{job_id}"' in digest.html
    assert "Test probe failed (failed)" in digest.text
    rows = deliveries(user)
    assert [row.status for row in rows if row.notification_type != "job_digest"] == ["sent"] + ["digested"] * 3
    [digest_row] = [row for row in rows if row.notification_type == "job_digest"]
    assert digest_row.status == "sent" and digest_row.digest_id == rows[1].digest_id


def test_a_window_with_nothing_collected_closes_without_an_email(app, user, tasks):
    finish(app, user)
    tasks.calls.clear()
    end_windows(user)
    assert email_digest.send_due_digests() == 0
    window = db.session.scalar(select(EmailDigest).where(EmailDigest.user_id == uuid.UUID(user["id"])))
    assert window.status == "closed" and tasks.email_tasks() == []


def test_after_the_window_the_next_job_email_goes_at_once_again(app, user, tasks):
    finish(app, user)
    finish(app, user)
    end_windows(user)
    assert email_digest.send_due_digests() == 1
    tasks.calls.clear()
    finish(app, user)
    assert len(tasks.email_tasks()) == 1 and deliveries(user)[-1].status == "pending"


def test_system_emails_never_wait_for_a_digest(app, user, tasks, monkeypatch):
    monkeypatch.setitem(notifications.PREFERENCE_TYPE, "invitation", "job_status")  # emailed like job updates
    finish(app, user)
    notifications.send(uuid.UUID(user["id"]), "invitation", "You are invited", "Join the team", {})
    assert len(tasks.email_tasks()) == 2
    assert [row.status for row in deliveries(user)] == ["pending", "pending"]


def test_with_digests_off_every_job_email_goes_at_once(app, user, tasks, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_DIGEST_SECONDS", 0)
    for _ in range(3):
        finish(app, user)
    assert len(tasks.email_tasks()) == 3
    assert {row.status for row in deliveries(user)} == {"pending"}
    windows = select(func.count()).select_from(EmailDigest).where(EmailDigest.user_id == uuid.UUID(user["id"]))
    assert db.session.scalar(windows) == 0


def test_users_have_windows_of_their_own(app, user, other_user, tasks):
    finish(app, user)
    finish(app, other_user)  # the other user's first email: at once, not into the first user's window
    finish(app, user)
    assert len(tasks.email_tasks()) == 2
    assert [row.status for row in deliveries(other_user)] == ["pending"]
    assert [row.status for row in deliveries(user)] == ["pending", "digest"]


def test_email_turned_off_during_the_window_sends_no_digest(app, client, user, tasks):
    finish(app, user)
    finish(app, user)
    preferences = client.get("/api/notifications/preferences", headers=user["headers"]).get_json()
    email = next(p for p in preferences if (p["notificationType"], p["channel"]) == ("job_status", "email"))
    assert (
        client.patch(
            f"/api/notifications/preferences/{email['id']}", json={"enabled": False}, headers=user["headers"]
        ).status_code
        == 200
    )
    tasks.calls.clear()
    end_windows(user)
    assert email_digest.send_due_digests() == 0
    assert [row.status for row in deliveries(user)] == ["pending", "disabled"]


def test_two_first_emails_at_once_open_one_window_and_the_later_joins_it(app, user, tasks):
    """Two job emails finishing together, neither seeing an open window: only one may open it
    (an advisory lock per user), and the other, waiting for that lock, joins the window once
    the first commits: one email goes now, the other waits for the digest."""
    user_id = uuid.UUID(user["id"])
    first = notifications.stage(user_id, "job_completed", "Test probe completed", "first", {"jobId": "first"})
    assert first is not None and first.email_now  # its transaction stays open: the window is not visible yet

    def second() -> None:
        with app.app_context():
            notifications.send(user_id, "job_completed", "Test probe completed", "second", {"jobId": "second"})

    thread = threading.Thread(target=second)
    thread.start()
    deadline = time.monotonic() + 10
    with db.engine.connect() as watcher:  # the second waits for the first's lock before it commits
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        while not watcher.execute(text(waiting)).scalar() and time.monotonic() < deadline:
            time.sleep(0.02)
    db.session.commit()
    thread.join(10)
    assert not thread.is_alive()

    rows = deliveries(user)
    [window] = db.session.scalars(select(EmailDigest.id).where(EmailDigest.user_id == user_id)).all()
    assert [(row.message, row.status, row.digest_id) for row in rows] == [
        ("first", "pending", None),
        ("second", "digest", window),
    ]
    assert [args[0] for args in tasks.email_tasks()] == [str(rows[0].id)]  # only the first was handed over
