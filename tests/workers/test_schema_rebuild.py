"""Schema rebuild end to end: API -> Postgres -> Celery -> worker -> introspection -> cache."""

from __future__ import annotations

import os
import secrets
import sqlite3

import psycopg2
import pymysql
import pytest
from sqlalchemy.engine import make_url

from tests.support.api import create_job, wait_for_job

SECRET = "Sup3r-s3cret-pw"


@pytest.fixture()
def target_postgres():
    """A fresh PostgreSQL database with two schemas, a foreign key across them and an index."""
    server = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")
    name = f"target_{secrets.token_hex(4)}"
    admin = psycopg2.connect(server.set(database="postgres").render_as_string(hide_password=False))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name)
    with psycopg2.connect(url.render_as_string(hide_password=False)) as conn, conn.cursor() as cur:
        cur.execute(
            """
            CREATE TABLE customers (
                id serial PRIMARY KEY,
                email varchar(255) NOT NULL UNIQUE,
                created_at timestamptz DEFAULT now()
            );
            CREATE SCHEMA sales;
            CREATE TABLE sales.orders (
                id bigserial PRIMARY KEY,
                customer_id integer NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                total numeric(10,2) DEFAULT 0
            );
            CREATE INDEX orders_customer ON sales.orders (customer_id);
            """
        )
    yield url.render_as_string(hide_password=False)
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _rebuild(client, user, url: str) -> tuple[str, dict]:
    connection = client.post("/api/connections", json={"name": "target", "url": url}, headers=user["headers"])
    assert connection.status_code == 201, connection.get_json()
    connection_id = connection.get_json()["id"]
    queued = client.post(f"/api/connections/{connection_id}/rebuild", headers=user["headers"])
    assert queued.status_code == 202
    assert queued.get_json()["message"] == "Schema rebuild job queued"
    job = wait_for_job(client, user["headers"], queued.get_json()["jobId"], timeout=60)
    return connection_id, job


def test_rebuild_of_a_postgres_database_caches_every_schema(client, user, worker, target_postgres):
    connection_id, job = _rebuild(client, user, target_postgres)
    assert job["status"] == "completed", job
    assert job["result"]["totalTables"] == 2
    assert job["progress"] == {"current": 4, "total": 4, "percentage": 100, "message": "Schema rebuild completed"}
    schema = client.get(f"/api/connections/{connection_id}/schema", headers=user["headers"]).get_json()
    assert schema["connectionId"] == connection_id and schema["totalTables"] == 2 and schema["builtAt"]
    tables = {(t["schema"], t["name"]): t for t in schema["tables"]}
    orders = tables[("sales", "orders")]
    assert [c["name"] for c in orders["columns"]] == ["id", "customer_id", "total"]
    assert orders["primaryKey"] == ["id"]
    assert orders["foreignKeys"][0]["referredTable"] == "customers"
    assert orders["foreignKeys"][0]["referredSchema"] == "public"
    assert "orders_customer" in {i["name"] for i in orders["indexes"]}
    email = next(c for c in tables[("public", "customers")]["columns"] if c["name"] == "email")
    assert email == {
        "name": "email",
        "type": "character varying(255)",
        "nullable": False,
        "default": None,
        "primaryKey": False,
    }


def test_rebuild_of_a_mariadb_database(client, user, worker):
    try:
        admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"MariaDB is not reachable on 127.0.0.1:3306: {exc}")
    name = f"target_{secrets.token_hex(4)}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
        cur.execute(f"CREATE TABLE `{name}`.authors (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL)")
        cur.execute(
            f"CREATE TABLE `{name}`.books (id INT PRIMARY KEY, author_id INT, "
            f"FOREIGN KEY (author_id) REFERENCES `{name}`.authors(id))"
        )
    try:
        connection_id, job = _rebuild(client, user, f"mysql://root@127.0.0.1:3306/{name}")
        assert job["status"] == "completed", job
        schema = client.get(f"/api/connections/{connection_id}/schema", headers=user["headers"]).get_json()
        assert sorted(t["name"] for t in schema["tables"]) == ["authors", "books"]
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE `{name}`")
        admin.close()


def test_rebuild_of_a_sqlite_file(client, user, worker, tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT '')")
    connection_id, job = _rebuild(client, user, f"sqlite:///{path}")
    assert job["status"] == "completed", job
    schema = client.get(f"/api/connections/{connection_id}/schema", headers=user["headers"]).get_json()
    assert schema["tables"][0]["name"] == "notes"
    assert schema["tables"][0]["columns"][1]["default"] == "''"


def test_unreachable_database_retries_then_fails_with_a_clear_error(client, user, worker, beat):
    url = f"postgresql://reader:{SECRET}@127.0.0.1:1/nowhere"
    connection_id = client.post("/api/connections", json={"name": "down", "url": url}, headers=user["headers"])
    connection_id = connection_id.get_json()["id"]
    response = create_job(
        client,
        user["headers"],
        "schema-rebuild",
        {"connectionId": connection_id},
        options={"retryLimit": 2, "retryDelay": 1, "retryBackoff": False},
    )
    job = wait_for_job(client, user["headers"], response.get_json()["id"], timeout=60)
    assert job["status"] == "failed"
    assert job["attempts"] == 3, "connection failures are retryable"
    assert "127.0.0.1" in job["error"] and SECRET not in job["error"]
    assert SECRET not in str(job)


def test_bad_credentials_fail_at_once(client, user, worker):
    url = f"mysql://root:{SECRET}@127.0.0.1:3306/mysql"
    connection_id = client.post("/api/connections", json={"name": "bad", "url": url}, headers=user["headers"])
    connection_id = connection_id.get_json()["id"]
    queued = client.post(f"/api/connections/{connection_id}/rebuild", headers=user["headers"])
    job = wait_for_job(client, user["headers"], queued.get_json()["jobId"], timeout=30)
    assert job["status"] == "failed"
    assert job["attempts"] == 1, "bad credentials are not retried"
    assert "Access denied" in job["error"] and SECRET not in job["error"]


def test_a_connection_deleted_before_its_rebuild_fails_clearly(client, user, worker, beat, tmp_path):
    path = tmp_path / "gone.db"
    sqlite3.connect(path).close()
    connection_id = client.post(
        "/api/connections", json={"name": "g", "url": f"sqlite:///{path}"}, headers=user["headers"]
    ).get_json()["id"]
    response = create_job(
        client, user["headers"], "schema-rebuild", {"connectionId": connection_id}, options={"startAfter": 1}
    )
    client.delete(f"/api/connections/{connection_id}", headers=user["headers"])
    job = wait_for_job(client, user["headers"], response.get_json()["id"], timeout=30)
    assert job["status"] == "failed"
    assert job["error"] == "The connection no longer exists"
