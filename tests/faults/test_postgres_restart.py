"""Fault 3: PostgreSQL (a private embedded server) restarted under load. Requests during the
outage get 503 with Retry-After, never 500; once it is back everything works without restarting
the web app, the worker or beat, and no job is lost or completed twice."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from scripts import services
from tests.faults.harness import FAULT_ENV, Figures, check_exactly_once, create_jobs, job_rows, wait_all_final
from tests.support import processes
from tests.support.api import register

OUTAGE_SECONDS = 8
PAYLOAD = {"steps": 4, "stepSeconds": 0.25}
OPTIONS = {"retryLimit": 5, "retryDelay": 0}


@pytest.fixture()
def private_postgres(tmp_path):
    """An embedded PostgreSQL (pgserver, unix socket in its data folder) this test may restart."""
    pgdata = tmp_path / "pgdata"
    holder = {"service": services.start_embedded_postgres(pgdata, "faults")}

    def restart():
        holder["service"] = services.start_embedded_postgres(pgdata, "faults")

    holder["restart"] = restart
    yield holder
    holder["service"].stop()


@pytest.fixture()
def pg_fault_app(private_postgres, private_redis):
    url = private_postgres["service"].url.replace("postgresql://", "postgresql+psycopg2://", 1)
    app = create_app({"REDIS_URL": private_redis.url, "SQLALCHEMY_DATABASE_URI": url})
    app.config["TESTING"] = True
    env = {**FAULT_ENV, "REDIS_URL": private_redis.url, "DATABASE_URL": url}
    with app.app_context():
        upgrade()
        client = app.test_client()
        account = register(client, email=f"pg-{uuid.uuid4().hex[:8]}@example.com")
        yield app, client, env, account

        db.session.remove()
        db.engine.dispose()


def test_postgres_restart_is_503_and_nothing_is_lost(pg_fault_app, private_postgres):
    app, client, env, account = pg_fault_app
    headers = account["headers"]
    beat = processes.start_beat(env=env)
    worker = processes.start_worker(
        concurrency=2, name=f"pg-out-{uuid.uuid4().hex[:6]}", queues="jobs,maintenance", env=env
    )
    during: Counter = Counter()
    missing_retry_after = 0
    started = time.monotonic()
    try:
        before = create_jobs(client, headers, 20, PAYLOAD, OPTIONS)
        deadline = time.monotonic() + 20
        while not any(status == "active" for status, _, _ in job_rows(before).values()):
            assert time.monotonic() < deadline, "no job started before the outage"
            time.sleep(0.1)

        private_postgres["service"].stop()
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < outage_ends:
            responses = [
                client.get("/api/jobs", headers=headers),
                client.get(f"/api/jobs/{before[0]}", headers=headers),
                client.post("/api/jobs", json={"type": "test-probe", "payload": PAYLOAD}, headers=headers),
                # Login is left out: test_outage_answers.py shows the outage locks the account out.
            ]
            for response in responses:
                during[response.status_code] += 1
                if response.status_code == 503 and not response.headers.get("Retry-After"):
                    missing_retry_after += 1
            time.sleep(0.5)
        private_postgres["restart"]()

        back_at = time.monotonic()
        after_restart: Counter = Counter()
        while (status := client.get("/api/jobs", headers=headers).status_code) != 200:
            after_restart[status] += 1
            assert time.monotonic() - back_at < 15, f"API not back 15s after PostgreSQL: {after_restart}"
            time.sleep(0.2)
        recovered_in = round(time.monotonic() - back_at, 1)
        after = create_jobs(client, headers, 5, PAYLOAD, OPTIONS)
        job_ids = before + after
        rows = wait_all_final(job_ids, timeout=120)
        assert worker.poll() is None and beat.poll() is None, "worker and beat must ride out the restart"
    finally:
        processes.stop(beat)
        processes.stop(worker)

    figures = check_exactly_once(job_ids, rows)
    figures.update(
        requestsDuringOutage=sum(during.values()),
        statusCounts=dict(sorted(during.items())),
        http500=sum(count for status, count in {**during, **after_restart}.items() if status >= 500 and status != 503),
        missingRetryAfter=missing_retry_after,
        apiBackSeconds=recovered_in,
        retried=sum(1 for _, attempts, _ in rows.values() if attempts > 1),
        seconds=round(time.monotonic() - started, 1),
    )
    Figures(f"PostgreSQL restarted ({OUTAGE_SECONDS}s down) under load", figures).print()

    assert figures["http500"] == 0, (during, after_restart)
    assert set(during) == {503}, during
    assert missing_retry_after == 0
    assert figures["completed"] == len(job_ids), rows
