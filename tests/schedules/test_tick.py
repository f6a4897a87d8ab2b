"""The tick in this process, on the schedules' own database (no beat runs against it here):
a tick handled twice still makes one job, and a schedule whose previous run still waits under
a singletonKey lets the tick pass without a second job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.jobs.state import JobStatus
from app.models import Job
from app.schedules import tick, ticker
from app.schedules.models import Schedule
from tests.support.api import register

YEARLY = "0 0 1 1 *"


def make_due(schedule_id: str, when: datetime) -> None:
    db.session.execute(update(Schedule).where(Schedule.id == schedule_id).values(next_run_at=when))
    db.session.commit()


def jobs_of(schedule_id: str) -> list[Job]:
    db.session.expire_all()
    return list(db.session.scalars(select(Job).where(Job.schedule_id == schedule_id).order_by(Job.created_at)))


def create_schedule(sched, **overrides) -> str:
    account = register(sched.client)
    body = {"name": "t", "type": "test-probe", "payload": {"steps": 1}, "cron": YEARLY, **overrides}
    response = sched.client.post("/api/schedules", json=body, headers=account["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_tick_handled_twice_creates_one_job(sched):
    schedule_id = create_schedule(sched)
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    with sched.app.app_context():
        make_due(schedule_id, due)
        assert tick.fire_next_due() is True
        # As if another process had not seen the advance: the same tick is due again.
        make_due(schedule_id, due)
        assert tick.fire_next_due() is True
        assert tick.fire_next_due() is False  # moved past now despite the refused second job
        jobs = jobs_of(schedule_id)
        assert [job.scheduled_for for job in jobs] == [due]
        next_run = db.session.get(Schedule, schedule_id).next_run_at
        assert next_run == datetime(datetime.now(UTC).year + 1, 1, 1, tzinfo=UTC)
        db.session.rollback()


def test_a_waiting_singleton_job_lets_the_tick_pass_without_a_second_job(sched):
    schedule_id = create_schedule(sched, options={"singletonKey": f"nightly-{datetime.now(UTC).timestamp()}"})
    first, second = (datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=s) for s in (20, 10))
    with sched.app.app_context():
        make_due(schedule_id, first)
        assert tick.fire_next_due() is True
        make_due(schedule_id, second)  # the next tick comes while the first job still waits
        assert tick.fire_next_due() is True
        assert tick.fire_next_due() is False
        jobs = jobs_of(schedule_id)
        assert [(job.scheduled_for, job.status) for job in jobs] == [(first, JobStatus.QUEUED)]
        assert db.session.get(Schedule, schedule_id).next_run_at > datetime.now(UTC)
        db.session.rollback()


def test_run_pass_sleeps_until_the_next_due_schedule_at_most_a_second(sched):
    schedule_id = create_schedule(sched)
    with sched.app.app_context():
        make_due(schedule_id, datetime.now(UTC) + timedelta(seconds=0.4))
    delay = ticker.run_pass(sched.app)
    assert 0.05 <= delay <= 0.45
    with sched.app.app_context():
        db.session.execute(update(Schedule).values(enabled=False, next_run_at=None))
        db.session.commit()
    assert ticker.run_pass(sched.app) == ticker.POLL_SECONDS
