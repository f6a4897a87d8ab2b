"""Data exports end to end: API -> worker -> the user's database -> CSV / JSON artifact -> download.

Real PostgreSQL, MariaDB and SQLite targets, each holding the same awkward rows: NULLs, quotes,
commas, line breaks, unicode, dates and decimals. The files are compared byte for byte.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
import uuid
from pathlib import Path

import psycopg2
import pymysql
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.jobtypes.data_export.query_guard import QueryRefused, check_query
from app.jobtypes.data_export.sql_lexer import DIALECTS
from app.models import Artifact
from tests.support import processes
from tests.support.api import create_job, wait_for_job

SECRET = "Exp0rt-s3cret-pw"
QUERY = "SELECT id, name, note, price, born, seen, flag FROM items ORDER BY id"
HEADER = "id,name,note,price,born,seen,flag\r\n"

ROWS_SQL = """
INSERT INTO items VALUES
  (1, 'plain', NULL, 12.50, '2024-02-29', '2024-02-29 13:45:00', {true}),
  (2, 'comma, "quote"', 'line1
line2', 0.10, NULL, NULL, {false}),
  (3, 'ünïcødé ✓ 日本', '', -3.00, '1999-12-31', '2000-01-01 00:00:00.5', NULL)
"""

# What a user downloads, byte for byte. Decimals are strings with their exact digits in JSON;
# MariaDB has no boolean type (1 / 0); SQLite keeps dates as text and decimals as floats.
EXPECTED = {
    ("postgresql", "csv"): HEADER
    + "1,plain,,12.50,2024-02-29,2024-02-29T13:45:00,true\r\n"
    + '2,"comma, ""quote""","line1\nline2",0.10,,,false\r\n'
    + "3,ünïcødé ✓ 日本,,-3.00,1999-12-31,2000-01-01T00:00:00.500000,\r\n",
    ("postgresql", "json"): "[\n"
    + '{"id":1,"name":"plain","note":null,"price":"12.50","born":"2024-02-29","seen":"2024-02-29T13:45:00",'
    + '"flag":true},\n'
    + '{"id":2,"name":"comma, \\"quote\\"","note":"line1\\nline2","price":"0.10","born":null,"seen":null,'
    + '"flag":false},\n'
    + '{"id":3,"name":"ünïcødé ✓ 日本","note":"","price":"-3.00","born":"1999-12-31",'
    + '"seen":"2000-01-01T00:00:00.500000","flag":null}\n'
    + "]\n",
    ("mysql", "csv"): HEADER
    + "1,plain,,12.50,2024-02-29,2024-02-29T13:45:00,1\r\n"
    + '2,"comma, ""quote""","line1\nline2",0.10,,,0\r\n'
    + "3,ünïcødé ✓ 日本,,-3.00,1999-12-31,2000-01-01T00:00:00.500000,\r\n",
    ("mysql", "json"): "[\n"
    + '{"id":1,"name":"plain","note":null,"price":"12.50","born":"2024-02-29","seen":"2024-02-29T13:45:00",'
    + '"flag":1},\n'
    + '{"id":2,"name":"comma, \\"quote\\"","note":"line1\\nline2","price":"0.10","born":null,"seen":null,'
    + '"flag":0},\n'
    + '{"id":3,"name":"ünïcødé ✓ 日本","note":"","price":"-3.00","born":"1999-12-31",'
    + '"seen":"2000-01-01T00:00:00.500000","flag":null}\n'
    + "]\n",
    ("sqlite", "csv"): HEADER
    + "1,plain,,12.5,2024-02-29,2024-02-29 13:45:00,1\r\n"
    + '2,"comma, ""quote""","line1\nline2",0.1,,,0\r\n'
    + "3,ünïcødé ✓ 日本,,-3.0,1999-12-31,2000-01-01 00:00:00.5,\r\n",
    ("sqlite", "json"): "[\n"
    + '{"id":1,"name":"plain","note":null,"price":12.5,"born":"2024-02-29","seen":"2024-02-29 13:45:00",'
    + '"flag":1},\n'
    + '{"id":2,"name":"comma, \\"quote\\"","note":"line1\\nline2","price":0.1,"born":null,"seen":null,'
    + '"flag":0},\n'
    + '{"id":3,"name":"ünïcødé ✓ 日本","note":"","price":-3.0,"born":"1999-12-31",'
    + '"seen":"2000-01-01 00:00:00.5","flag":null}\n'
    + "]\n",
}


# -- targets ------------------------------------------------------------------------------------


def _server_url():
    return make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")


@pytest.fixture()
def postgres_target():
    """A fresh PostgreSQL database holding `items`; yields its URL."""
    name = f"export_{secrets.token_hex(4)}"
    admin = psycopg2.connect(_server_url().set(database="postgres").render_as_string(hide_password=False))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = _server_url().set(database=name).render_as_string(hide_password=False)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE items (id integer PRIMARY KEY, name text, note text, price numeric(10,2), "
            "born date, seen timestamp, flag boolean)"
        )
        cur.execute(ROWS_SQL.format(true="true", false="false"))
        cur.execute("CREATE SEQUENCE counter")
    yield url
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _mariadb_admin():
    try:
        return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"MariaDB is not reachable on 127.0.0.1:3306: {exc}")


@pytest.fixture()
def mariadb_target():
    admin = _mariadb_admin()
    name = f"export_{secrets.token_hex(4)}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        cur.execute(
            f"CREATE TABLE `{name}`.items (id INT PRIMARY KEY, name TEXT, note TEXT, price DECIMAL(10,2), "
            "born DATE, seen DATETIME(6), flag BOOLEAN)"
        )
        cur.execute(f"USE `{name}`")
        cur.execute(ROWS_SQL.format(true="TRUE", false="FALSE"))
        cur.execute(f"CREATE SEQUENCE `{name}`.counter")
    yield f"mysql://root@127.0.0.1:3306/{name}"
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE `{name}`")
    admin.close()


@pytest.fixture()
def sqlite_target(tmp_path):
    path = tmp_path / "items.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, note TEXT, price REAL, "
            "born TEXT, seen TEXT, flag INTEGER)"
        )
        conn.execute(ROWS_SQL.format(true="1", false="0"))
    conn.close()
    return f"sqlite:///{path}"


TARGETS = {"postgresql": "postgres_target", "mysql": "mariadb_target", "sqlite": "sqlite_target"}


# -- helpers ------------------------------------------------------------------------------------


def _connection(client, user, url: str) -> str:
    response = client.post("/api/connections", json={"name": "source", "url": url}, headers=user["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _export(client, user, connection_id: str, query: str = QUERY, fmt: str = "csv", **kwargs):
    payload = {"connectionId": connection_id, "query": query, "format": fmt}
    return create_job(client, user["headers"], "data-export", payload, **kwargs)


def _finished_export(client, user, connection_id, query=QUERY, fmt="csv", timeout=60) -> dict:
    response = _export(client, user, connection_id, query, fmt)
    assert response.status_code == 202, response.get_json()
    return wait_for_job(client, user["headers"], response.get_json()["id"], timeout=timeout)


def _artifact_rows(job_id: str) -> list:
    """The artifact rows of a job (needs an app context: the `ctx` fixture or a private app)."""
    db.session.expire_all()
    return db.session.scalars(select(Artifact).where(Artifact.job_id == uuid.UUID(job_id))).all()


def _stored_files(user_id: str) -> list[str]:
    folder = Path(os.environ["ARTIFACT_DIR"]) / user_id
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _wait_active(client, user, job_id: str, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()
        if job["status"] == "active" and job["progress"]:
            return job
        time.sleep(0.05)
    raise AssertionError(f"export {job_id} never became active: {job}")


# -- the files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_export_writes_the_exact_file(request, client, user, worker, dialect, fmt):
    url = request.getfixturevalue(TARGETS[dialect])
    connection_id = _connection(client, user, url)
    job = _finished_export(client, user, connection_id, fmt=fmt)
    assert job["status"] == "completed", job

    download = client.get(f"/api/jobs/{job['id']}/artifact", headers=user["headers"])
    assert download.status_code == 200
    assert download.data.decode("utf-8") == EXPECTED[(dialect, fmt)]
    assert download.headers["Content-Type"] == ("text/csv; charset=utf-8" if fmt == "csv" else "application/json")
    assert download.headers["Content-Length"] == str(len(download.data))
    filename = f"export-{job['id'][:8]}.{fmt}"
    assert download.headers["Content-Disposition"] == f"attachment; filename={filename}"

    result = job["result"]
    assert result["rowCount"] == 3
    assert result["format"] == fmt
    assert result["columns"] == ["id", "name", "note", "price", "born", "seen", "flag"]
    assert result["sizeBytes"] == len(download.data)
    (artifact,) = result["artifacts"]
    assert artifact["filename"] == filename and artifact["sizeBytes"] == len(download.data)
    assert job["progress"]["message"] == "3 rows written" and job["progress"]["percentage"] == 100


def test_the_completion_notification_counts_the_rows(client, user, worker, sqlite_target):
    connection_id = _connection(client, user, sqlite_target)
    job = _finished_export(client, user, connection_id, "SELECT * FROM items, items AS twice")
    assert job["result"]["rowCount"] == 9
    notifications = client.get("/api/notifications", headers=user["headers"]).get_json()["data"]
    completed = [n for n in notifications if n["type"] == "job_completed" and n["data"].get("jobId") == job["id"]]
    assert [n["message"] for n in completed] == ["Export ready: 9 rows"]


def test_an_empty_result_is_a_header_or_an_empty_array(client, user, worker, postgres_target):
    connection_id = _connection(client, user, postgres_target)
    empty = "SELECT id, name FROM items WHERE false"
    csv_job = _finished_export(client, user, connection_id, empty, "csv")
    json_job = _finished_export(client, user, connection_id, empty, "json")
    assert client.get(f"/api/jobs/{csv_job['id']}/artifact", headers=user["headers"]).data == b"id,name\r\n"
    assert client.get(f"/api/jobs/{json_job['id']}/artifact", headers=user["headers"]).data == b"[]\n"
    assert csv_job["result"]["rowCount"] == 0


def test_values_of_every_kind_in_json(client, user, worker, postgres_target):
    """Types beyond the table: repeated column names, JSONB, arrays, intervals, bytes, NaN, UUID,
    tiny decimals, timestamps with a time zone."""
    connection_id = _connection(client, user, postgres_target)
    query = (
        "SELECT 1 AS a, 2 AS a, '{\"k\": [1, null]}'::jsonb AS doc, ARRAY[1,2] AS list, "
        "interval '1 day 2 hours 3.5 seconds' AS span, '\\x0001ff'::bytea AS raw, 'NaN'::float8 AS nan, "
        "'00000000-0000-0000-0000-000000000001'::uuid AS uid, 0.0000001::numeric AS tiny, "
        "timestamptz '2024-01-02 03:04:05+00' AT TIME ZONE 'UTC' AS utc"
    )
    job = _finished_export(client, user, connection_id, query, "json")
    assert job["status"] == "completed", job
    body = client.get(f"/api/jobs/{job['id']}/artifact", headers=user["headers"]).data.decode()
    assert body == (
        '[\n{"a":1,"a_2":2,"doc":{"k":[1,null]},"list":[1,2],"span":"26:00:03.500000","raw":"AAH/",'
        '"nan":"NaN","uid":"00000000-0000-0000-0000-000000000001","tiny":"0.0000001",'
        '"utc":"2024-01-02T03:04:05"}\n]\n'
    )
    assert job["result"]["columns"] == ["a", "a", "doc", "list", "span", "raw", "nan", "uid", "tiny", "utc"]


# -- what is refused ----------------------------------------------------------------------------

REFUSED = [
    ("INSERT INTO items (id) VALUES (9)", "not 'INSERT'"),
    ("UPDATE items SET name = 'x'", "not 'UPDATE'"),
    ("DELETE FROM items", "not 'DELETE'"),
    ("DROP TABLE items", "not 'DROP'"),
    ("CREATE TABLE copy AS SELECT * FROM items", "not 'CREATE'"),
    ("SELECT * INTO copy FROM items", "INTO is not allowed"),
    ("SELECT * FROM items FOR UPDATE", "locking clause"),
    ("WITH gone AS (DELETE FROM items RETURNING *) SELECT * FROM gone", "DELETE is not allowed"),
    ("SELECT 1; DROP TABLE items", "Only one statement"),
    ("SELECT 1 /* ; */ ; DROP TABLE items", "Only one statement"),
    ("SELECT 1 -- harmless\n; DROP TABLE items", "Only one statement"),
    ("SELECT 'a\\'; DROP TABLE items; --'", "Only one statement"),
    ("SELECT 'unterminated", "could not be read"),
    ("   ; ", "empty"),
]


@pytest.mark.parametrize(("query", "reason"), REFUSED)
def test_anything_but_one_read_only_query_is_refused_at_creation(client, user, postgres_target, query, reason):
    connection_id = _connection(client, user, postgres_target)
    response = _export(client, user, connection_id, query)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "query_not_allowed"
    assert reason in error["message"]
    assert error["details"] == {"payload": {"query": [error["message"]]}}
    with psycopg2.connect(postgres_target) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM items")
        assert cur.fetchone() == (3,), "nothing reached the database"
    assert client.get("/api/jobs?type=data-export", headers=user["headers"]).get_json()["data"] == []


def test_mariadb_lexing_rules_are_its_own(client, user, mariadb_target):
    """MariaDB reads a backslash as an escape and `#` as a comment: a second statement hidden
    from a PostgreSQL-minded reader is still found, and MariaDB's executable comments refused."""
    connection_id = _connection(client, user, mariadb_target)
    for query in ("SELECT 1 --1; DROP TABLE items", "SELECT 1 /*!, 2 */ FROM items", 'SELECT "a\\"; DROP TABLE items'):
        response = _export(client, user, connection_id, query)
        assert response.status_code == 400, (query, response.get_json())
    accepted = _export(client, user, connection_id, "SELECT 'it\\'s; fine' AS s # a comment; DROP")
    assert accepted.status_code == 202, accepted.get_json()


# Each database draws string and comment boundaries its own way; the guard must draw them the same.
GUARD_CASES = [
    ("postgresql", "SELECT $$ ; DROP TABLE t $$ AS text", "SELECT $$ ; DROP TABLE t $$ AS text"),
    ("postgresql", "SELECT $tag$ it's $$ ; $tag$", "SELECT $tag$ it's $$ ; $tag$"),
    ("postgresql", "SELECT 1 /* outer /* inner */ ; DROP TABLE t */", "SELECT 1"),
    ("postgresql", r"SELECT E'\\'; DROP TABLE t; --'", QueryRefused),
    ("postgresql", r"SELECT E'\'; DROP TABLE t; --'", None),
    ("postgresql", r"SELECT '\'; DROP TABLE t; --'", QueryRefused),
    ("postgresql", "SELECT E'it\\'s; fine'", "SELECT E'it\\'s; fine'"),
    ("postgresql", "select 1 ;\n-- trailing note", "select 1"),
    ("postgresql", "(SELECT 1) UNION (SELECT 2)", "(SELECT 1) UNION (SELECT 2)"),
    ("postgresql", 'SELECT substring(name FROM 1 FOR 3), "update" FROM t', None),
    ("mysql", "SELECT 1 /* a /* b */ ; DROP TABLE t /* */", QueryRefused),
    ("mysql", "SELECT 1 --1; DROP TABLE t", QueryRefused),
    ("mysql", "SELECT `a;b` FROM t # note; DROP", "SELECT `a;b` FROM t"),
    ("mysql", "SELECT 1 /*M! , 2 */", QueryRefused),
    ("mysql", "SELECT * FROM t LOCK IN SHARE MODE", QueryRefused),
    ("mysql", "SELECT 1 INTO OUTFILE '/tmp/x'", QueryRefused),
    ("sqlite", "SELECT [a;b'] FROM t", "SELECT [a;b'] FROM t"),
    ("sqlite", "SELECT [a'], 1; DELETE FROM t; --']", QueryRefused),
    ("sqlite", "PRAGMA writable_schema = 1", QueryRefused),
    ("sqlite", "SELECT 1 # ; DROP TABLE t", QueryRefused),
]


@pytest.mark.parametrize(("dialect", "query", "expected"), GUARD_CASES)
def test_the_guard_reads_each_dialect_as_its_database_does(dialect, query, expected):
    if expected is QueryRefused:
        with pytest.raises(QueryRefused):
            check_query(query, DIALECTS[dialect])
    else:
        assert check_query(query, DIALECTS[dialect]) == (expected or query)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_a_function_that_writes_meets_the_read_only_transaction(request, client, user, worker, ctx, dialect):
    """The guard lets a SELECT call functions; the read-only transaction still refuses a write."""
    connection_id = _connection(client, user, request.getfixturevalue(TARGETS[dialect]))
    query = "SELECT nextval('counter')" if dialect == "postgresql" else "SELECT NEXTVAL(counter)"
    job = _finished_export(client, user, connection_id, query)
    assert job["status"] == "failed" and job["attempts"] == 1, job
    assert job["error"].startswith("The query tried to change data, which an export never does: ")
    assert "read-only transaction" in job["error"] or "READ ONLY transaction" in job["error"]
    assert _artifact_rows(job["id"]) == []


# -- failures -----------------------------------------------------------------------------------


def test_a_connection_deleted_before_the_export_fails_clearly(client, user, worker, beat, sqlite_target):
    connection_id = _connection(client, user, sqlite_target)
    response = _export(client, user, connection_id, options={"startAfter": 1})
    assert response.status_code == 202
    client.delete(f"/api/connections/{connection_id}", headers=user["headers"])
    job = wait_for_job(client, user["headers"], response.get_json()["id"], timeout=30)
    assert job["status"] == "failed" and job["attempts"] == 1
    assert job["error"] == "The connection no longer exists"


def test_bad_credentials_fail_at_once_without_the_password(client, user, worker):
    _mariadb_admin().close()
    connection_id = _connection(client, user, f"mysql://root:{SECRET}@127.0.0.1:3306/mysql")
    job = _finished_export(client, user, connection_id, "SELECT 1", timeout=30)
    assert job["status"] == "failed" and job["attempts"] == 1
    assert "Access denied" in job["error"]
    assert SECRET not in str(job)


def test_a_query_error_is_reported_as_the_database_says(client, user, worker, postgres_target):
    connection_id = _connection(client, user, postgres_target)
    job = _finished_export(client, user, connection_id, "SELECT missing_column FROM items")
    assert job["status"] == "failed" and job["attempts"] == 1
    assert job["error"] == 'column "missing_column" does not exist'


# -- statement timeout (a private worker with a one-second limit) ---------------------------------


@pytest.fixture(scope="module")
def impatient_worker(private_redis_url):
    """A worker whose exports may run one second per statement, on a Redis database of its own."""
    app = create_app({"REDIS_URL": private_redis_url})
    env = {"REDIS_URL": private_redis_url, "EXPORT_STATEMENT_TIMEOUT_SECONDS": "1"}
    worker = processes.start_worker(
        concurrency=2, name=f"export-timeout-{uuid.uuid4().hex[:6]}", queues="jobs", env=env
    )
    with app.app_context():
        yield app.test_client()
    processes.stop(worker)


SLOW_QUERIES = {
    "postgresql": "SELECT pg_sleep(5)",
    "mysql": "SELECT SLEEP(5)",
    "sqlite": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT max(x) FROM n",
}


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_a_query_over_the_statement_timeout_fails_precisely(request, impatient_worker, user, dialect):
    client = impatient_worker
    connection_id = _connection(client, user, request.getfixturevalue(TARGETS[dialect]))
    started = time.monotonic()
    response = _export(client, user, connection_id, SLOW_QUERIES[dialect])
    job = wait_for_job(client, user["headers"], response.get_json()["id"], timeout=30)
    assert job["status"] == "failed", job
    assert job["attempts"] == 1, "a timeout is not retried"
    assert job["error"] == (
        "The query was stopped after running for 1 second (EXPORT_STATEMENT_TIMEOUT_SECONDS); "
        "make it faster or more selective"
    )
    assert time.monotonic() - started < 4.5, "stopped at the limit, not when the query ended"
    assert _artifact_rows(job["id"]) == []


# -- cancellation -------------------------------------------------------------------------------


def _active_queries(url: str, needle: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE state = 'active' AND query LIKE %s AND pid <> pg_backend_pid()",
            (f"%{needle}%",),
        )
        return cur.fetchone()[0]


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_a_long_export_cancelled_stops_and_leaves_nothing(client, user, worker, ctx, postgres_target):
    connection_id = _connection(client, user, postgres_target)
    query = "SELECT g AS n, md5(g::text) AS hash FROM generate_series(1, 50000000) AS g"
    job_id = _export(client, user, connection_id, query).get_json()["id"]
    deadline = time.monotonic() + 30
    while True:
        job = client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()
        if (job["progress"] or {}).get("current", 0) > 0:
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["progress"]["total"] == 0 and job["progress"]["message"].endswith("rows written")
    assert any(name.endswith(".partial") for name in _stored_files(user["id"])), "the file is being written"

    assert client.delete(f"/api/jobs/{job_id}", headers=user["headers"]).status_code == 200
    _wait_until(lambda: _stored_files(user["id"]) == [], 10, "the partial file is removed")
    _wait_until(lambda: _active_queries(postgres_target, "generate_series") == 0, 10, "the query stops")
    job = client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()
    assert job["status"] == "cancelled"
    assert _artifact_rows(job_id) == []
    assert client.get(f"/api/jobs/{job_id}/artifact", headers=user["headers"]).status_code == 404


BLOCKING_QUERIES = {
    "postgresql": "SELECT pg_sleep(60)",
    "mysql": "SELECT SLEEP(60)",
    "sqlite": SLOW_QUERIES["sqlite"],
}


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_cancelling_interrupts_a_query_blocked_in_the_database(request, client, user, worker, dialect):
    """A query that sends no rows for a long time is stopped where it runs, and the export
    returns through its own checkpoint: had it stayed blocked inside the driver, the watchdog
    would have killed the worker's pool process instead, and no "stopped: cancelled" line."""
    url = request.getfixturevalue(TARGETS[dialect])
    connection_id = _connection(client, user, url)
    job_id = _export(client, user, connection_id, BLOCKING_QUERIES[dialect]).get_json()["id"]
    _wait_active(client, user, job_id)
    time.sleep(1)  # the query is now running in the database
    assert client.delete(f"/api/jobs/{job_id}", headers=user["headers"]).status_code == 200
    cancelled_at = time.monotonic()
    stopped_line = f"job stopped: cancelled [user_id={user['id']} job_id={job_id}]"
    _wait_until(lambda: stopped_line in processes.read_log(worker), 10, "the export stops at its checkpoint")
    # Sooner than the watchdog's grace period, after which it would interrupt the thread itself.
    assert time.monotonic() - cancelled_at < float(os.environ["JOB_CANCEL_GRACE_SECONDS"])
    assert f"job {job_id} ignored cancellation" not in processes.read_log(worker)
    if dialect == "postgresql":
        assert _active_queries(url, "pg_sleep(60)") == 0
    elif dialect == "mysql":
        admin = _mariadb_admin()
        with admin.cursor() as cur:
            cur.execute("SELECT count(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(60)%'")
            assert cur.fetchone() == (0,)
        admin.close()
    assert client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()["status"] == "cancelled"
    assert _stored_files(user["id"]) == []
