"""introspect() against a real PostgreSQL, MariaDB/MySQL and SQLite file.

Each test builds its own throw-away database (random name, dropped afterwards).
Admin URLs come from TEST_POSTGRES_ADMIN_URL / TEST_MYSQL_ADMIN_URL; MySQL tests are
skipped when the server does not answer.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from app.connections.introspection import introspect
from tests.support.statements import statements_sent

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN_URL = os.environ.get("TEST_MYSQL_ADMIN_URL", "mysql+pymysql://root@127.0.0.1:3306/")
SECRET = "Wr0ng-s3cret-pa55"

PG_SCHEMA = [
    "CREATE SCHEMA sales",
    """CREATE TABLE public.customers (
        id serial PRIMARY KEY,
        email varchar(255) NOT NULL,
        name text,
        created_at timestamptz NOT NULL DEFAULT now(),
        status varchar(20) NOT NULL DEFAULT 'active')""",
    "CREATE UNIQUE INDEX customers_email_key ON public.customers (email)",
    "CREATE INDEX customers_lower_email_idx ON public.customers (lower(email))",
    """CREATE TABLE public.events (
        id bigint NOT NULL,
        happened_on date NOT NULL,
        PRIMARY KEY (id, happened_on)) PARTITION BY RANGE (happened_on)""",
    "CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    """CREATE TABLE sales.orders (
        id serial PRIMARY KEY,
        customer_id integer NOT NULL REFERENCES public.customers (id) ON DELETE CASCADE,
        total numeric(10, 2) NOT NULL DEFAULT 0,
        note text,
        total_cents bigint GENERATED ALWAYS AS ((total * 100)::bigint) STORED)""",
    "CREATE INDEX orders_customer_total_idx ON sales.orders (customer_id, total)",
    """CREATE TABLE sales.order_lines (
        line_no integer NOT NULL,
        order_id integer NOT NULL,
        quantity integer NOT NULL DEFAULT 1,
        event_id bigint,
        event_on date,
        PRIMARY KEY (order_id, line_no),
        CONSTRAINT order_lines_order_fk FOREIGN KEY (order_id) REFERENCES sales.orders (id)
            ON DELETE CASCADE ON UPDATE RESTRICT,
        CONSTRAINT order_lines_event_fk FOREIGN KEY (event_id, event_on) REFERENCES public.events (id, happened_on))""",
    "CREATE VIEW public.customer_emails AS SELECT id, email FROM public.customers",
]

MYSQL_SCHEMA = [
    """CREATE TABLE customers (
        id int AUTO_INCREMENT PRIMARY KEY,
        email varchar(255) NOT NULL,
        name text,
        created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
        status varchar(20) NOT NULL DEFAULT 'active',
        UNIQUE KEY customers_email_key (email))""",
    """CREATE TABLE orders (
        id int AUTO_INCREMENT PRIMARY KEY,
        customer_id int NOT NULL,
        total decimal(10, 2) NOT NULL DEFAULT 0,
        note text,
        KEY orders_customer_total_idx (customer_id, total),
        CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE)""",
    """CREATE TABLE order_lines (
        line_no int NOT NULL,
        order_id int NOT NULL,
        quantity int NOT NULL DEFAULT 1,
        PRIMARY KEY (order_id, line_no),
        CONSTRAINT order_lines_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE)""",
    "CREATE VIEW customer_emails AS SELECT id, email FROM customers",
]

SQLITE_SCHEMA = [
    """CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        email VARCHAR(255) NOT NULL UNIQUE,
        name TEXT,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        status VARCHAR(20) NOT NULL DEFAULT 'active')""",
    """CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
        total NUMERIC(10, 2) NOT NULL DEFAULT 0)""",
    "CREATE INDEX orders_customer_total_idx ON orders (customer_id, total)",
    """CREATE TABLE order_lines (
        line_no INTEGER NOT NULL,
        order_id INTEGER NOT NULL REFERENCES Orders ON DELETE CASCADE,
        quantity INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (order_id, line_no))""",
    "CREATE VIEW customer_emails AS SELECT id, email FROM customers",
]


def col(name: str, type_: str, nullable: bool = False, default: str | None = None, pk: bool = False) -> dict:
    return {"name": name, "type": type_, "nullable": nullable, "default": default, "primaryKey": pk}


def index(name: str, columns: list[str], unique: bool = False, primary: bool = False) -> dict:
    return {"name": name, "columns": columns, "unique": unique, "primary": primary}


def fk(name: str | None, columns: list[str], schema: str, table: str, referred: list[str], **rules: str) -> dict:
    return {
        "name": name,
        "columns": columns,
        "referredSchema": schema,
        "referredTable": table,
        "referredColumns": referred,
        "onDelete": rules.get("on_delete", "NO ACTION"),
        "onUpdate": rules.get("on_update", "NO ACTION"),
    }


def tables_by_name(result: dict) -> dict[str, dict]:
    return {f"{table['schema']}.{table['name']}": table for table in result["tables"]}


# --- throw-away databases ---------------------------------------------------------


def with_driver(url: str) -> URL:
    """The URL with the installed driver named (SQLAlchemy 2.1 defaults to psycopg 3)."""
    parsed = make_url(url)
    drivers = {"postgresql": "postgresql+psycopg2", "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}
    return parsed.set(drivername=drivers.get(parsed.drivername, parsed.drivername))


def run_ddl(url: str, statements: list[str]) -> None:
    engine = create_engine(with_driver(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                # pysqlite leaves DDL in autocommit mode: one fsync per statement otherwise.
                conn.exec_driver_sql("BEGIN")
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


@contextmanager
def fresh_database(admin_url: str, statements: list[str]) -> Iterator[str]:
    """Create a randomly named database holding `statements`; drop it afterwards."""
    name = f"introspect_{uuid.uuid4().hex[:12]}"
    is_postgres = make_url(admin_url).get_backend_name() == "postgresql"
    quoted = f'"{name}"' if is_postgres else f"`{name}`"
    admin = create_engine(with_driver(admin_url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        run_ddl(url, statements)
        yield url
    finally:
        drop = f"DROP DATABASE IF EXISTS {quoted}" + (" WITH (FORCE)" if is_postgres else "")
        with admin.connect() as conn:
            conn.exec_driver_sql(drop)
        admin.dispose()


@cache
def mysql_unavailable_reason() -> str | None:
    engine = create_engine(with_driver(MYSQL_ADMIN_URL), poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except OperationalError as error:
        return f"MySQL/MariaDB at {make_url(MYSQL_ADMIN_URL).render_as_string()} does not answer: {error.orig}"
    finally:
        engine.dispose()


def require_mysql() -> None:
    reason = mysql_unavailable_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_database(PG_ADMIN_URL, PG_SCHEMA) as url:
        yield url


@pytest.fixture(scope="module")
def mysql_url() -> Iterator[str]:
    require_mysql()
    with fresh_database(MYSQL_ADMIN_URL, MYSQL_SCHEMA) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app data.db'}"  # a space in the path on purpose
    run_ddl(url, SQLITE_SCHEMA)
    return url


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """SQL statements sent by any engine while the test runs."""
    with statements_sent() as seen:
        yield seen


# --- PostgreSQL --------------------------------------------------------------------


def test_postgres_reads_every_user_schema_without_views_or_partitions(pg_url: str) -> None:
    messages: list[str] = []
    result = introspect(pg_url, progress=messages.append)

    assert result["totalTables"] == 4
    assert [(t["schema"], t["name"]) for t in result["tables"]] == [
        ("public", "customers"),
        ("public", "events"),
        ("sales", "order_lines"),
        ("sales", "orders"),
    ]
    assert {"Reading tables", "Reading columns", "Reading constraints", "Reading indexes"} <= set(messages)


def test_postgres_columns_keys_and_indexes(pg_url: str) -> None:
    tables = tables_by_name(introspect(pg_url))

    customers = tables["public.customers"]
    assert customers["columns"] == [
        col("id", "integer", default="nextval('customers_id_seq'::regclass)", pk=True),
        col("email", "character varying(255)"),
        col("name", "text", nullable=True),
        col("created_at", "timestamp with time zone", default="now()"),
        col("status", "character varying(20)", default="'active'::character varying"),
    ]
    assert customers["primaryKey"] == ["id"]
    assert customers["foreignKeys"] == []
    assert customers["indexes"] == [
        index("customers_email_key", ["email"], unique=True),
        index("customers_lower_email_idx", ["lower(email::text)"]),
        index("customers_pkey", ["id"], unique=True, primary=True),
    ]

    orders = tables["sales.orders"]
    assert orders["columns"][0] == col("id", "integer", default="nextval('sales.orders_id_seq'::regclass)", pk=True)
    assert orders["columns"][2] == col("total", "numeric(10,2)", default="0")
    assert orders["columns"][4] == col("total_cents", "bigint", nullable=True)  # generated: no default
    assert orders["foreignKeys"] == [
        fk("orders_customer_id_fkey", ["customer_id"], "public", "customers", ["id"], on_delete="CASCADE")
    ]
    assert index("orders_customer_total_idx", ["customer_id", "total"]) in orders["indexes"]

    lines = tables["sales.order_lines"]
    assert [c["name"] for c in lines["columns"]] == ["line_no", "order_id", "quantity", "event_id", "event_on"]
    assert lines["columns"][2] == col("quantity", "integer", default="1")
    assert lines["columns"][3] == col("event_id", "bigint", nullable=True)
    assert lines["primaryKey"] == ["order_id", "line_no"]  # key order, not column order
    assert lines["indexes"] == [index("order_lines_pkey", ["order_id", "line_no"], unique=True, primary=True)]
    # The FK to the partitioned table is listed once, not once per partition.
    assert lines["foreignKeys"] == [
        fk("order_lines_event_fk", ["event_id", "event_on"], "public", "events", ["id", "happened_on"]),
        fk("order_lines_order_fk", ["order_id"], "sales", "orders", ["id"], on_delete="CASCADE", on_update="RESTRICT"),
    ]


def test_postgres_unreachable_error_hides_password() -> None:
    url = make_url(PG_ADMIN_URL).set(port=1, password=SECRET).render_as_string(hide_password=False)
    with pytest.raises(OperationalError) as raised:
        introspect(url, connect_timeout=3)
    assert SECRET not in str(raised.value) and SECRET not in repr(raised.value)


# --- MySQL / MariaDB ---------------------------------------------------------------


def test_mysql_columns_keys_and_indexes(mysql_url: str) -> None:
    result = introspect(mysql_url)
    database = make_url(mysql_url).database

    assert result["totalTables"] == 3
    assert [t["name"] for t in result["tables"]] == ["customers", "order_lines", "orders"]
    assert {t["schema"] for t in result["tables"]} == {database}
    tables = {t["name"]: t for t in result["tables"]}

    customers = tables["customers"]
    # MariaDB shows display widths and function-call defaults; MySQL 8 does not.
    integer = customers["columns"][0]["type"]
    assert integer in ("int(11)", "int")
    assert customers["columns"] == [
        col("id", integer, pk=True),
        col("email", "varchar(255)"),
        col("name", "text", nullable=True),
        col("created_at", "timestamp", default=customers["columns"][3]["default"]),
        col("status", "varchar(20)", default=customers["columns"][4]["default"]),
    ]
    assert customers["columns"][3]["default"].lower() in ("current_timestamp()", "current_timestamp")
    assert customers["columns"][4]["default"] in ("'active'", "active")
    assert customers["indexes"] == [
        index("PRIMARY", ["id"], unique=True, primary=True),
        index("customers_email_key", ["email"], unique=True),
    ]

    orders = tables["orders"]
    assert orders["foreignKeys"] == [
        fk(
            "orders_customer_fk",
            ["customer_id"],
            database,
            "customers",
            ["id"],
            on_delete="CASCADE",
            on_update="RESTRICT",
        )
    ]
    assert index("orders_customer_total_idx", ["customer_id", "total"]) in orders["indexes"]

    lines = tables["order_lines"]
    assert [c["name"] for c in lines["columns"]] == ["line_no", "order_id", "quantity"]
    assert lines["columns"][2] == col("quantity", integer, default="1")
    assert lines["primaryKey"] == ["order_id", "line_no"]
    assert lines["foreignKeys"][0]["onDelete"] == "CASCADE"


def test_mysql_without_database_reads_all_user_databases(mysql_url: str) -> None:
    database = make_url(mysql_url).database
    server_url = make_url(mysql_url).set(database=None).render_as_string(hide_password=False)

    schemas = {table["schema"] for table in introspect(server_url)["tables"]}

    assert database in schemas
    assert not schemas & {"mysql", "information_schema", "performance_schema", "sys"}


def test_mysql_wrong_password_error_hides_password() -> None:
    require_mysql()
    user = f"introspect_{uuid.uuid4().hex[:8]}"
    admin = create_engine(with_driver(MYSQL_ADMIN_URL), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'the-right-one'"))
    try:
        url = make_url(MYSQL_ADMIN_URL).set(username=user, password=SECRET).render_as_string(hide_password=False)
        with pytest.raises(OperationalError) as raised:
            introspect(url)
        assert "Access denied" in str(raised.value)
        assert SECRET not in str(raised.value) and SECRET not in repr(raised.value)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP USER '{user}'@'%'"))
        admin.dispose()


# --- statement count ---------------------------------------------------------------

# Session setup plus each dialect's bulk reads, whatever the number of tables.
MAX_STATEMENTS = {"postgresql": 5, "mysql": 7, "sqlite": 1}


def chain_of_tables(count: int, id_type: str, index: bool) -> list[str]:
    """`count` tables, each with a primary key, a foreign key to the previous one and
    (with `index`) an index; MySQL indexes foreign keys itself, and faster inline."""
    ddl = []
    for i in range(count):
        table, parent = f"t{i:03d}", f"t{max(i - 1, 0):03d}"
        ddl.append(
            f"CREATE TABLE {table} (id {id_type} PRIMARY KEY, parent_id integer,"
            f" FOREIGN KEY (parent_id) REFERENCES {parent} (id))"
        )
        if index:
            ddl.append(f"CREATE INDEX {table}_parent_idx ON {table} (parent_id)")
    return ddl


@contextmanager
def database_with(dialect: str, ddl: list[str], tmp_path: Path) -> Iterator[str]:
    """A throw-away database of `dialect` holding `ddl`."""
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.db'}"
        run_ddl(url, ddl)
        yield url
        return
    if dialect == "mysql":
        require_mysql()
    with fresh_database(MYSQL_ADMIN_URL if dialect == "mysql" else PG_ADMIN_URL, ddl) as url:
        yield url


@pytest.mark.parametrize(
    ("dialect", "id_type"), [("postgresql", "serial"), ("mysql", "int AUTO_INCREMENT"), ("sqlite", "INTEGER")]
)
def test_statement_count_does_not_grow_with_tables(
    dialect: str, id_type: str, statements: list[str], tmp_path: Path
) -> None:
    counts = []
    for table_count in (1, 300):
        with database_with(dialect, chain_of_tables(table_count, id_type, dialect != "mysql"), tmp_path) as url:
            statements.clear()
            result = introspect(url)
            counts.append(len(statements))
        assert result["totalTables"] == table_count
        assert all(table["foreignKeys"] and table["indexes"] for table in result["tables"])

    assert counts[0] == counts[1] <= MAX_STATEMENTS[dialect], statements


# --- SQLite and dispatch -----------------------------------------------------------


def test_sqlite_columns_keys_and_indexes(sqlite_url: str) -> None:
    result = introspect(sqlite_url)

    assert result["totalTables"] == 3
    tables = {t["name"]: t for t in result["tables"]}
    assert list(tables) == ["customers", "order_lines", "orders"]
    assert {t["schema"] for t in result["tables"]} == {"main"}

    customers = tables["customers"]
    assert customers["columns"] == [
        col("id", "INTEGER", pk=True),  # rowid alias: never NULL
        col("email", "VARCHAR(255)"),
        col("name", "TEXT", nullable=True),
        col("created_at", "TIMESTAMP", default="CURRENT_TIMESTAMP"),
        col("status", "VARCHAR(20)", default="'active'"),
    ]
    assert customers["indexes"] == [index("sqlite_autoindex_customers_1", ["email"], unique=True)]

    orders = tables["orders"]
    assert orders["foreignKeys"] == [fk(None, ["customer_id"], "main", "customers", ["id"], on_delete="CASCADE")]
    assert orders["indexes"] == [index("orders_customer_total_idx", ["customer_id", "total"])]

    lines = tables["order_lines"]
    assert lines["primaryKey"] == ["order_id", "line_no"]
    assert lines["columns"][2] == col("quantity", "INTEGER", default="1")
    # `REFERENCES Orders` without columns resolves to the parent's name and primary key.
    assert lines["foreignKeys"] == [fk(None, ["order_id"], "main", "orders", ["id"], on_delete="CASCADE")]
    assert lines["indexes"] == [
        index("sqlite_autoindex_order_lines_1", ["order_id", "line_no"], unique=True, primary=True)
    ]


def test_sqlite_opens_read_only_and_never_creates_a_file(sqlite_url: str, tmp_path: Path) -> None:
    path = Path(make_url(sqlite_url).database)
    before = path.read_bytes()
    introspect(sqlite_url)
    assert path.read_bytes() == before

    missing = tmp_path / "missing.db"
    with pytest.raises(OperationalError):
        introspect(f"sqlite:///{missing}")
    assert not missing.exists()


@pytest.mark.parametrize("url", ["oracle://scott:tiger@db/orcl", "mssql+pyodbc://sa:pw@db/x"])
def test_unsupported_dialect(url: str) -> None:
    with pytest.raises(ValueError, match="^Unsupported database dialect: (oracle|mssql)$"):
        introspect(url)


def test_progress_is_optional_and_called_with_messages(sqlite_url: str) -> None:
    calls: list[str] = []
    progress: Callable[[str], None] = calls.append
    assert introspect(sqlite_url, progress) == introspect(sqlite_url)
    assert calls and all(isinstance(message, str) and message for message in calls)
