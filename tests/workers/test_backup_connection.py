"""backup-connection end to end: API -> worker -> introspection -> .sql artifact, then the
artifact restored into a fresh database of the same kind must introspect and read back the same."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import uuid
from datetime import UTC, datetime

import psycopg2
import pymysql
import pytest
from sqlalchemy.engine import make_url

from app.connections import crypto
from app.connections.introspection import introspect
from app.errors import ValidationFailed
from app.extensions import db
from app.files.artifacts import artifact_store
from app.jobs.registry import JOB_TYPES
from app.jobtypes.backup_connection.payload import check_tables_exist
from app.models import Artifact, Connection, SchemaCache
from tests.support.api import create_job, wait_for_job

NASTY_TEXT = 'O\'Brien \\ back\\slash "dq" `bt` %s %(x)s\nnew line\ttab \u00e9 \u65e5\u672c\u8a9e \U0001f600'


# Helpers


def _connection(client, user, url: str) -> str:
    response = client.post("/api/connections", json={"name": "backup me", "url": url}, headers=user["headers"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _backup(client, user, connection_id: str, **payload) -> dict:
    response = create_job(client, user["headers"], "backup-connection", {"connectionId": connection_id, **payload})
    assert response.status_code == 202, response.get_json()
    return wait_for_job(client, user["headers"], response.get_json()["id"], timeout=90)


def _download(app, client, user, job: dict) -> bytes:
    """The artifact through the API when the download endpoint exists, else from the store."""
    (artifact,) = job["result"]["artifacts"]
    assert artifact["contentType"] == "application/sql" and artifact["filename"].endswith(".sql")
    if any(rule.rule == "/api/jobs/<uuid:job_id>/artifact" for rule in app.url_map.iter_rules()):
        response = client.get(f"/api/jobs/{job['id']}/artifact?artifactId={artifact['id']}", headers=user["headers"])
        assert response.status_code == 200, response.get_json()
        assert response.headers["Content-Type"] == artifact["contentType"]
        assert artifact["filename"] in response.headers["Content-Disposition"]
        body = response.get_data()
    else:
        with app.app_context():
            row = db.session.get(Artifact, uuid.UUID(artifact["id"]))
            assert row.kind == "backup" and str(row.job_id) == job["id"]
            with artifact_store().open_read(row.storage_key) as handle:
                body = handle.read()
            db.session.remove()
    assert len(body) == artifact["sizeBytes"] == job["result"]["sizeBytes"]
    return body


def _introspect(url: str, rename_schema: dict | None = None) -> list[dict]:
    tables = introspect(url)["tables"]
    for table in tables:  # a MySQL restore goes into a database of another name
        table["schema"] = (rename_schema or {}).get(table["schema"], table["schema"])
        for fk in table["foreignKeys"]:
            fk["referredSchema"] = (rename_schema or {}).get(fk["referredSchema"], fk["referredSchema"])
    return tables


def _assert_same_schema(restored: list[dict], source: list[dict]) -> None:
    """Table by table and field by field, so a failure names what differs."""
    assert [(t["schema"], t["name"]) for t in restored] == [(t["schema"], t["name"]) for t in source]
    for mine, theirs in zip(restored, source, strict=True):
        for key in theirs:
            assert mine[key] == theirs[key], (theirs["name"], key)


# PostgreSQL


def _pg_server():
    return make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")


@pytest.fixture()
def pg_databases():
    """Creates fresh PostgreSQL databases on demand; drops them all at the end."""
    server = _pg_server()
    admin = psycopg2.connect(server.set(database="postgres").render_as_string(hide_password=False))
    admin.autocommit = True
    names = []

    def create() -> str:
        name = f"backup_{secrets.token_hex(4)}"
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    yield create
    for name in names:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


PG_SCHEMA = """
CREATE SCHEMA "Sales ""Q1"" dept";
CREATE TYPE "Sales ""Q1"" dept".mood AS ENUM ('sad', 'o''k', 'happy');
CREATE TABLE customers (
    "pct %" "Sales ""Q1"" dept".mood DEFAULT 'o''k',
    id serial PRIMARY KEY,
    "E-mail" varchar(255) NOT NULL UNIQUE,
    note text DEFAULT 'it''s \\ fine',
    balance numeric(12,2) NOT NULL DEFAULT 0,
    active boolean DEFAULT true,
    tags text[],
    meta jsonb,
    photo bytea,
    born date,
    seen timestamptz DEFAULT now(),
    ratio double precision,
    span interval
);
CREATE INDEX customers_lower_email ON customers (lower("E-mail"));
CREATE UNIQUE INDEX customers_active_note ON customers (note) WHERE active;
CREATE TABLE "Sales ""Q1"" dept"."Order Lines" (
    "order" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    qty integer NOT NULL,
    price numeric(10,2),
    total numeric GENERATED ALWAYS AS (qty * price) STORED,
    "select" text
);
CREATE INDEX "Lines by customer" ON "Sales ""Q1"" dept"."Order Lines" (customer_id, qty DESC);
CREATE TABLE z_last (id int PRIMARY KEY);
CREATE TABLE a_first (id int PRIMARY KEY, z_id int REFERENCES z_last(id) ON UPDATE SET NULL);
"""


def _fill_postgres(url: str) -> None:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(PG_SCHEMA)
        cur.execute(
            """INSERT INTO customers ("E-mail", note, balance, active, tags, meta, photo, born, ratio, span)
               VALUES (%s, %s, 12.5, true, %s, %s, %s, '2024-02-29', 'NaN', '1 mon 2 days 03:04:05.678'),
                      ('b@x', NULL, -0.01, NULL, '{}', 'null', '', NULL, 'Infinity', NULL),
                      ('c@x', '', 0, false, NULL, NULL, NULL, NULL, 0.1, '-1 days')""",
            ("a@x", NASTY_TEXT, ["a,b", 'c"d', None, "back\\slash"], '{"k": "v\\n\\u00e9"}', b"\x00\xff'\\"),
        )
        cur.execute(
            """INSERT INTO "Sales ""Q1"" dept"."Order Lines" (customer_id, qty, price, "select")
               SELECT 1 + g % 3, g, g / 7.0, repeat('x''y', g % 5) FROM generate_series(1, 1200) g"""
        )
        cur.execute("INSERT INTO z_last VALUES (1), (2); INSERT INTO a_first VALUES (10, 2), (11, NULL)")


def _pg_rows(url: str, table: str, key: str) -> list[str]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT t::text FROM {table} t ORDER BY {key}")
        return [row[0] for row in cur.fetchall()]


PG_TABLES = [
    ("public.customers", "id"),
    ('"Sales ""Q1"" dept"."Order Lines"', '"order"'),
    ("public.z_last", "id"),
    ("public.a_first", "id"),
]


def test_postgres_backup_restores_to_the_same_schema_and_rows(app, client, user, worker, pg_databases):
    source = pg_databases()
    _fill_postgres(source)
    job = _backup(client, user, _connection(client, user, source), includeData=True)
    assert job["status"] == "completed", job
    assert job["result"]["totalTables"] == 4 and job["result"]["tablesWithData"] == 4
    assert job["result"]["rowsWritten"] == 3 + 1200 + 2 + 2
    assert job["progress"]["percentage"] == 100
    script = _download(app, client, user, job).decode("utf-8")

    # Byte-level: identifiers and values quoted the PostgreSQL way.
    assert 'CREATE SCHEMA IF NOT EXISTS "Sales ""Q1"" dept";' in script
    assert 'CREATE TABLE "Sales ""Q1"" dept"."Order Lines" (' in script
    assert '"order" bigint GENERATED ALWAYS AS IDENTITY NOT NULL' in script
    assert "GENERATED ALWAYS AS (((qty)::numeric * price)) STORED" in script
    expected_note = NASTY_TEXT.replace("'", "''")  # backslashes stay as they are
    assert f"'{expected_note}'" in script
    assert "'\\x00ff275c'" in script, "bytea as hex text"
    assert "'NaN'" in script and "'Infinity'" in script and "NULL" in script
    assert "OVERRIDING SYSTEM VALUE VALUES" in script
    assert "CREATE TYPE \"Sales \"\"Q1\"\" dept\".\"mood\" AS ENUM ('sad', 'o''k', 'happy');" in script
    # Indexes and keys come after every table and row.
    assert script.index("ALTER TABLE") > script.rindex("INSERT INTO")
    assert script.index("CREATE INDEX") > script.rindex("CREATE TABLE")

    restored = pg_databases()
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", restored], input=script.encode(), check=True, timeout=60
    )
    _assert_same_schema(_introspect(restored), _introspect(source))
    for table, key in PG_TABLES:
        assert _pg_rows(restored, table, key) == _pg_rows(source, table, key), table
    # Sequences continue after the restored rows.
    with psycopg2.connect(restored) as conn, conn.cursor() as cur:
        cur.execute("""INSERT INTO customers ("E-mail") VALUES ('new@x') RETURNING id""")
        assert cur.fetchone()[0] == 4
        cur.execute(
            """INSERT INTO "Sales ""Q1"" dept"."Order Lines" (customer_id, qty) VALUES (1, 1) RETURNING "order" """
        )
        assert cur.fetchone()[0] == 1201


def test_schema_only_backup_and_chosen_tables(app, client, user, worker, pg_databases):
    source = pg_databases()
    _fill_postgres(source)
    connection_id = _connection(client, user, source)

    schema_only = _backup(client, user, connection_id)
    assert schema_only["status"] == "completed", schema_only
    assert schema_only["result"]["tablesWithData"] == 0
    assert "INSERT INTO" not in _download(app, client, user, schema_only).decode()

    chosen = _backup(client, user, connection_id, includeData=True, tables=['Sales "Q1" dept.Order Lines', "z_last"])
    assert chosen["status"] == "completed", chosen
    assert chosen["result"]["tablesWithData"] == 2 and chosen["result"]["rowsWritten"] == 1202
    script = _download(app, client, user, chosen).decode()
    assert '-- Rows of Sales "Q1" dept.Order Lines' in script and "-- Rows of public.z_last" in script
    assert 'INSERT INTO "public"."customers"' not in script


def test_unknown_tables_fail_the_job_with_their_names(client, user, worker, pg_databases):
    source = pg_databases()
    _fill_postgres(source)
    job = _backup(client, user, _connection(client, user, source), includeData=True, tables=["customers", "nope"])
    assert job["status"] == "failed" and job["attempts"] == 1
    assert job["error"] == "These tables were not found in the connection: 'nope'"


def test_unknown_tables_in_the_cached_schema_answer_400(ctx, client, user, pg_databases):
    """The creation-time check (the job type's check_access hook) against the cached schema."""
    source = pg_databases()
    _fill_postgres(source)
    connection_id = _connection(client, user, source)
    payload = {"connectionId": connection_id, "includeData": True, "tables": ["customers", "ghost"]}
    check_tables_exist(uuid.UUID(user["id"]), payload)  # no cached schema yet: the job decides
    db.session.add(
        SchemaCache(
            connection_id=uuid.UUID(connection_id),
            built_at=datetime.now(UTC),
            total_tables=1,
            tables=[{"schema": "public", "name": "customers"}],
        )
    )
    db.session.commit()
    with pytest.raises(ValidationFailed) as raised:
        check_tables_exist(uuid.UUID(user["id"]), payload)
    assert raised.value.details == {
        "payload": {"tables": ["Not in the connection's schema (rebuild it if they were just created): 'ghost'"]}
    }
    check_tables_exist(uuid.UUID(user["id"]), {**payload, "tables": ["public.customers"]})

    if JOB_TYPES["backup-connection"].check_access is not None:  # wired in the registry
        response = create_job(client, user["headers"], "backup-connection", payload)
        assert response.status_code == 400 and "ghost" in str(response.get_json())


def test_the_service_database_is_never_backed_up(app, client, user, worker):
    """A URL naming our database through an alias the creation check could not see (stored
    directly here) is refused by the job before it reads anything."""
    # Stored URLs name their driver (the API normalises them); so does this one.
    own = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+psycopg2")
    with app.app_context():
        connection = Connection(
            user_id=uuid.UUID(user["id"]),
            name="alias",
            dialect="postgresql",
            url_encrypted=crypto.encrypt(own.render_as_string(hide_password=False)),
            display_url="postgresql://db-alias/jobs",
        )
        db.session.add(connection)
        db.session.commit()
        connection_id = str(connection.id)
        db.session.remove()
    job = _backup(client, user, connection_id, includeData=True)
    assert job["status"] == "failed"
    assert "service's own database" in job["error"]
    assert job["result"] is None or not job["result"].get("artifacts")


# MariaDB


@pytest.fixture()
def mariadb():
    try:
        admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"MariaDB is not reachable on 127.0.0.1:3306: {exc}")
    names = []

    def create() -> str:
        name = f"backup_{secrets.token_hex(4)}"
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        names.append(name)
        return name

    yield create
    with admin.cursor() as cur:
        for name in names:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    admin.close()


MARIADB_SCHEMA = [
    """CREATE TABLE `we``ird 'table` (
        id INT AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(100) NOT NULL DEFAULT 'it''s \\\\ ok',
        body TEXT,
        data BLOB,
        amount DECIMAL(10,2) DEFAULT 0.00,
        at DATETIME(6),
        t TIME,
        created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        kind ENUM('a','b''c') DEFAULT 'a',
        `pct%` VARCHAR(10) DEFAULT '100%',
        doubled INT AS (id * 2) VIRTUAL,
        UNIQUE KEY uq_name (name),
        KEY body_prefix (body(20))
    )""",
    """CREATE TABLE `a child` (
        id BIGINT UNSIGNED PRIMARY KEY,
        parent_id INT,
        CONSTRAINT `fk to ``parent``` FOREIGN KEY (parent_id) REFERENCES `we``ird 'table` (id) ON DELETE SET NULL
    )""",
]


def _mariadb_rows(database: str, table: str) -> list[tuple]:
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database=database)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {table} ORDER BY id")
            return list(cur.fetchall())
    finally:
        conn.close()


def test_mariadb_backup_restores_to_the_same_schema_and_rows(app, client, user, worker, mariadb):
    source = mariadb()
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database=source, autocommit=True)
    with conn.cursor() as cur:
        for statement in MARIADB_SCHEMA:
            cur.execute(statement)
        cur.execute(
            "INSERT INTO `we``ird 'table` (name, body, data, amount, at, t, created, kind) VALUES "
            "(%s, %s, %s, 3.5, '2024-02-29 23:59:59.123456', '-838:59:59', '2020-01-01 00:00:00', 'b''c'),"
            "('second', NULL, '', NULL, NULL, '12:00:00.5', '2021-06-01 12:00:00', NULL)",
            (NASTY_TEXT, "nul\0and ctrl-z\x1a\r\n", b"\x00\xff'\\\x1a"),
        )
        cur.execute("INSERT INTO `a child` VALUES (18446744073709551615, 1), (1, NULL)")
    conn.close()

    job = _backup(client, user, _connection(client, user, f"mysql://root@127.0.0.1:3306/{source}"), includeData=True)
    assert job["status"] == "completed", job
    assert job["result"]["totalTables"] == 2 and job["result"]["rowsWritten"] == 4
    script = _download(app, client, user, job).decode("utf-8")

    assert "CREATE TABLE `we``ird 'table` (" in script
    assert "CONSTRAINT `fk to ``parent``` FOREIGN KEY (`parent_id`) REFERENCES `we``ird 'table` (`id`)" in script
    assert source not in script, "a one-database backup restores into any database"
    assert "'O\\'Brien \\\\ back\\\\slash \"dq\" `bt` %s %(x)s\\nnew line\ttab" in script
    assert "'nul\\0and ctrl-z\\Z\\r\\n'" in script
    assert "X'00FF275C1A'" in script and "X''" in script
    assert "`id` int(11) NOT NULL AUTO_INCREMENT" in script
    assert "`doubled` int(11) GENERATED ALWAYS AS (`id` * 2) VIRTUAL" in script
    assert "(`body`(20))" in script

    restored = mariadb()
    subprocess.run(
        ["mysql", "-h", "127.0.0.1", "-P", "3306", "-u", "root", restored],
        input=script.encode(),
        check=True,
        timeout=60,
    )
    _assert_same_schema(
        _introspect(f"mysql://root@127.0.0.1:3306/{restored}", {restored: source}),
        _introspect(f"mysql://root@127.0.0.1:3306/{source}"),
    )
    for table in ("`we``ird 'table`", "`a child`"):
        assert _mariadb_rows(restored, table) == _mariadb_rows(source, table), table


# SQLite


def test_sqlite_backup_restores_to_the_same_schema_and_rows(app, client, user, worker, tmp_path):
    source = tmp_path / "source.db"
    with sqlite3.connect(source) as conn:
        conn.executescript(
            """
            CREATE TABLE "we""ird" (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL DEFAULT 'it''s',
                data BLOB,
                f REAL,
                created TEXT DEFAULT (datetime('now')),
                UNIQUE (name)
            );
            CREATE TABLE child (
                code TEXT PRIMARY KEY,
                parent INTEGER REFERENCES "we""ird" (id) ON DELETE CASCADE
            );
            CREATE INDEX "child by parent" ON child (parent, code);
            CREATE TABLE "line
break; DROP TABLE child; --" (x TEXT);
            INSERT INTO "line
break; DROP TABLE child; --" VALUES ('survives');
            """
        )
        conn.executemany(
            'INSERT INTO "we""ird" (name, data, f) VALUES (?, ?, ?)',
            [(NASTY_TEXT, b"\x00\xff'", 1 / 3), ("nul\0inside", None, float("inf")), ("plain", b"", None)],
        )
        conn.executemany("INSERT INTO child VALUES (?, ?)", [("b", 1), ("a", 3), ("'", None)])
    job = _backup(client, user, _connection(client, user, f"sqlite:///{source}"), includeData=True)
    assert job["status"] == "completed", job
    script = _download(app, client, user, job).decode("utf-8")
    assert 'CREATE TABLE "we""ird" (' in script
    assert f"'{NASTY_TEXT.replace(chr(39), chr(39) * 2)}'" in script
    assert "CAST(X'6E756C00696E73696465' AS TEXT)" in script and "1e999" in script
    assert "DEFAULT (datetime('now'))" in script
    assert 'FOREIGN KEY ("parent") REFERENCES "we""ird" ("id") ON DELETE CASCADE' in script

    restored = tmp_path / "restored.db"
    with sqlite3.connect(restored) as conn:
        conn.executescript(script)
    _assert_same_schema(_introspect(f"sqlite:///{restored}"), _introspect(f"sqlite:///{source}"))
    for query in (
        'SELECT *, typeof(name) FROM "we""ird" ORDER BY id',
        "SELECT *, typeof(code) FROM child ORDER BY code",
    ):
        with sqlite3.connect(source) as a, sqlite3.connect(restored) as b:
            assert b.execute(query).fetchall() == a.execute(query).fetchall(), query
