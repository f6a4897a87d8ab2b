"""A database and a Redis database of a test module's own, migrated as `release` does, with an app
bound to them: the worker and beat processes other tests run on the session's database never see
its rows, and the processes the module starts see nothing else."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import psycopg2
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.support import redis_lease


def _admin_connection(server):
    url = server.set(drivername="postgresql", database="postgres")
    conn = psycopg2.connect(url.render_as_string(hide_password=False))
    conn.autocommit = True
    return conn


@contextmanager
def private_stack(database: str, suffix: str, env: dict, config: dict) -> Iterator[SimpleNamespace]:
    """(app, client, env): `env` for the processes the module starts (DATABASE_URL and REDIS_URL
    added), `config` for the app."""
    # The session's own servers (the root conftest set these variables to its databases).
    server = make_url(os.environ["DATABASE_URL"])
    base_redis = make_url(os.environ["REDIS_URL"])
    name = f"{database}_{suffix}_{uuid.uuid4().hex[:4]}"
    admin = _admin_connection(server)
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    number = redis_lease.claim(base_redis)
    redis_url = redis_lease.database_url(base_redis, number)
    database_url = server.set(database=name).render_as_string(hide_password=False)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg2://", 1),
            "REDIS_URL": redis_url,
            **config,
        }
    )
    app.config["TESTING"] = True
    with app.app_context():
        upgrade()
    try:
        # No app context is held across requests: each request gets a fresh session, as in production.
        yield SimpleNamespace(
            app=app, client=app.test_client(), env={"DATABASE_URL": database_url, "REDIS_URL": redis_url, **env}
        )
    finally:
        with app.app_context():
            db.engine.dispose()
        redis_lease.release(base_redis, number)
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
