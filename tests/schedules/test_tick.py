"""The tick in this process, on the schedules' own database (no beat runs against it here):
a tick handled twice still makes one job, and a schedule whose previous run still waits under
a singletonKey lets the tick pass without a second job. What a tick tells the broker and the
browser goes out once its transaction commits, and nothing of a refused tick does."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.jobs.state import JobStatus
from app.jobs.sweeps import broker_backlog
from app.models import Job
from app.platform.realtime import CHANNEL, job_room, user_room
from app.platform.redis_client import get_redis
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


def create_schedule(sched, account=None, **overrides) -> str:
    account = account or register(sched.client)
    body = {"name": "t", "type": "test-probe", "payload": {"steps": 1}, "cron": YEARLY, **overrides}
    response = sched.client.post("/api/schedules", json=body, headers=account["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@contextmanager
def socket_events():
    """The socket events published to the web processes, as (event, room, data): call the
    yielded function with the rooms of interest to collect what reached them since the last call.
    (Redis pub/sub spans its databases: other processes' events on this server arrive too.)"""
    pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    pubsub.get_message(timeout=1)  # the subscription is in place before anything is published

    def collect(*rooms: str) -> list[tuple[str, str, dict]]:
        events = []
        while (message := pubsub.get_message(timeout=0.5)) is not None:
            body = json.loads(message["data"])
            if body.get("room") in rooms:
                events.append((body["event"], body["room"], body["data"][0]))  # data: the emit's arguments
        return events

    try:
        yield collect
    finally:
        pubsub.close()


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


def test_a_tick_hands_its_job_over_after_the_commit_and_a_refused_tick_hands_over_nothing(sched):
    schedule_id = create_schedule(sched)
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    with sched.app.app_context(), socket_events() as collect:
        backlog = broker_backlog()  # no worker consumes the schedules' own Redis here
        make_due(schedule_id, due)
        assert tick.fire_next_due() is True
        [job] = jobs_of(schedule_id)
        rooms = (job_room(job.id), user_room(job.user_id))
        events = collect(*rooms)
        # A new job's room has no subscriber yet (its id was not known): only its owner hears of it.
        assert [room for _, room, _ in events] == [user_room(job.user_id)]
        queued = [data for event, room, data in events if event == "notification" and room == user_room(job.user_id)]
        assert [data["type"] for data in queued] == ["job_queued"]
        assert broker_backlog() == backlog + 1
        # The same tick again: the unique tick key refuses the job and what it staged is dropped.
        make_due(schedule_id, due)
        assert tick.fire_next_due() is True
        assert collect(*rooms) == []
        assert broker_backlog() == backlog + 1
        assert [job.id for job in jobs_of(schedule_id)] == [job.id]
        db.session.rollback()


def test_a_schedule_that_cannot_create_its_job_is_disabled_and_its_owner_told_once(sched, tmp_path):
    account = register(sched.client)
    connection = sched.client.post(
        "/api/connections",
        json={"name": "gone", "url": f"sqlite:///{tmp_path / 'gone.db'}"},
        headers=account["headers"],
    ).get_json()
    schedule_id = create_schedule(
        sched, account, name="Nightly", type="schema-rebuild", payload={"connectionId": connection["id"]}
    )
    assert sched.client.delete(f"/api/connections/{connection['id']}", headers=account["headers"]).status_code == 200
    with sched.app.app_context(), socket_events() as collect:
        backlog = broker_backlog()
        make_due(schedule_id, datetime.now(UTC) - timedelta(seconds=1))
        assert tick.fire_next_due() is True
        events = collect(user_room(account["id"]))
        assert tick.fire_next_due() is False  # disabled: not due again
        schedule = db.session.get(Schedule, schedule_id)
        assert schedule.enabled is False and schedule.next_run_at is None
        assert jobs_of(schedule_id) == []
        assert broker_backlog() == backlog
        db.session.rollback()
    notifications = [(room, data) for event, room, data in events if event == "notification"]
    assert len(notifications) == 1 and notifications[0][1]["type"] == "system"
    data = notifications[0][1]
    assert "Nightly" in data["message"]
    assert "connection no longer exists" in data["message"]
    listed = sched.client.get("/api/notifications", headers=account["headers"]).get_json()["data"]
    assert [n["id"] for n in listed if n["type"] == "system"] == [data["id"]]
