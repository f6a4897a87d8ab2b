"""Fault 2, the browser's side: a web process keeps relaying socket events after Redis was
stopped and started again (empty), without a restart, and its connected browsers need not
reconnect. Events travel worker -> Redis pub/sub -> web process -> socket, so the web process's
listener must notice the lost subscription and subscribe again on its own; and since pub/sub keeps
nothing for an absent subscriber, a job that finished before it did must still show as finished."""

from __future__ import annotations

import json
import os
import time
import uuid

import psycopg2
import requests

from tests.faults.harness import FAULT_ENV, Figures
from tests.sockets.clients import RecordingClient
from tests.support import processes
from tests.support.web import start_web

OUTAGE_SECONDS = 6


def test_web_process_relays_events_again_after_redis_comes_back(private_redis, database):
    env = {**FAULT_ENV, "REDIS_URL": private_redis.url}
    web = start_web(env, name="web-relay")
    worker = processes.start_worker(concurrency=1, name=f"relay-{uuid.uuid4().hex[:6]}", queues="jobs", env=env)
    beat = processes.start_beat(env=env)
    socket = RecordingClient(web.url)
    try:
        token = _register(web.url)
        socket.connect(token)
        socket.wait_for("authenticated", timeout=10)
        before = _run_job_and_wait_for_its_event(web.url, token, socket, timeout=30)
        # A job that will finish while Redis is down, so no event about it can ever be published.
        silent = _create_job(web.url, token, options={"startAfter": 3600})
        assert socket.call("subscribe:job", {"jobId": silent})["ok"] is True

        private_redis.stop()
        _finish_in_the_database(silent)
        time.sleep(OUTAGE_SECONDS)
        private_redis.start()
        back = time.monotonic()
        # The relay catches its sockets up from Postgres once it listens again.
        caught_up = socket.wait_for("job:completed", lambda data: data["jobId"] == silent, timeout=30)
        assert caught_up["result"] == {"finishedWhile": "Redis was down"}

        # Created at once: it may run and finish before the relay has subscribed again.
        first_after = _run_job_and_wait_for_its_event(web.url, token, socket, timeout=30)
        seconds_to_relay = round(time.monotonic() - back, 1)
        # Its hand-off went out at once: the web process's pooled Redis connections died with the
        # server, and a write on one is retried on a fresh connection instead of left to the sweep.
        assert "not handed to the broker" not in web.log(), web.log()[-2000:]
        # By now the relay is live again: this job's notification comes through it, not a catch-up.
        second_after = _run_job_and_wait_for_its_event(web.url, token, socket, timeout=30)
        notified = socket.wait_for("notification", lambda n: n["data"].get("jobId") == second_after, timeout=30)
        assert web.alive(), "the web process must ride out the outage"
        assert socket.connected, "the browser's socket must survive the outage"
    finally:
        socket.close()
        processes.stop(beat)
        processes.stop(worker)
        web.stop()

    Figures(
        f"Redis stopped {OUTAGE_SECONDS}s, socket relay",
        {"jobsFollowed": 4, "jobsSeenFinished": 4, "secondsToFirstEventAfter": seconds_to_relay, "webRestarts": 0},
    ).print()
    assert len({before, first_after, second_after}) == 3 and notified["type"].startswith("job_")


def _register(base: str) -> str:
    email = f"relay-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": "correct horse battery staple", "name": "Relay"}
    response = requests.post(f"{base}/api/auth/register", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["accessToken"]


def _create_job(base: str, token: str, options: dict | None = None) -> str:
    body = {"type": "test-probe", "payload": {"steps": 1}, "options": options or {}}
    created = requests.post(f"{base}/api/jobs", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert created.status_code == 202, created.text
    return created.json()["id"]


def _finish_in_the_database(job_id: str) -> None:
    """What a worker's completion leaves in Postgres, written while no event can be sent."""
    with psycopg2.connect(os.environ["DATABASE_URL"].replace("+psycopg2", "")) as conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE jobs SET status = 'completed', result = %s, started_at = now(), completed_at = now() WHERE id = %s",
            (json.dumps({"finishedWhile": "Redis was down"}), job_id),
        )
    conn.close()


def _run_job_and_wait_for_its_event(base: str, token: str, socket: RecordingClient, timeout: float) -> str:
    """Create a job through the web process (retrying a 503 while Redis comes back), subscribe
    to it over the socket, and wait for its `job:completed` event."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + timeout
    while True:
        created = requests.post(
            f"{base}/api/jobs", json={"type": "test-probe", "payload": {"steps": 1}}, headers=headers, timeout=10
        )
        if created.status_code == 202:
            break
        assert created.status_code == 503 and time.monotonic() < deadline, created.text
        time.sleep(0.5)
    job_id = created.json()["id"]
    while True:
        try:
            assert socket.call("subscribe:job", {"jobId": job_id})["ok"] is True
            break
        except AssertionError:
            raise
        except Exception:  # the acknowledgement can time out while the server reconnects
            assert time.monotonic() < deadline, "subscribe:job never answered"
    try:
        socket.wait_for(
            "job:completed", lambda data: data["jobId"] == job_id, timeout=max(1.0, deadline - time.monotonic())
        )
    except AssertionError as missing:
        job = requests.get(f"{base}/api/jobs/{job_id}", headers=headers, timeout=10).json()
        raise AssertionError(f"{missing}; the job is {job.get('status')}") from None
    return job_id
