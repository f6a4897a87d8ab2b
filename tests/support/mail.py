"""Email as the tests see it without opening a mailbox: the broker hand-off recorded and run
in-process, and the deliveries the notification service recorded in PostgreSQL."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from app.extensions import db
from app.models import EmailDelivery
from workers.email import send_email

SEND_EMAIL = "notifications.send_email"


class TaskRecorder:
    """Stands in for the Celery app's `send_task`: keeps the tasks instead of publishing them."""

    def __init__(self):
        self.calls: list[tuple[str, list, str]] = []

    def send_task(self, name, args=None, queue=None, **options):
        # Arguments JSON round-tripped, as the broker would hand them to a worker.
        self.calls.append((name, json.loads(json.dumps(args)), queue))

    def email_tasks(self) -> list[list]:
        assert all(queue == "email" for name, _, queue in self.calls if name == SEND_EMAIL)
        return [args for name, args, _ in self.calls if name == SEND_EMAIL]

    def run_emails(self) -> list[str]:
        """Run every recorded email task as a worker would (retries run at once); their results."""
        results = [send_email.apply(args=args).get() for args in self.email_tasks()]
        self.calls.clear()
        return results


def record_tasks(app, monkeypatch, recorder: TaskRecorder) -> TaskRecorder:
    """Hand the app's tasks to `recorder` for this test: the session's shared worker consumes the
    `email` queue too (without SMTP_URL) and would otherwise race the test for every message."""
    monkeypatch.setitem(app.extensions, "celery", recorder)
    # One task per email, handed over at once: the tests run each recorded task themselves.
    monkeypatch.setitem(app.config, "EMAIL_BATCH_SECONDS", 0)
    return recorder


def email_subjects(app, user_id: str, notification_type: str) -> list[str]:
    """The subjects of the user's recorded emails of one type, read while no app context is held."""
    with app.app_context():
        rows = db.session.scalars(
            select(EmailDelivery.subject).where(
                EmailDelivery.user_id == uuid.UUID(user_id), EmailDelivery.notification_type == notification_type
            )
        ).all()
        db.session.remove()
    return list(rows)
