"""Schedules ticked by real beat processes on real Postgres: one job per tick with two beats,
one catch-up job after beat was down, and what happens to a schedule's jobs and its state when
they run, fail, lose their connection or outlive their schedule."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Job
from tests.schedules.conftest import start_beat
from tests.support import processes
from tests.support.api import register, wait_for_job

pytestmark = pytest.mark.slow
EVERY_TWO_SECONDS = "*/2 * * * * *"
TICK = timedelta(seconds=2)


def create_schedule(client, headers, **overrides) -> dict:
    body = {"name": "probe", "type": "test-probe", "payload": {"steps": 1}, "cron": EVERY_TWO_SECONDS}
    body.update(overrides)
    response = client.post("/api/schedules", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pause(client, headers, schedule_id: str) -> None:
    response = client.patch(f"/api/schedules/{schedule_id}", json={"enabled": False}, headers=headers)
    assert response.status_code == 200


def jobs_of(sched, schedule_id: str) -> list[Job]:
    """The schedule's jobs by tick, read straight from the database (detached rows)."""
    with sched.app.app_context():
        query = select(Job).where(Job.schedule_id == schedule_id).order_by(Job.scheduled_for)
        rows = list(db.session.scalars(query).all())
        db.session.expunge_all()
    return rows


def wait_for_jobs(sched, schedule_id: str, count: int, timeout: float = 30) -> list[Job]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = jobs_of(sched, schedule_id)
        if len(jobs) >= count:
            return jobs
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} jobs in {timeout}s: {len(jobs_of(sched, schedule_id))}")


def test_two_beats_create_exactly_one_job_per_tick(sched):
    account = register(sched.client)
    beats = [start_beat(sched.env), start_beat(sched.env)]
    try:
        schedule = create_schedule(sched.client, account["headers"])
        time.sleep(24)
        pause(sched.client, account["headers"], schedule["id"])
    finally:
        for beat in beats:
            processes.stop(beat)
    ticks = [job.scheduled_for for job in jobs_of(sched, schedule["id"])]
    assert len(ticks) >= 10, ticks
    assert all(tick.microsecond == 0 and tick.second % 2 == 0 for tick in ticks)
    # Every tick of the run has its job, and only one: no gap, no repeat.
    assert [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)] == [TICK] * (len(ticks) - 1)
    logs = [processes.read_log(beat) for beat in beats]
    fired = [log.count(f"schedule {schedule['id']}: job ") for log in logs]
    assert sum(fired) == len(ticks), fired
    assert not any("Traceback" in log for log in logs)


def test_ticks_missed_while_beat_was_down_are_caught_up_once(sched):
    account = register(sched.client)
    beat = start_beat(sched.env)
    schedule = create_schedule(sched.client, account["headers"])
    try:
        before = wait_for_jobs(sched, schedule["id"], 2)
    finally:
        processes.stop(beat, sig=signal.SIGKILL)
    time.sleep(7)  # three or four ticks pass with no beat at all
    restarted_at = datetime.now(UTC)
    beat = start_beat(sched.env)
    try:
        wait_for_jobs(sched, schedule["id"], len(before) + 3)
        pause(sched.client, account["headers"], schedule["id"])
    finally:
        processes.stop(beat)
    jobs = jobs_of(sched, schedule["id"])
    last_before = max(job.scheduled_for for job in jobs if job.created_at < restarted_at)
    late = [job for job in jobs if job.created_at > restarted_at and job.scheduled_for < restarted_at]
    assert len(late) == 1, [(j.scheduled_for, j.created_at) for j in late]
    catch_up = late[0]
    assert catch_up.scheduled_for == last_before + TICK  # the first missed tick
    on_time = [job.scheduled_for for job in jobs if job.scheduled_for > catch_up.scheduled_for]
    assert on_time[0] > restarted_at and on_time[0] - catch_up.scheduled_for >= 3 * TICK
    assert [b - a for a, b in zip(on_time, on_time[1:], strict=False)] == [TICK] * (len(on_time) - 1)


def test_a_failing_schedule_stays_enabled_and_a_paused_one_stops(sched, sched_worker):
    account = register(sched.client)
    headers = account["headers"]
    beat = start_beat(sched.env)
    try:
        schedule = create_schedule(sched.client, headers, payload={"failAttempts": 1, "failWith": "permanent"})
        jobs = wait_for_jobs(sched, schedule["id"], 2)
        for job in jobs[:2]:
            assert wait_for_job(sched.client, headers, str(job.id))["status"] == "failed"
        assert sched.client.get(f"/api/schedules/{schedule['id']}", headers=headers).get_json()["enabled"] is True
        pause(sched.client, headers, schedule["id"])
        time.sleep(0.5)  # a tick that held the row when the pause came has logged by now
        paused_count = len(jobs_of(sched, schedule["id"]))
        log_before = len(processes.read_log(beat))
        time.sleep(5)
        assert len(jobs_of(sched, schedule["id"])) == paused_count
        # Idle, the schedule loop says nothing at INFO (it polls every second).
        assert "app.schedules" not in processes.read_log(beat)[log_before:]
        resumed = sched.client.patch(f"/api/schedules/{schedule['id']}", json={"enabled": True}, headers=headers)
        assert datetime.fromisoformat(resumed.get_json()["nextRunAt"]) > datetime.now(UTC) - TICK
        wait_for_jobs(sched, schedule["id"], paused_count + 1)
        pause(sched.client, headers, schedule["id"])
    finally:
        processes.stop(beat)
    notifications = sched.client.get("/api/notifications?limit=100", headers=headers).get_json()["data"]
    assert any(n["type"] == "job_failed" for n in notifications)
    # The two ticks the pause skipped were not caught up on resume.
    ticks = [job.scheduled_for for job in jobs_of(sched, schedule["id"])]
    assert ticks[paused_count] - ticks[paused_count - 1] >= 2 * TICK


def test_a_schedule_whose_connection_is_gone_is_disabled_with_a_system_notification(sched, tmp_path):
    account = register(sched.client)
    headers = account["headers"]
    connection = sched.client.post(
        "/api/connections", json={"name": "gone", "url": f"sqlite:///{tmp_path / 'gone.db'}"}, headers=headers
    ).get_json()
    schedule = create_schedule(
        sched.client, headers, name="Nightly rebuild", type="schema-rebuild", payload={"connectionId": connection["id"]}
    )
    assert sched.client.delete(f"/api/connections/{connection['id']}", headers=headers).status_code == 200
    beat = start_beat(sched.env)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            body = sched.client.get(f"/api/schedules/{schedule['id']}", headers=headers).get_json()
            if not body["enabled"]:
                break
            time.sleep(0.2)
    finally:
        processes.stop(beat)
    assert body["enabled"] is False and body["nextRunAt"] is None
    assert jobs_of(sched, schedule["id"]) == []
    notifications = sched.client.get("/api/notifications", headers=headers).get_json()["data"]
    system = [n for n in notifications if n["type"] == "system"]
    assert len(system) == 1 and "Nightly rebuild" in system[0]["message"]
    assert "connection no longer exists" in system[0]["message"]
    # Resuming it is refused while the connection is still gone, as creating it would be.
    resumed = sched.client.patch(f"/api/schedules/{schedule['id']}", json={"enabled": True}, headers=headers)
    assert resumed.status_code == 404 and "payload" in resumed.get_json()["error"]["details"]


def test_run_now_and_delete_while_its_job_runs_lets_the_job_finish(sched, sched_worker):
    account = register(sched.client)
    headers = account["headers"]
    schedule = create_schedule(sched.client, headers, cron="0 3 1 1 *", payload={"steps": 12, "stepSeconds": 0.25})
    response = sched.client.post(f"/api/schedules/{schedule['id']}/run", headers=headers)
    assert response.status_code == 202
    job_id = response.get_json()["jobId"]
    wait_for_job(sched.client, headers, job_id, statuses=("active",), timeout=30)
    assert sched.client.delete(f"/api/schedules/{schedule['id']}", headers=headers).status_code == 204
    job = wait_for_job(sched.client, headers, job_id, timeout=30)
    assert job["status"] == "completed" and job["progress"]["current"] == 12
    assert job["scheduleId"] is None
    assert sched.client.get(f"/api/schedules/{schedule['id']}", headers=headers).status_code == 404
