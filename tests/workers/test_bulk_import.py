"""bulk-import end to end: upload -> schema rebuild -> job -> worker -> rows in a real PostgreSQL,
MariaDB or SQLite table, all or nothing."""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import psycopg2
import pymysql
import pytest
from sqlalchemy.engine import make_url

from tests.support.api import create_job, wait_for_job

COLUMNS = "sku, qty, price, active, added_on, seen_at, note"


@dataclass
class Target:
    dialect: str
    url: str
    schema: str
    run: Callable[[str], list[tuple]]  # SQL -> rows

    def rows(self) -> list[tuple]:
        """The table as a user would read it back, in insertion order, with comparable values."""
        rows = self.run(f"SELECT {COLUMNS} FROM items ORDER BY id")
        return [_normalised(row) for row in rows]


def _normalised(row: tuple) -> tuple:
    sku, qty, price, active, added_on, seen_at, note = row
    if isinstance(added_on, str):  # SQLite keeps dates as text
        added_on = date.fromisoformat(added_on)
    if isinstance(seen_at, str):
        seen_at = datetime.fromisoformat(seen_at)
    return (
        sku,
        qty,
        None if price is None else Decimal(str(price)).quantize(Decimal("0.01")),
        bool(active),
        added_on,
        seen_at,
        note,
    )


POSTGRES_TABLE = """
CREATE TABLE items (
    id serial PRIMARY KEY,
    sku varchar(20) NOT NULL UNIQUE,
    qty integer NOT NULL,
    price numeric(8,2),
    active boolean NOT NULL DEFAULT true,
    added_on date,
    seen_at timestamp,
    note text
)"""
MARIADB_TABLE = """
CREATE TABLE items (
    id INT AUTO_INCREMENT PRIMARY KEY,
    sku VARCHAR(20) NOT NULL UNIQUE,
    qty INT NOT NULL,
    price DECIMAL(8,2),
    active BOOLEAN NOT NULL DEFAULT 1,
    added_on DATE,
    seen_at DATETIME,
    note TEXT
) ENGINE=InnoDB"""
SQLITE_TABLE = """
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    sku VARCHAR(20) NOT NULL UNIQUE,
    qty INTEGER NOT NULL,
    price DECIMAL(8,2),
    active BOOLEAN NOT NULL DEFAULT 1,
    added_on DATE,
    seen_at DATETIME,
    note TEXT
)"""


@pytest.fixture()
def postgres_target() -> Iterator[Target]:
    server = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")
    name = f"import_{secrets.token_hex(4)}"
    admin = psycopg2.connect(server.set(database="postgres").render_as_string(hide_password=False))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)

    def run(sql: str) -> list[tuple]:
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []

    run(POSTGRES_TABLE)
    yield Target("postgresql", url, "public", run)
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture()
def mariadb_target() -> Iterator[Target]:
    try:
        admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"MariaDB is not reachable on 127.0.0.1:3306: {exc}")
    name = f"import_{secrets.token_hex(4)}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")

    def run(sql: str) -> list[tuple]:
        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database=name, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return list(cur.fetchall())
        finally:
            conn.close()

    run(MARIADB_TABLE)
    yield Target("mysql", f"mysql://root@127.0.0.1:3306/{name}", name, run)
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE `{name}`")
    admin.close()


@pytest.fixture()
def sqlite_target(tmp_path) -> Target:
    path = tmp_path / "shop.db"

    def run(sql: str) -> list[tuple]:
        with sqlite3.connect(path) as conn:
            return conn.execute(sql).fetchall()

    run(SQLITE_TABLE)
    return Target("sqlite", f"sqlite:///{path}", "main", run)


@pytest.fixture(params=["postgres", "mariadb", "sqlite"])
def target(request) -> Target:
    return request.getfixturevalue(f"{request.param}_target")


def connect(client, user, target: Target, rebuild: bool = True) -> str:
    """A connection to the target; its schema cached by a schema-rebuild job, as a user would."""
    response = client.post("/api/connections", json={"name": "shop", "url": target.url}, headers=user["headers"])
    assert response.status_code == 201, response.get_json()
    connection_id = response.get_json()["id"]
    if rebuild:
        queued = create_job(client, user["headers"], "schema-rebuild", {"connectionId": connection_id})
        job = wait_for_job(client, user["headers"], queued.get_json()["id"], timeout=60)
        assert job["status"] == "completed", job
    return connection_id


def upload(client, user, body: bytes, content_type: str = "text/csv") -> str:
    response = client.post("/api/uploads", data=body, headers={**user["headers"], "Content-Type": content_type})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def run_import(client, user, upload_id: str, connection_id: str, timeout: float = 60, **payload) -> dict:
    body = {"uploadId": upload_id, "connectionId": connection_id, "table": "items", **payload}
    response = create_job(client, user["headers"], "bulk-import", body)
    assert response.status_code == 202, response.get_json()
    return wait_for_job(client, user["headers"], response.get_json()["id"], timeout=timeout)


GOOD_CSV = (
    "\ufeffsku,qty,price,active,added_on,seen_at,note\n"
    "A1,3,9.99,yes,2024-05-01,2024-05-01T12:30:00Z,first\n"
    'B2,0,,false,,,"comma, and ""quotes""\nand a second line"\n'
    "C3,-7,1234.5,1,2024-02-29,2024-06-30 23:59:59+02:00,\n"
).encode()
GOOD_ROWS = [
    ("A1", 3, Decimal("9.99"), True, date(2024, 5, 1), datetime(2024, 5, 1, 12, 30), "first"),
    ("B2", 0, None, False, None, None, 'comma, and "quotes"\nand a second line'),
    ("C3", -7, Decimal("1234.50"), True, date(2024, 2, 29), datetime(2024, 6, 30, 21, 59, 59), None),
]


def test_csv_import_loads_every_row_exactly(client, user, worker, target):
    connection_id = connect(client, user, target)
    job = run_import(client, user, upload(client, user, GOOD_CSV), connection_id, batchSize=2)
    assert job["status"] == "completed", job
    assert job["result"] == {"rowsImported": 3, "table": "items", "schema": target.schema, "artifacts": []}
    assert job["progress"]["current"] == job["progress"]["total"] == 3
    assert target.rows() == GOOD_ROWS
    messages = [n["message"] for n in client.get("/api/notifications", headers=user["headers"]).get_json()["data"]]
    assert "Import finished: 3 rows loaded" in messages


def test_json_import_of_an_array_and_of_json_lines(client, user, worker, target):
    connection_id = connect(client, user, target)
    array = b"""[
      {"sku": "J1", "qty": 1, "price": 2.5, "added_on": "2024-01-02"},
      {"sku": "J2", "qty": "2", "active": false, "note": null, "seen_at": "2024-01-02T03:04:05"}
    ]"""
    job = run_import(client, user, upload(client, user, array, "application/json"), connection_id)
    assert job["status"] == "completed", job
    lines = b'{"sku": "J3", "qty": 3, "note": "x"}\n{"sku": "J4", "qty": 4, "active": true}\n'
    job = run_import(client, user, upload(client, user, lines, "application/json"), connection_id)
    assert job["status"] == "completed", job
    assert target.rows() == [
        ("J1", 1, Decimal("2.50"), True, date(2024, 1, 2), None, None),  # `active` took its default
        ("J2", 2, None, False, None, datetime(2024, 1, 2, 3, 4, 5), None),
        ("J3", 3, None, True, None, None, "x"),
        ("J4", 4, None, True, None, None, None),
    ]


BAD_CSV = (
    b"sku,qty,added_on,active\n"
    b"OK1,1,2024-01-01,true\n"
    b"BAD1,abc,2024-01-01,true\n"  # line 3: qty
    b"OK2,2,2024-01-01,false\n"
    b"BAD2,2,2024-13-01,true\n"  # line 5: date
    b",4,2024-01-01,true\n"  # line 6: sku is required
    b"BAD3,5,2024-01-01\n"  # line 7: a field short
    b"TOO-LONG-SKU-0123456789,1,,maybe\n"  # line 8: sku length (active is also wrong; one per row)
)


def test_bad_rows_fail_the_job_with_their_lines_and_leave_the_table_unchanged(client, user, worker, target):
    target.run("INSERT INTO items (sku, qty) VALUES ('KEEP', 1)")
    connection_id = connect(client, user, target)
    job = run_import(client, user, upload(client, user, BAD_CSV), connection_id)
    assert job["status"] == "failed", job
    assert job["attempts"] == 1, "rejected rows are permanent: not retried"
    assert job["error"].startswith("5 rows rejected; nothing was imported (first: line 3, column qty: not an integer")
    result = job["result"]
    assert result["rejectedCount"] == 5 and result["rowsChecked"] == 7
    # SQLite does not enforce declared lengths, so neither does the check: there line 8 fails on `active`.
    assert [(r["line"], r.get("column")) for r in result["rejectedRows"]] == [
        (3, "qty"),
        (5, "added_on"),
        (6, "sku"),
        (7, None),
        (8, "active" if target.dialect == "sqlite" else "sku"),
    ]
    assert "expected 4 fields" in result["rejectedRows"][3]["error"]
    assert [row[0] for row in target.rows()] == ["KEEP"]


def test_a_database_error_past_the_first_batch_leaves_no_row_behind(client, user, worker, target):
    target.run("INSERT INTO items (sku, qty) VALUES ('TAKEN', 1)")
    connection_id = connect(client, user, target)
    rows = [f"S{n:03d},{n}" for n in range(1, 26)]
    rows[20] = "TAKEN,21"  # line 22, in the third batch of ten
    body = ("sku,qty\n" + "\n".join(rows) + "\n").encode()
    job = run_import(client, user, upload(client, user, body), connection_id, batchSize=10)
    assert job["status"] == "failed", job
    assert job["attempts"] == 1
    assert job["error"].startswith("1 row rejected; nothing was imported (first: line 22")
    assert job["result"]["rejectedCount"] == 1
    reject = job["result"]["rejectedRows"][0]
    assert reject["line"] == 22 and ("duplicate" in reject["error"].lower() or "unique" in reject["error"].lower())
    assert [row[0] for row in target.rows()] == ["TAKEN"]


def test_import_without_a_cached_schema_or_table_fails_saying_to_rebuild(client, user, worker, sqlite_target):
    connection_id = connect(client, user, sqlite_target, rebuild=False)
    upload_id = upload(client, user, GOOD_CSV)
    job = run_import(client, user, upload_id, connection_id)
    assert job["status"] == "failed" and job["attempts"] == 1
    assert (
        "schema has not been built yet" in job["error"] and f"/api/connections/{connection_id}/rebuild" in job["error"]
    )
    sqlite_target.run("CREATE TABLE later (id INTEGER PRIMARY KEY)")
    connect_again = connect(client, user, sqlite_target)
    job = run_import(client, user, upload_id, connect_again, table="missing")
    assert job["status"] == "failed"
    assert "Table missing is not in this connection's cached schema" in job["error"] and "rebuild" in job["error"]
    assert sqlite_target.rows() == []


def test_unknown_columns_fail_the_job(client, user, worker, sqlite_target):
    connection_id = connect(client, user, sqlite_target)
    job = run_import(client, user, upload(client, user, b"sku,qty,colour\nA,1,red\n"), connection_id)
    assert job["status"] == "failed"
    assert "'colour' is not a column of table items" in job["error"]
    body = b'[{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2, "size": "XL"}]'
    job = run_import(client, user, upload(client, user, body, "application/json"), connection_id)
    assert job["status"] == "failed"
    assert job["error"].startswith("Line 1: 'size' is not a column of table items")
    job = run_import(client, user, upload(client, user, b"sku\nA\n"), connection_id)
    assert job["status"] == "failed" and "no column for qty" in job["error"]
    assert sqlite_target.rows() == []


def test_malformed_json_found_by_the_job_names_its_line(client, user, worker, sqlite_target):
    connection_id = connect(client, user, sqlite_target)
    body = b'[\n{"sku": "A", "qty": 1},\n{"sku": "B", "qty": 2\n{"sku": "C", "qty": 3}\n]'
    job = run_import(client, user, upload(client, user, body, "application/json"), connection_id)
    assert job["status"] == "failed"
    assert job["error"].startswith("Line 4: the file is not valid JSON")
    assert sqlite_target.rows() == []


def test_cancelling_between_batches_rolls_the_import_back(client, user, worker, postgres_target):
    connection_id = connect(client, user, postgres_target)
    body = ("sku,qty\n" + "".join(f"R{n:05d},{n}\n" for n in range(4000))).encode()
    response = create_job(
        client,
        user["headers"],
        "bulk-import",
        {"uploadId": upload(client, user, body), "connectionId": connection_id, "table": "items", "batchSize": 1},
    )
    job_id = response.get_json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()
        progress = job["progress"] or {}
        if (progress.get("message") or "").startswith("Importing rows") and progress["current"] >= 20:
            break
        assert job["status"] in ("queued", "active"), job
        time.sleep(0.02)
    assert client.delete(f"/api/jobs/{job_id}", headers=user["headers"]).status_code == 200
    job = wait_for_job(client, user["headers"], job_id, timeout=30)
    assert job["status"] == "cancelled"
    assert postgres_target.rows() == []
