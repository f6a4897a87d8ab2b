"""Statements marked `prepared` are planned once per connection (app.platform.prepared), against
real PostgreSQL: the same answers as text, one PREPARE per connection, none when turned off."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.extensions import db
from app.jobs.runner import run_job
from app.jobs.service import create_job
from app.models import Job
from app.platform import prepared
from tests.support.statements import statements_sent

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
    """A job's four statements (its creation; its claim and what that announces; its completion
    with what that announces) are EXECUTEs of prepared statements, whichever pooled connection
    each transaction had."""
    user_id = uuid.UUID(user["id"])
    with statements_sent(db.engine, this_thread_only=True) as sent:  # not the watchdog's heartbeats
        job, created = create_job(user_id, "noop", {}, {"startAfter": 3600})  # no worker of the session hears of it
        assert created
        db.session.execute(update(Job).where(Job.id == job.id).values(next_attempt_at=None))  # due, in this transaction
        assert run_job(str(job.id), "test-worker@localhost") == "completed"
    executed = [statement for statement in sent if statement.startswith("EXECUTE hot_")]
    as_text = [statement for statement in sent if not statement.startswith(("EXECUTE hot_", "PREPARE hot_"))]
    assert len(executed) == 4, sent
    assert not [statement for statement in as_text if "INSERT INTO jobs" in statement or "SET status" in statement]


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


# What `prepared.execute` sends straight on the cursor: typed parameters, a literal, a NULL.
ON_THE_CURSOR = (
    text("SELECT CAST(:number AS int) + 1 AS answer, CAST(:document AS jsonb) -> 'a' AS inner, '100%' AS sign")
    .bindparams(bindparam("document", type_=JSONB))
    .execution_options(prepared=True)
)


def test_on_the_cursor_a_statement_answers_as_sqlalchemy_does(ctx):
    with statements_sent(db.engine) as sent:
        [row] = prepared.execute(db.session.connection(), ON_THE_CURSOR, {"number": 41, "document": {"a": [1]}})
    assert row == (42, [1], "100%") and row.answer == 42 and row._asdict()["sign"] == "100%"
    assert db.session.execute(ON_THE_CURSOR, {"number": 41, "document": {"a": [1]}}).one() == tuple(row)
    assert any(statement.startswith("EXECUTE hot_") for statement in sent)  # the events still fire
    assert any("AS answer" in statement for statement in held_statements())


def test_on_the_cursor_a_core_statement_binds_its_own_literals(ctx, user):
    job, _ = create_job(uuid.UUID(user["id"]), "noop", {}, {"startAfter": 3600})
    statement = select(Job.id, Job.status).where(Job.id == bindparam("job_id"), Job.status == "queued")
    assert prepared.execute(db.session.connection(), statement, {"job_id": job.id}) == [(job.id, "queued")]


def test_on_the_cursor_errors_are_sqlalchemys(ctx, user):
    statement = text("INSERT INTO users (id, email, password_hash) VALUES (:id, :email, 'x')")
    with pytest.raises(IntegrityError):  # the same email again: what callers catch
        prepared.execute(db.session.connection(), statement, {"id": uuid.uuid4(), "email": user["email"]})
    db.session.rollback()


def test_on_the_cursor_an_expanding_in_list_is_refused(ctx):
    statement = select(Job.id).where(Job.status.in_(["queued", "active"]))
    with pytest.raises(ValueError, match="expanding"):
        prepared.execute(db.session.connection(), statement, {})


def test_on_the_cursor_turned_off_goes_as_text(database):
    app = create_app({"DATABASE_PREPARED_STATEMENTS": False})
    with app.app_context():
        try:
            [row] = prepared.execute(db.session.connection(), ON_THE_CURSOR, {"number": 1, "document": {"a": 2}})
            assert tuple(row) == (2, 2, "100%") and held_statements() == []
        finally:
            db.session.remove()
            db.engine.dispose()
