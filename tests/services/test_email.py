"""The email channel in-process, against a real SMTP server (aiosmtpd, tests/support/smtp.py):
what `send()` decides, what arrives in the mailbox, SMTP AUTH and TLS, retries and recorded failures.

The hand-off to the broker is recorded instead of sent, and the recorded task runs here, eagerly
(its arguments JSON round-tripped as the broker would): the session's shared worker consumes the
`email` queue too, without SMTP_URL, and would otherwise race these tests for every message.
Real worker processes deliver email in tests/workers/test_job_notifications.py."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import EmailDelivery, Notification
from app.notifications import outbox as email_outbox
from app.notifications import service as notifications
from app.notifications.email import parse_smtp_url
from tests.support.api import set_preference
from tests.support.mail import TaskRecorder, record_tasks
from tests.support.smtp import SmtpServer, free_port
from workers.email import send_email, send_emails

PASSWORD = "pa:ss w/ord@1"  # characters that must survive percent-encoding in SMTP_URL


@pytest.fixture()
def tasks(app, ctx, monkeypatch):
    return record_tasks(app, monkeypatch, TaskRecorder())


@pytest.fixture()
def smtp_config(app, monkeypatch):
    """Set SMTP_URL (and other email settings) for this test only."""

    def configure(url: str | None, **settings):
        monkeypatch.setitem(app.config, "SMTP_URL", url)
        for key, value in settings.items():
            monkeypatch.setitem(app.config, key, value)

    return configure


@pytest.fixture()
def mailbox(smtp_config):
    with SmtpServer() as server:
        smtp_config(server.url())
        yield server


def job_data(app, job_id: str | None = None) -> dict:
    job_id = job_id or str(uuid.uuid4())
    return {"jobId": job_id, "jobType": "test-probe", "url": f"{app.config['PUBLIC_URL']}/jobs/{job_id}"}


def completed(user: dict, app, **data) -> Notification | None:
    return notifications.send(
        uuid.UUID(user["id"]),
        "job_completed",
        "Test probe completed",
        "Test probe completed successfully",
        {**job_data(app), **data},
    )


def deliveries(user: dict) -> list[EmailDelivery]:
    db.session.expire_all()
    query = select(EmailDelivery).where(EmailDelivery.user_id == uuid.UUID(user["id"]))
    return list(db.session.scalars(query.order_by(EmailDelivery.created_at)))


def in_app_types(user: dict) -> list[str]:
    return list(db.session.scalars(select(Notification.type).where(Notification.user_id == uuid.UUID(user["id"]))))


def test_a_completed_job_is_emailed_with_text_html_and_a_link(app, user, tasks, mailbox):
    data = job_data(app)
    notifications.send(uuid.UUID(user["id"]), "job_completed", "Test probe completed", "All 3 steps done", data)
    assert tasks.run_emails() == ["sent"]

    [received] = mailbox.wait_for(user["email"])
    assert received.recipients == [user["email"]]
    assert received.mail_from == app.config["MAIL_FROM"]
    message = received.message
    assert received.subject == "Test probe completed"
    assert message["To"] == user["email"] and message["From"] == app.config["MAIL_FROM"]
    assert message["Date"] and message["Auto-Submitted"] == "auto-generated"
    assert "All 3 steps done" in received.text and f"View the job: {data['url']}" in received.text
    assert "All 3 steps done" in received.html and f'<a href="{data["url"]}">View the job</a>' in received.html

    [delivery] = deliveries(user)
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 1, None)
    assert delivery.sent_at is not None and delivery.recipient == user["email"]
    assert message["Message-ID"] == f"<{delivery.id}@jobsvc>"


def test_html_is_escaped_and_headers_cannot_be_injected(app, user, tasks, mailbox):
    notifications.send(
        uuid.UUID(user["id"]),
        "job_failed",
        "Export failed\r\nBcc: victim@example.com",
        "<script>alert(1)</script> & more",
        job_data(app),
    )
    tasks.run_emails()
    [received] = mailbox.wait_for(user["email"])
    assert received.message["Bcc"] is None and received.recipients == [user["email"]]
    assert received.subject == "Export failed Bcc: victim@example.com"
    assert "<script>" not in received.html and "&lt;script&gt;" in received.html
    assert "<script>alert(1)</script> & more" in received.text


def test_only_completed_and_failed_jobs_are_emailed(app, user, tasks):
    uid = uuid.UUID(user["id"])
    for kind in ("job_queued", "job_started", "job_cancelled", "job_completed", "job_failed"):
        notifications.send(uid, kind, kind, kind, job_data(app))
    assert sorted(in_app_types(user)) == ["job_cancelled", "job_completed", "job_failed", "job_queued", "job_started"]
    assert sorted(d.notification_type for d in deliveries(user)) == ["job_completed", "job_failed"]
    assert len(tasks.email_tasks()) == 2


def test_a_disabled_email_preference_gets_no_email(app, client, user, tasks, mailbox):
    set_preference(client, user, "job_status", "email", False)
    assert completed(user, app) is not None  # in-app still on
    assert deliveries(user) == [] and tasks.email_tasks() == []
    assert in_app_types(user) == ["job_completed"]


def test_a_disabled_in_app_preference_still_emails(app, client, user, tasks, mailbox):
    set_preference(client, user, "job_status", "in_app", False)
    assert completed(user, app) is None
    assert in_app_types(user) == []
    assert tasks.run_emails() == ["sent"]
    assert len(mailbox.wait_for(user["email"])) == 1


def test_system_notifications_are_not_emailed_by_default(app, user, tasks):
    notifications.send(uuid.UUID(user["id"]), "system", "Maintenance tonight", "Down 02:00-03:00 UTC")
    assert in_app_types(user) == ["system"] and deliveries(user) == []


def test_the_global_switch_off_sends_nothing(app, user, tasks, mailbox, smtp_config):
    # Queued while the switch was on, delivered after it was turned off: not sent.
    completed(user, app)
    smtp_config(mailbox.url(), EMAIL_NOTIFICATIONS_ENABLED=False)
    assert tasks.run_emails() == ["disabled"]
    # Sent while it is off: not even recorded.
    completed(user, app)
    assert tasks.email_tasks() == []
    assert [d.status for d in deliveries(user)] == ["disabled"]
    assert mailbox.messages_to(user["email"]) == []
    assert in_app_types(user) == ["job_completed", "job_completed"]


def test_without_smtp_url_the_email_is_logged_not_sent(app, user, tasks, smtp_config, caplog, monkeypatch):
    # Alembic's fileConfig() (migrations/env.py), run in-process by the `database` fixture, disables
    # every logger that existed then; this one must speak for the test to hear it.
    monkeypatch.setattr(logging.getLogger("app.notifications.email"), "disabled", False)
    smtp_config(None)
    completed(user, app)
    with caplog.at_level(logging.INFO, logger="app.notifications.email"):
        assert tasks.run_emails() == ["logged"]
    [delivery] = deliveries(user)
    assert delivery.status == "logged" and delivery.sent_at is not None and delivery.error is None
    assert any(user["email"] in r.getMessage() and "Test probe completed" in r.getMessage() for r in caplog.records)


def test_smtp_auth_logs_in_and_the_password_never_shows(app, user, tasks, smtp_config):
    with SmtpServer(users={"mailer": PASSWORD}) as server:
        smtp_config(server.url("mailer", PASSWORD))
        completed(user, app)
        assert tasks.run_emails() == ["sent"]
        [received] = server.wait_for(user["email"])
        assert received.authenticated_as == "mailer" and not received.tls
        assert PASSWORD not in received.raw


@pytest.mark.parametrize("credentials", [("mailer", "wrong"), None])
def test_refused_credentials_fail_at_once_with_the_servers_reply(app, user, tasks, smtp_config, credentials):
    with SmtpServer(users={"mailer": PASSWORD}) as server:
        smtp_config(server.url(*credentials) if credentials else server.url(), EMAIL_MAX_RETRIES=3)
        completed(user, app)
        assert tasks.run_emails() == ["failed"]
        [delivery] = deliveries(user)
        # 535 (bad credentials) or 530 (authentication required) is permanent: no retries.
        assert delivery.status == "failed" and delivery.attempts == 1
        assert "535" in delivery.error if credentials else "530" in delivery.error
        assert "wrong" not in delivery.error
        assert server.messages == []


def test_starttls_with_auth_over_a_self_signed_certificate(app, user, tasks, smtp_config):
    with SmtpServer(users={"mailer": PASSWORD}, starttls=True, require_tls=True) as server:
        smtp_config(server.url("mailer", PASSWORD, starttls="true", verify="false"))
        completed(user, app)
        assert tasks.run_emails() == ["sent"]
        [received] = server.wait_for(user["email"])
        assert received.tls and received.authenticated_as == "mailer"


@pytest.mark.parametrize(
    "options, reason",
    [({"starttls": "true"}, "CERTIFICATE_VERIFY_FAILED"), ({}, "add ?starttls=true to SMTP_URL")],
    ids=["unverifiable-certificate", "server-requires-tls"],
)
def test_tls_problems_fail_without_sending_in_clear(app, user, tasks, smtp_config, options, reason):
    with SmtpServer(users={"mailer": PASSWORD}, starttls=True, require_tls=True) as server:
        smtp_config(server.url("mailer", PASSWORD, **options), EMAIL_MAX_RETRIES=3)
        completed(user, app)
        assert tasks.run_emails() == ["failed"]
        [delivery] = deliveries(user)
        assert delivery.attempts == 1 and reason in delivery.error
        assert server.messages == []


def test_implicit_tls_smtps(app, user, tasks, smtp_config):
    with SmtpServer(implicit_tls=True) as server:
        smtp_config(server.url(verify="false"))
        assert server.url(verify="false").startswith("smtps://")
        completed(user, app)
        assert tasks.run_emails() == ["sent"]
        assert server.wait_for(user["email"])[0].tls


def test_smtp_down_is_retried_then_recorded_as_failed_and_in_app_survives(app, user, tasks, smtp_config):
    smtp_config(f"smtp://127.0.0.1:{free_port()}", EMAIL_MAX_RETRIES=2)
    notification = completed(user, app)
    assert tasks.run_emails() == ["failed"]
    [delivery] = deliveries(user)
    assert delivery.status == "failed" and delivery.attempts == 3  # the first try and two retries
    assert "ConnectionRefusedError" in delivery.error
    assert delivery.sent_at is None
    assert db.session.get(Notification, notification.id) is not None


def test_a_temporary_refusal_is_retried_until_accepted(app, user, tasks, smtp_config):
    refusals = iter(["451 4.3.0 Mailbox busy, try later"] * 2)
    with SmtpServer(refuse=lambda address: next(refusals, None)) as server:
        smtp_config(server.url(), EMAIL_MAX_RETRIES=5)
        completed(user, app)
        assert tasks.run_emails() == ["sent"]
        assert len(server.wait_for(user["email"])) == 1
        [delivery] = deliveries(user)
        assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 3, None)


def test_a_permanent_refusal_is_not_retried(app, user, tasks, smtp_config):
    with SmtpServer(refuse=lambda address: "550 5.1.1 No such user") as server:
        smtp_config(server.url(), EMAIL_MAX_RETRIES=5)
        completed(user, app)
        assert tasks.run_emails() == ["failed"]
        [delivery] = deliveries(user)
        assert delivery.attempts == 1 and "550" in delivery.error and "No such user" in delivery.error


def test_emails_recorded_together_go_as_one_batch_and_a_refused_one_retries_alone(
    app, user, tasks, smtp_config, monkeypatch
):
    monkeypatch.setitem(app.config, "EMAIL_BATCH_SECONDS", 60)  # long enough to flush by hand
    refusals = iter(["451 4.3.0 Mailbox busy, try later"])  # the first recipient, once
    with SmtpServer(refuse=lambda address: next(refusals, None)) as server:
        smtp_config(server.url())
        for _ in range(3):
            completed(user, app)
        assert tasks.calls == [], "the emails wait in the outbox"
        assert email_outbox.flush() == 3
        [(name, [ids], queue)] = tasks.calls
        assert (name, queue, len(ids)) == ("notifications.send_emails", "email", 3)
        tasks.calls.clear()
        assert send_emails.apply(args=[ids]).get() == {"retrying": 1, "sent": 2}
        assert tasks.run_emails() == ["sent"]  # the refused one, retried on its own
        assert len(server.wait_for(user["email"], count=3)) == 3
        assert [(d.status, d.attempts) for d in deliveries(user)].count(("sent", 1)) == 2
        assert sorted(d.status for d in deliveries(user)) == ["sent"] * 3


def test_a_repeated_task_does_not_send_twice(app, user, tasks, mailbox):
    completed(user, app)
    [args] = tasks.email_tasks()
    assert send_email.apply(args=args).get() == "sent"
    assert send_email.apply(args=args).get() == "skipped"  # the broker delivered it again
    assert len(mailbox.wait_for(user["email"])) == 1


def test_secrets_never_reach_the_mailbox(app, user, tasks, mailbox):
    notifications.send(
        uuid.UUID(user["id"]),
        "job_failed",
        "Schema rebuild failed",
        "Schema rebuild failed: could not connect to postgresql://app:hunter2@db.internal:5432/prod",
        {**job_data(app), "password": "hunter2"},
    )
    tasks.run_emails()
    [received] = mailbox.wait_for(user["email"])
    assert "hunter2" not in received.raw
    assert "postgresql://app:***@db.internal:5432/prod" in received.text


def test_a_malformed_smtp_url_fails_clearly_without_echoing_it(app, user, tasks, smtp_config):
    smtp_config("smtp://mailer:topsecret@127.0.0.1:2525?starttls=maybe", EMAIL_MAX_RETRIES=3)
    completed(user, app)
    assert tasks.run_emails() == ["failed"]
    [delivery] = deliveries(user)
    assert delivery.attempts == 1 and "starttls must be true or false" in delivery.error
    assert "topsecret" not in delivery.error


def test_smtp_url_forms():
    plain = parse_smtp_url("smtp://relay.internal")
    assert (plain.host, plain.port, plain.starttls, plain.implicit_tls, plain.username) == (
        "relay.internal",
        25,
        False,
        False,
        None,
    )
    tls = parse_smtp_url("smtp://bob%40corp:p%3Ass@mail:587?starttls=true&verify=false")
    assert (tls.port, tls.starttls, tls.verify, tls.username, tls.password) == (587, True, False, "bob@corp", "p:ss")
    assert parse_smtp_url("smtps://mail").port == 465
    with pytest.raises(ValueError, match="unknown option"):
        parse_smtp_url("smtp://mail?tls=1")
