"""MySQL/MariaDB introspection from information_schema in five bulk queries.

Every query filters on the schema column so the server only opens the named database's
table definitions. Queries are not joined with each other on purpose: the server
materialises information_schema tables, and a join can lose the schema filter pushdown
and scan every database on the server.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Result

if TYPE_CHECKING:
    from . import CatalogBuilder

Query = Callable[..., Result]

STATEMENT_TIMEOUT_SECONDS = 60
SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys")
# MariaDB lists system-versioned tables under their own type; they are ordinary tables.
_TABLE_TYPES = "('BASE TABLE', 'SYSTEM VERSIONED')"

_TABLES_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_TYPE IN {types} AND {where}
"""
_COLUMNS_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT
FROM information_schema.COLUMNS
WHERE {where}
ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION
"""
_FOREIGN_KEY_COLUMNS_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME,
       REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE
WHERE REFERENCED_TABLE_NAME IS NOT NULL AND {where}
ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
"""
_REFERENTIAL_RULES_SQL = """
SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE
FROM information_schema.REFERENTIAL_CONSTRAINTS
WHERE {where}
"""
_INDEX_COLUMNS_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME
FROM information_schema.STATISTICS
WHERE {where}
ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""

# MySQL 8 functional index parts have no column name.
EXPRESSION_PLACEHOLDER = "<expression>"


def engine_options(url: URL, connect_timeout: int) -> tuple[URL, dict[str, Any]]:
    """Pin plain `mysql://`/`mariadb://` URLs to PyMySQL and pass its connect timeout."""
    if url.drivername in ("mysql", "mariadb"):
        url = url.set(drivername=f"{url.drivername}+pymysql")
    return url, {"connect_timeout": connect_timeout}


def read_catalog(conn: Connection, catalog: CatalogBuilder, progress: Callable[[str], None]) -> None:
    """Fill `catalog` with the URL's database, or every non-system database if it names none."""
    _start_read_only(conn)
    query = _schema_query(conn, conn.engine.url.database or None)
    progress("Reading tables")
    for schema, name in query(_TABLES_SQL):
        catalog.add_table(schema, name)
    progress("Reading columns")
    _read_columns(query, catalog, is_mariadb=bool(getattr(conn.dialect, "is_mariadb", False)))
    progress("Reading constraints")
    _read_foreign_keys(query, catalog)
    progress("Reading indexes")
    _read_indexes(query, catalog)


def _schema_query(conn: Connection, database: str | None) -> Query:
    """A runner for this module's SQL templates, filtered to the databases being read."""

    def query(sql: str, schema_column: str = "TABLE_SCHEMA") -> Result:
        where, params = _schema_filter(schema_column, database)
        return conn.execute(text(sql.format(where=where, types=_TABLE_TYPES)), params)

    return query


def _read_columns(query: Query, catalog: CatalogBuilder, *, is_mariadb: bool) -> None:
    # Defaults are shown as the server reports them: MariaDB quotes literals ('active')
    # and spells expressions as calls (current_timestamp()); MySQL 8 leaves literals bare.
    for schema, table, name, type_, is_nullable, default in query(_COLUMNS_SQL):
        # MariaDB spells "no default" on a nullable column as the bare text NULL.
        if is_mariadb and default == "NULL":
            default = None
        catalog.add_column(schema, table, name=name, type_=type_, nullable=is_nullable == "YES", default=default)


def _read_foreign_keys(query: Query, catalog: CatalogBuilder) -> None:
    rules = {
        (schema, table, name): (on_delete, on_update)
        for schema, table, name, on_delete, on_update in query(_REFERENTIAL_RULES_SQL, "CONSTRAINT_SCHEMA")
    }
    foreign_keys: dict[tuple[str, str, str], dict[str, Any]] = {}
    for schema, table, name, column, ref_schema, ref_table, ref_column in query(_FOREIGN_KEY_COLUMNS_SQL):
        fk = foreign_keys.setdefault(
            (schema, table, name),
            {"referred_schema": ref_schema, "referred_table": ref_table, "columns": [], "referred_columns": []},
        )
        fk["columns"].append(column)
        fk["referred_columns"].append(ref_column)
    for (schema, table, name), fk in foreign_keys.items():
        on_delete, on_update = rules.get((schema, table, name), (None, None))
        catalog.add_foreign_key(schema, table, name=name, on_delete=on_delete, on_update=on_update, **fk)


def _read_indexes(query: Query, catalog: CatalogBuilder) -> None:
    """Indexes, and the primary key from the index MySQL always names PRIMARY."""
    indexes: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    unique: dict[tuple[str, str, str], bool] = {}
    for schema, table, name, non_unique, column in query(_INDEX_COLUMNS_SQL):
        indexes[(schema, table, name)].append(column or EXPRESSION_PLACEHOLDER)
        unique[(schema, table, name)] = not int(non_unique)
    for key, columns in indexes.items():
        schema, table, name = key
        primary = name == "PRIMARY"
        if primary:
            catalog.set_primary_key(schema, table, columns)
        catalog.add_index(schema, table, name=name, columns=columns, unique=unique[key], primary=primary)


def _start_read_only(conn: Connection) -> None:
    """Cap statement time and open a read-only transaction (variable names differ by server)."""
    if getattr(conn.dialect, "is_mariadb", False):
        conn.exec_driver_sql(f"SET SESSION max_statement_time = {STATEMENT_TIMEOUT_SECONDS}")
    else:
        conn.exec_driver_sql(f"SET SESSION max_execution_time = {STATEMENT_TIMEOUT_SECONDS * 1000}")
    conn.exec_driver_sql("START TRANSACTION READ ONLY")


def _schema_filter(column: str, database: str | None) -> tuple[str, dict[str, Any]]:
    """WHERE fragment limiting `column` to the URL's database, or to all non-system ones."""
    if database:
        return f"{column} = :database", {"database": database}
    names = ", ".join(f":system_{i}" for i in range(len(SYSTEM_SCHEMAS)))
    return f"{column} NOT IN ({names})", {f"system_{i}": name for i, name in enumerate(SYSTEM_SCHEMAS)}
