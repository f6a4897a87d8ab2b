"""Statements marked `prepared` are planned once per connection (app.platform.prepared), against
real PostgreSQL: the same answers as text, one PREPARE per connection, none when turned off."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text, update

from app import create_app
from app.extensions import db
from app.jobs.runner import run_job
from app.jobs.service import create_job
from app.models import Job

ANSWER = text("SELECT CAST(:number AS int) + 1 AS answer, '100%' AS sign").execution_options(prepared=True)
HELD = text("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'hot\\_%'")


def held_statements() -> list[str]:
    """The hot statements prepared on the session's current connection."""
    return list(db.session.scalars(HELD))


def test_a_marked_statement_answers_as_text_does_and_is_prepared_once(ctx):
    assert db.session.execute(ANSWER, {"number": 41}).one() == (42, "100%")
    assert db.session.execute(ANSWER, {"number": 1}).one() == (2, "100%")
    prepared = [statement for statement in held_statements() if "AS answer" in statement]
    assert len(prepared) == 1 and "CAST($1 AS int)" in prepared[0]


def test_a_job_runs_on_prepared_statements(ctx, user):
    user_id = uuid.UUID(user["id"])
    job, created = create_job(user_id, "noop", {}, {"startAfter": 3600})  # no worker of the session hears of it
    assert created
    db.session.execute(update(Job).where(Job.id == job.id).values(next_attempt_at=None))  # due, in this transaction
    assert run_job(str(job.id), "test-worker@localhost") == "completed"
    statements = " ".join(held_statements())
    assert "INSERT INTO jobs" in statements and "UPDATE jobs SET status" in statements
    assert "INSERT INTO notifications" in statements  # the announcements


def test_turned_off_every_statement_goes_as_text(database):
    app = create_app({"DATABASE_PREPARED_STATEMENTS": False})
    with app.app_context():
        try:
            assert db.session.execute(ANSWER, {"number": 41}).one() == (42, "100%")
            assert held_statements() == []
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture()
def fresh_connection(ctx):
    """The session's connection as a new one: its prepared statements gone with the server session."""
    db.session.execute(text("DEALLOCATE ALL"))
    db.session.connection().invalidate()
    db.session.rollback()
    return ctx


def test_a_new_connection_prepares_again(fresh_connection):
    assert db.session.execute(ANSWER, {"number": 41}).one() == (42, "100%")
    assert any("AS answer" in statement for statement in held_statements())
