"""Fixtures of the fault tests: private Redis (and PostgreSQL) servers that a test may stop, kill
and start again on the same address, and an app built on them.

The long variants are marked `fault_full` and run only with FAULTS_FULL=1 (pytest ignores
`pytest_addoption` in a conftest below the root one, so an environment variable it is).
"""

from __future__ import annotations

import os
import uuid

import pytest

from app import create_app
from app.extensions import db
from tests.faults.harness import FAULT_ENV, RedisServer
from tests.support.api import register


def pytest_configure(config):
    config.addinivalue_line("markers", "fault_full: long fault tests, run only with FAULTS_FULL=1")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("FAULTS_FULL") == "1":
        return
    skip = pytest.mark.skip(reason="long fault test: set FAULTS_FULL=1 to run it")
    for item in items:
        if "fault_full" in item.keywords:
            item.add_marker(skip)


@pytest.fixture()
def private_redis(tmp_path):
    """A redis-server of this test's own on a free port; stopped at the end whatever happened."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def fault_app(private_redis, database):
    """(app, client, env, account) on the private Redis and the session's database: only the
    processes this test starts (given `env`) can take its jobs."""
    app = create_app({"REDIS_URL": private_redis.url})
    app.config["TESTING"] = True
    env = {**FAULT_ENV, "REDIS_URL": private_redis.url}
    with app.app_context():
        client = app.test_client()
        account = register(client, email=f"fault-{uuid.uuid4().hex[:8]}@example.com")
        yield app, client, env, account

        db.session.remove()
        db.engine.dispose()
