"""The floor of a tracked no-op job: the least a process can do to record and announce one, written
by hand with psycopg2 and redis-py against this project's schema, in one thread.

    python bench/floor.py [--jobs 2000] [--quick]

Three transactions of one statement each (autocommit: one round trip per transaction), each
followed by one Redis pipeline with its socket events:

- create: INSERT the job, its `job_queued` notification and its audit row (one CTE); then PUBLISH
  the `notification` and `job:status` events and LPUSH the job's broker message;
- claim: UPDATE ... RETURNING queued -> active, with its `job_started` notification and history
  row; then PUBLISH `notification` and `job:status`;
- complete: UPDATE active -> completed, with its `job_completed` notification, history row and
  email delivery row; then PUBLISH `notification`, `job:status` and `job:completed`.

The notifications honour the user's preferences inside the statement (a join), as the service's
do. Socket events are what python-socketio's RedisManager publishes on the service's channel (its
emit dict, JSON-encoded in python-socketio 5), so a web process would relay them. No metrics, no
webhooks, no digest window, no watchdog: that is the floor's point. bench/hot_path.py compares the
service's in-process hot path with it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import support  # noqa: E402

CHANNEL = "flask-socketio"  # app.platform.realtime.CHANNEL, spelled out: the floor imports no app code
WARMUP_JOBS = 50
# (title, message) of each notification, as app/jobs/announcements.py words them for a noop job.
TEXTS = {
    "job_queued": ("No-op queued", "No-op job has been queued"),
    "job_started": ("No-op started", "No-op job has started"),
    "job_completed": ("No-op completed", "No-op completed successfully"),
}

_CREATE = """
WITH j AS (
    INSERT INTO jobs (id, user_id, type, status, payload, priority, attempts, max_attempts, retry_delay,
                      retry_backoff, expire_in_seconds, created_at, enqueued_at)
    VALUES (%(id)s, %(user)s, 'noop', 'queued', '{}', 0, 0, 1, 0, false, 120, now(), now())
    RETURNING id, user_id
), n AS (
    INSERT INTO notifications (id, user_id, type, title, message, data, read, created_at, expires_at)
    SELECT %(nid)s, j.user_id, 'job_queued', %(title)s, %(message)s, %(data)s,
           false, now(), now() + interval '30 days'
    FROM j
    WHERE EXISTS (SELECT 1 FROM notification_preferences p WHERE p.user_id = j.user_id
                  AND p.notification_type = 'job_status' AND p.channel = 'in_app' AND p.enabled)
    RETURNING created_at
), a AS (
    INSERT INTO audit_log (actor_id, action, target_type, target_id, details)
    SELECT j.user_id, 'job.created', 'job', j.id::text, '{"type": "noop"}' FROM j
)
SELECT (SELECT created_at FROM n)
"""

_CLAIM = """
WITH j AS (
    UPDATE jobs SET status = 'active', attempts = attempts + 1, started_at = coalesce(started_at, now()),
                    heartbeat_at = now(), worker = %(worker)s, next_attempt_at = NULL, error = NULL
    WHERE id = %(id)s AND status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= now())
          AND blocked_by IS NULL
    RETURNING id, user_id, attempts, progress
), n AS (
    INSERT INTO notifications (id, user_id, type, title, message, data, read, created_at, expires_at)
    SELECT %(nid)s, j.user_id, 'job_started', %(title)s, %(message)s, %(data)s,
           false, now(), now() + interval '30 days'
    FROM j
    WHERE j.attempts = 1 AND EXISTS (SELECT 1 FROM notification_preferences p WHERE p.user_id = j.user_id
                  AND p.notification_type = 'job_status' AND p.channel = 'in_app' AND p.enabled)
    RETURNING created_at
), e AS (
    INSERT INTO job_events (job_id, kind, attempt, progress) SELECT id, 'started', attempts, progress FROM j
)
SELECT j.attempts, (SELECT created_at FROM n) FROM j
"""

_COMPLETE = """
WITH j AS (
    UPDATE jobs SET status = 'completed', result = '{"ok": true}', completed_at = now(), error = NULL
    WHERE id = %(id)s AND status = 'active' AND attempts = %(attempt)s
    RETURNING id, user_id, attempts, progress
), n AS (
    INSERT INTO notifications (id, user_id, type, title, message, data, read, created_at, expires_at)
    SELECT %(nid)s, j.user_id, 'job_completed', %(title)s, %(message)s, %(data)s,
           false, now(), now() + interval '30 days'
    FROM j
    WHERE EXISTS (SELECT 1 FROM notification_preferences p WHERE p.user_id = j.user_id
                  AND p.notification_type = 'job_status' AND p.channel = 'in_app' AND p.enabled)
    RETURNING created_at
), e AS (
    INSERT INTO job_events (job_id, kind, attempt, progress) SELECT id, 'completed', attempts, progress FROM j
), m AS (
    INSERT INTO email_deliveries (id, user_id, notification_type, recipient, subject, message, data, status,
                                  attempts)
    SELECT %(mid)s, j.user_id, 'job_completed', u.email, %(title)s, %(message)s, %(data)s, 'pending', 0
    FROM j JOIN users u ON u.id = j.user_id
    WHERE EXISTS (SELECT 1 FROM notification_preferences p WHERE p.user_id = j.user_id
                  AND p.notification_type = 'job_status' AND p.channel = 'email' AND p.enabled)
)
SELECT j.attempts, (SELECT created_at FROM n) FROM j
"""


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


class Floor:
    """The hand-written hot path on one connection to PostgreSQL and one to Redis."""

    def __init__(self, database_url: str, redis_url: str, public_url: str = "http://localhost:5000") -> None:
        import psycopg2
        import redis

        self.db = psycopg2.connect(database_url)
        self.db.autocommit = True  # one statement is one transaction: one round trip each
        self.cursor = self.db.cursor()
        self.redis = redis.Redis.from_url(redis_url)
        self.public_url = public_url
        self.host_id = uuid.uuid4().hex

    def close(self) -> None:
        self.cursor.close()
        self.db.close()
        self.redis.close()

    # ------------------------------------------------------------------ the three transitions

    def create(self, user_id: uuid.UUID) -> str:
        job_id, notification_id = str(uuid.uuid4()), str(uuid.uuid4())
        data = self._data(job_id)
        params = {"id": job_id, "user": str(user_id), "nid": notification_id, "data": data, **self._texts("job_queued")}
        self.cursor.execute(_CREATE, params)
        (created_at,) = self.cursor.fetchone()
        pipe = self.redis.pipeline(transaction=False)
        self._notification(pipe, user_id, notification_id, "job_queued", data, created_at)
        self._event(pipe, "job:status", {"jobId": job_id, "status": "queued", "progress": None}, f"job:{job_id}")
        pipe.lpush("jobs", self._broker_message(job_id))
        pipe.execute()
        return job_id

    def claim(self, user_id: uuid.UUID, job_id: str, worker: str) -> int:
        notification_id = str(uuid.uuid4())
        data = self._data(job_id)
        params = {"id": job_id, "worker": worker, "nid": notification_id, "data": data, **self._texts("job_started")}
        self.cursor.execute(_CLAIM, params)
        attempt, created_at = self.cursor.fetchone()
        pipe = self.redis.pipeline(transaction=False)
        self._notification(pipe, user_id, notification_id, "job_started", data, created_at)
        self._event(pipe, "job:status", {"jobId": job_id, "status": "active", "progress": None}, f"job:{job_id}")
        pipe.execute()
        return attempt

    def complete(self, user_id: uuid.UUID, job_id: str, attempt: int) -> None:
        notification_id, delivery_id = str(uuid.uuid4()), str(uuid.uuid4())
        data = self._data(job_id)
        params = {"id": job_id, "attempt": attempt, "nid": notification_id, "mid": delivery_id, "data": data}
        self.cursor.execute(_COMPLETE, {**params, **self._texts("job_completed")})
        _attempt, created_at = self.cursor.fetchone()
        room = f"job:{job_id}"
        pipe = self.redis.pipeline(transaction=False)
        self._notification(pipe, user_id, notification_id, "job_completed", data, created_at)
        self._event(pipe, "job:status", {"jobId": job_id, "status": "completed", "progress": None}, room)
        self._event(pipe, "job:completed", {"jobId": job_id, "result": {"ok": True}}, room)
        pipe.execute()

    # ------------------------------------------------------------------ what goes to Redis

    def _data(self, job_id: str) -> str:
        return json.dumps({"jobId": job_id, "jobType": "noop", "url": f"{self.public_url}/jobs/{job_id}"})

    @staticmethod
    def _texts(kind: str) -> dict:
        title, message = TEXTS[kind]
        return {"title": title, "message": message}

    def _notification(self, pipe, user_id, notification_id, kind, data, created_at) -> None:
        if created_at is None:  # the preference is off: no row, no event
            return
        title, message = TEXTS[kind]
        event = {
            "id": notification_id,
            "type": kind,
            "title": title,
            "message": message,
            "data": json.loads(data),
            "read": False,
            "readAt": None,
            "createdAt": _iso(created_at),
        }
        self._event(pipe, "notification", event, f"user:{user_id}")

    def _event(self, pipe, event: str, data: dict, room: str) -> None:
        """What python-socketio's RedisManager.emit publishes for one event to one room."""
        message = {
            "method": "emit",
            "event": event,
            "data": [data],
            "binary": False,
            "namespace": "/",
            "room": room,
            "skip_sid": None,
            "callback": None,
            "host_id": self.host_id,
        }
        pipe.publish(CHANNEL, json.dumps(message))

    def _broker_message(self, job_id: str) -> str:
        """A Celery protocol 2 message for `jobs.noop`, as kombu's Redis transport stores it."""
        body = base64.b64encode(json.dumps([[job_id], {}, {"callbacks": None, "errbacks": None}]).encode()).decode()
        return json.dumps(
            {
                "body": body,
                "content-encoding": "utf-8",
                "content-type": "application/json",
                "headers": {
                    "lang": "py",
                    "task": "jobs.noop",
                    "id": job_id,
                    "root_id": job_id,
                    "parent_id": None,
                    "group": None,
                    "retries": 0,
                    "eta": None,
                    "expires": None,
                    "timelimit": [150, 120],
                    "argsrepr": repr([job_id]),
                    "kwargsrepr": "{}",
                    "origin": "floor",
                    "ignore_result": True,
                },
                "properties": {
                    "correlation_id": job_id,
                    "reply_to": "",
                    "delivery_mode": 2,
                    "delivery_info": {"exchange": "jobs", "routing_key": "jobs"},
                    "priority": 0,
                    "body_encoding": "base64",
                    "delivery_tag": str(uuid.uuid4()),
                },
            }
        )


def run_one(floor: Floor, user_id: uuid.UUID, worker: str) -> tuple[float, float]:
    """One job through the floor: (CPU seconds of create, of claim + complete)."""
    began = time.process_time()
    job_id = floor.create(user_id)
    created = time.process_time()
    attempt = floor.claim(user_id, job_id, worker)
    floor.complete(user_id, job_id, attempt)
    return created - began, time.process_time() - created


def measure(user_id: uuid.UUID, jobs: int, database_url: str, redis_url: str, warmup: int = WARMUP_JOBS) -> dict:
    """CPU seconds per job of the floor, per phase, over `jobs` jobs after `warmup` ones."""
    floor = Floor(database_url, redis_url)
    try:
        for _ in range(warmup):
            run_one(floor, user_id, "floor@bench")
        create = run = 0.0
        for _ in range(jobs):
            a, b = run_one(floor, user_id, "floor@bench")
            create, run = create + a, run + b
    finally:
        floor.close()
    return {"create": create / jobs, "run": run / jobs}


def bench_user(app) -> tuple[uuid.UUID, str]:
    """A fresh user of the service (its default preferences come from the database's trigger)."""
    from app.users.service import create_user

    with app.app_context():
        user = create_user(f"bench-{time.time_ns()}@example.com", "benchmark-password")
        return user.id, user.email


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="100 jobs")
    args = parser.parse_args()
    jobs = 100 if args.quick else args.jobs
    with support.service_environment(private_redis=True) as app:
        user_id, _ = bench_user(app)
        per_job = measure(user_id, jobs, support.libpq_url(os.environ["DATABASE_URL"]), os.environ["REDIS_URL"])
    total = per_job["create"] + per_job["run"]
    print(f"floor CPU per job over {jobs:,} jobs: {total * 1e3:.3f} ms")
    print(f"  create {per_job['create'] * 1e3:.3f} ms, claim + complete {per_job['run'] * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
