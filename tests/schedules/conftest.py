"""Fixtures of the beat tests: a database and a Redis database of their own, so that the beat
and worker processes other tests run (on the session's database) never tick these schedules,
and the processes these tests start see nothing else."""

from __future__ import annotations

import os
import uuid
from types import SimpleNamespace

import psycopg2
import pytest
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.platform import runtime
from tests.support import processes, redis_lease


def _admin_connection(server):
    url = server.set(drivername="postgresql", database="postgres")
    conn = psycopg2.connect(url.render_as_string(hide_password=False))
    conn.autocommit = True
    return conn


@pytest.fixture(scope="module")
def sched(database):
    """(app, client, env, url) on a fresh migrated database and a leased Redis database, with
    SCHEDULE_MIN_INTERVAL_SECONDS=1 so that seconds-schedules are allowed."""
    # The session's own servers (the root conftest set these variables to its databases).
    server = make_url(os.environ["DATABASE_URL"])
    base_redis = make_url(os.environ["REDIS_URL"])
    name = f"{database}_sch_{uuid.uuid4().hex[:4]}"
    admin = _admin_connection(server)
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    number = redis_lease.claim(base_redis)
    redis_url = redis_lease.database_url(base_redis, number)
    database_url = server.set(database=name).render_as_string(hide_password=False)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SCHEDULE_MIN_INTERVAL_SECONDS": "1"}
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg2://", 1),
            "REDIS_URL": redis_url,
            "SCHEDULE_MIN_INTERVAL_SECONDS": 1,
        }
    )
    app.config["TESTING"] = True
    with app.app_context():
        upgrade()
    # No app context is held across requests: each request gets a fresh session, as in production.
    yield SimpleNamespace(app=app, client=app.test_client(), env=env)
    with app.app_context():
        db.engine.dispose()
    redis_lease.release(base_redis, number)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(autouse=True)
def _own_socket_emitter(monkeypatch):
    """The socket emitter is cached per process, not per Redis URL: keep this module's off the
    session's (and the session's off this module's leased database)."""
    monkeypatch.setattr(runtime.current(), "emitter", None)


@pytest.fixture(scope="module")
def sched_worker(sched):
    """A worker on the schedules' own database and Redis."""
    worker = processes.start_worker(concurrency=2, name=f"sched-{uuid.uuid4().hex[:6]}", env=sched.env)
    yield worker
    processes.stop(worker)


def start_beat(env: dict):
    """A beat process whose schedule loop has started."""
    beat = processes.start_beat(env=env)
    processes.wait_for_log(beat, "schedules: due schedules are checked", timeout=30)
    return beat
