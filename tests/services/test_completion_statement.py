"""A completion and its announcement are one statement (app.jobs.state.complete), against real
PostgreSQL: what it writes is what the job's own row says, and a completion that lost its
attempt leaves none of it behind."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, update

from app.connections.crypto import encrypt
from app.extensions import db
from app.jobs import announcements, state
from app.jobs.service import create_job
from app.models import Job, JobEvent, Notification
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.support.statements import statements_sent

WORKER = "test-worker@localhost"


@pytest.fixture()
def claimed(ctx, user):
    """A noop job of `user` claimed by a worker (committed), with a webhook endpoint that wants
    every event. No worker of the session hears of the job: it was created for later."""
    user_id = uuid.UUID(user["id"])
    endpoint = WebhookEndpoint(
        user_id=user_id, url="https://127.0.0.1/hook", events=["*"], secret_encrypted=encrypt("whsec_test")
    )
    db.session.add(endpoint)
    job, _ = create_job(user_id, "noop", {}, {"startAfter": 3600})
    db.session.execute(update(Job).where(Job.id == job.id).values(next_attempt_at=None))
    row = state.claim(job.id, WORKER)
    db.session.commit()
    return row


def completed_rows(job_id: uuid.UUID) -> tuple[list, list, list]:
    """(job_completed notifications, completed history rows, job.completed deliveries) of the job."""
    notices = db.session.scalars(select(Notification).where(Notification.type == "job_completed")).all()
    notices = [n for n in notices if n.data.get("jobId") == str(job_id)]
    kinds = db.session.scalars(select(JobEvent.kind).where(JobEvent.job_id == job_id)).all()
    deliveries = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_type == "job.completed")).all()
    deliveries = [d for d in deliveries if json.loads(d.body)["data"]["job"]["id"] == str(job_id)]
    return notices, [kind for kind in kinds if kind == "completed"], deliveries


def test_a_completion_and_its_announcement_are_one_statement_that_matches_the_row(claimed):
    def complete():
        return state.complete(claimed, claimed.attempts, {"ok": True}, None, announce=announcements.stage_completed)

    with statements_sent(db.engine) as sent:
        done = complete()
    # A connection prepares a statement once: that is not the statement's cost.
    sent = [statement for statement in sent if not statement.startswith("PREPARE ")]
    sent = [statement for statement in sent if "pg_prepared_statements" not in statement]
    assert done is not None and len(sent) == 1, sent
    db.session.commit()

    job = db.session.get(Job, claimed.id)
    assert (job.status, job.result, job.completed_at) == ("completed", {"ok": True}, done.completed_at)
    notices, history, deliveries = completed_rows(job.id)
    assert len(notices) == 1 and len(history) == 1 and len(deliveries) == 1
    body = json.loads(deliveries[0].body)["data"]["job"]
    assert body == json.loads(json.dumps(announcements.serialize_job(job)))  # what the row itself says


def test_a_completion_that_lost_its_attempt_leaves_no_announcement(claimed):
    assert state.cancel(claimed.id) is not None  # the user cancelled while it ran
    db.session.commit()

    done = state.complete(claimed, claimed.attempts, {"ok": True}, None, announce=announcements.stage_completed)
    assert done is None
    db.session.rollback()  # as the runner does

    assert db.session.get(Job, claimed.id).status == "cancelled"
    assert completed_rows(claimed.id) == ([], [], [])
