"""Fixtures: a fresh PostgreSQL database and a private Redis database per run, migrated with
Alembic exactly as `release` does; a Flask app and client; real Celery worker and beat processes
for the lifecycle tests."""

from __future__ import annotations

import os
import secrets
import tempfile
import uuid

import psycopg2
import pytest
import redis as redis_lib
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.support import processes, redis_lease
from tests.support.api import login, register

SERVER_URL = make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
TEST_DB = f"jobsvc_test_{os.getpid()}_{secrets.token_hex(3)}"
BASE_REDIS_URL = make_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))


REDIS_DB = redis_lease.claim(BASE_REDIS_URL)
TEST_REDIS_URL = redis_lease.database_url(BASE_REDIS_URL, REDIS_DB)


def pytest_addoption(parser):
    parser.addoption("--quick", action="store_true", help="skip the slow fault and benchmark smoke tests")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long tests skipped by --quick")
    # Every process the tests start (workers, web servers) inherits this environment.
    os.environ.update(
        {
            "APP_ENV": "test",
            "DATABASE_URL": SERVER_URL.set(database=TEST_DB).render_as_string(hide_password=False),
            "REDIS_URL": TEST_REDIS_URL,
            "ENABLE_TEST_JOB_TYPES": "true",
            "JWT_SECRET_KEY": "test-jwt-secret-" + secrets.token_hex(16),
            "CONNECTION_SECRET_KEY": "test-connection-secret-" + secrets.token_hex(16),
            "JOB_RATE_LIMIT_PER_MINUTE": "0",
            # Every test logs in from 127.0.0.1: only the per-account limit is exercised.
            "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
            "JOB_HEARTBEAT_SECONDS": "0.5",
            "JOB_HEARTBEAT_TIMEOUT": "4",
            "JOB_SWEEP_INTERVAL": "0.5",
            # Tests that mail one user several jobs expect each email at once; the digest tests
            # (tests/workers/test_email_digests.py) open their own windows.
            "EMAIL_DIGEST_SECONDS": "0",
            "JOB_CANCEL_GRACE_SECONDS": "2",
            # Two sessions run side by side, each with dozens of long-lived processes (web servers,
            # workers, benchmarks): idle pools of 5 each came near the server's max_connections.
            "DATABASE_POOL_SIZE": "2",
            "LOG_FORMAT": "text",
            "ADMIN_EMAILS": "admin@example.com",
            # A fresh artifact store per session, shared by the session's web and worker processes.
            "ARTIFACT_DIR": tempfile.mkdtemp(prefix="jobsvc-artifacts-"),
        }
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--quick"):
        skip = pytest.mark.skip(reason="--quick: slow tests skipped")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip)


def _admin_connection():
    conn = psycopg2.connect(
        SERVER_URL.set(database="postgres").render_as_string(hide_password=False).replace("+psycopg2", "")
    )
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session", autouse=True)
def database():
    """A fresh database, migrated by Alembic, dropped at the end."""
    conn = _admin_connection()
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{TEST_DB}"')
    redis_lib.Redis.from_url(TEST_REDIS_URL).flushdb()

    app = create_app()
    with app.app_context():
        upgrade()

        db.engine.dispose()
    yield TEST_DB
    processes.stop_all()
    redis_lease.release(BASE_REDIS_URL, REDIS_DB)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
    conn.close()


@pytest.fixture(scope="session")
def app(database):
    app = create_app()
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def ctx(app):
    with app.app_context():
        yield app

        db.session.remove()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def private_redis_url(database):
    """A second Redis database of this session's own, for tests that run their own workers."""
    number = redis_lease.claim(BASE_REDIS_URL)
    yield redis_lease.database_url(BASE_REDIS_URL, number)
    redis_lease.release(BASE_REDIS_URL, number)


@pytest.fixture()
def empty_redis_url(database):
    """A Redis database of this test's own that nothing has written to yet (flushed on claim)."""
    number = redis_lease.claim(BASE_REDIS_URL)
    yield redis_lease.database_url(BASE_REDIS_URL, number)
    redis_lease.release(BASE_REDIS_URL, number)


@pytest.fixture(scope="session")
def redis_client():
    return redis_lib.Redis.from_url(TEST_REDIS_URL, decode_responses=True)


@pytest.fixture()
def user(client):
    """A freshly registered user: {id, email, password, token, refresh, headers}."""
    return register(client)


@pytest.fixture()
def other_user(client):
    return register(client)


@pytest.fixture()
def admin(client):
    try:
        return register(client, email="admin@example.com")
    except AssertionError:
        return login(client, "admin@example.com")


@pytest.fixture(scope="session")
def worker(database):
    """A real Celery worker process (prefork, 2 processes) consuming every queue."""
    return processes.start_worker(concurrency=2, name=f"w1-{uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="session")
def beat(database):
    return processes.start_beat()
