"""The pool pings only connections that sat idle, and still replaces one the server dropped."""

from __future__ import annotations

import time

import psycopg2
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from app.platform.db_pool import ping_stale_connections


def _url(app):
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"])


def _engine(app, idle_seconds: float):
    engine = create_engine(_url(app), pool_size=1, max_overflow=0)
    ping_stale_connections(engine, idle_seconds)
    pings = []
    original = engine.dialect.do_ping

    def counted(dbapi_connection):
        pings.append(1)
        return original(dbapi_connection)

    engine.dialect.do_ping = counted
    return engine, pings


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def test_a_connection_used_a_moment_ago_is_not_pinged(app):
    engine, pings = _engine(app, idle_seconds=60)
    try:
        first = _backend_pid(engine)
        for _ in range(5):
            assert _backend_pid(engine) == first
        assert pings == []
    finally:
        engine.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(app):
    engine, pings = _engine(app, idle_seconds=0)
    errors = []
    event.listen(engine, "handle_error", lambda context: errors.append(context.original_exception))
    try:
        dropped = _backend_pid(engine)
        admin = psycopg2.connect(_url(app).set(drivername="postgresql").render_as_string(hide_password=False))
        admin.autocommit = True
        cursor = admin.cursor()
        cursor.execute("SELECT pg_terminate_backend(%s)", (dropped,))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the backend exits a moment after the signal
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (dropped,))
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)
        admin.close()
        replaced = _backend_pid(engine)  # the caller sees no error: the ping found it dead first
        assert replaced != dropped
        assert pings and errors == []
    finally:
        engine.dispose()
