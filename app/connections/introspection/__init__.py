"""Bulk schema introspection of a user's database: PostgreSQL, MySQL/MariaDB and SQLite.

`introspect(url)` returns every user table with its columns, primary key, foreign keys
and indexes. Each dialect module reads its catalogs in a handful of bulk queries whose
number does not grow with the number of tables (a per-table loop is what makes generic
reflection slow on databases with thousands of tables), and feeds the rows to a
`CatalogBuilder`, which assembles the result shape shared by all dialects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import NullPool

from . import mysql, postgres, sqlite

Progress = Callable[[str], None]
TableKey = tuple[str | None, str]

# URL backend name -> dialect module. Plain `mysql://`/`mariadb://` get the PyMySQL
# driver and plain `postgresql://` psycopg2 inside the modules: those are installed.
_DIALECTS = {
    "postgresql": postgres,
    "postgres": postgres,
    "mysql": mysql,
    "mariadb": mysql,
    "sqlite": sqlite,
}


def introspect(url: str, progress: Progress | None = None, connect_timeout: int = 10) -> dict:
    """Describe every user table of the database at `url`.

    Returns ``{"totalTables": int, "tables": [...]}`` with tables sorted by (schema, name);
    each table has ``schema``, ``name``, ``columns`` (ordinal order; ``name``, ``type`` as the
    database spells it, ``nullable``, ``default`` expression text or None, ``primaryKey``),
    ``primaryKey`` (column names in key order), ``foreignKeys`` (``name``, ``columns``,
    ``referredSchema``, ``referredTable``, ``referredColumns``, ``onDelete``, ``onUpdate``;
    the actions are the database's rule text such as ``"CASCADE"`` or ``"NO ACTION"``) and
    ``indexes`` (``name``, ``columns``, ``unique``, ``primary``). Views are left out.

    `progress` is called with a short message before each bulk step. Driver errors
    propagate as SQLAlchemy exceptions (e.g. ``sqlalchemy.exc.OperationalError``);
    an unknown dialect raises ``ValueError``.
    """
    parsed = make_url(url)
    dialect = _dialect_of(parsed)
    report: Progress = progress or _ignore
    engine = short_lived_engine(parsed, connect_timeout)
    try:
        report("Connecting")
        catalog = CatalogBuilder()
        # Leaving the block without a commit rolls the read-only transaction back.
        with engine.connect() as conn:
            dialect.read_catalog(conn, catalog, report)
    finally:
        engine.dispose()
    report("Assembling schema")
    return catalog.build()


def _dialect_of(url: URL):
    backend = url.get_backend_name()
    dialect = _DIALECTS.get(backend)
    if dialect is None:
        raise ValueError(f"Unsupported database dialect: {backend}")
    return dialect


def short_lived_engine(url: URL, connect_timeout: int) -> Engine:
    """An engine on a user's database with the drivers and options the introspection uses
    (SQLite opened read-only). NullPool: one connection, nothing kept open after it is disposed."""
    engine_url, connect_args = _dialect_of(url).engine_options(url, connect_timeout)
    return create_engine(engine_url, poolclass=NullPool, connect_args=connect_args)


def _ignore(message: str) -> None:
    """Default progress callback: discard the message."""


class CatalogBuilder:
    """Collects bulk catalog rows and assembles them into the public result shape.

    Rows naming a table that was not added with `add_table` (a view's columns, a
    partition's indexes, a system table) are dropped, so dialect queries may be broad.
    """

    def __init__(self) -> None:
        self._tables: dict[TableKey, dict[str, Any]] = {}

    def add_table(self, schema: str | None, name: str) -> None:
        """Register a table; only registered tables appear in the result."""
        self._tables[(schema, name)] = {
            "schema": schema,
            "name": name,
            "columns": [],
            "primaryKey": [],
            "foreignKeys": [],
            "indexes": [],
        }

    def has_table(self, schema: str | None, name: str) -> bool:
        """Whether `add_table` registered this table."""
        return (schema, name) in self._tables

    def add_column(
        self,
        schema: str | None,
        table: str,
        *,
        name: str,
        type_: str,
        nullable: bool,
        default: str | None,
    ) -> None:
        """Append a column; call in ordinal order."""
        entry = self._tables.get((schema, table))
        if entry is not None:
            entry["columns"].append(
                {"name": name, "type": type_, "nullable": nullable, "default": default, "primaryKey": False}
            )

    def set_primary_key(self, schema: str | None, table: str, columns: list[str]) -> None:
        """Record the primary key's column names in key order."""
        entry = self._tables.get((schema, table))
        if entry is not None:
            entry["primaryKey"] = list(columns)

    def add_foreign_key(
        self,
        schema: str | None,
        table: str,
        *,
        name: str | None,
        columns: list[str],
        referred_schema: str | None,
        referred_table: str,
        referred_columns: list[str],
        on_delete: str | None,
        on_update: str | None,
    ) -> None:
        """Record a foreign key; column lists are in constraint order."""
        entry = self._tables.get((schema, table))
        if entry is not None:
            entry["foreignKeys"].append(
                {
                    "name": name,
                    "columns": list(columns),
                    "referredSchema": referred_schema,
                    "referredTable": referred_table,
                    "referredColumns": list(referred_columns),
                    "onDelete": on_delete,
                    "onUpdate": on_update,
                }
            )

    def add_index(
        self, schema: str | None, table: str, *, name: str, columns: list[str], unique: bool, primary: bool
    ) -> None:
        """Record an index (including the primary key's); columns in key order."""
        entry = self._tables.get((schema, table))
        if entry is not None:
            entry["indexes"].append({"name": name, "columns": list(columns), "unique": unique, "primary": primary})

    def build(self) -> dict:
        """Return ``{"totalTables", "tables"}`` with tables, keys and indexes in a stable order."""
        tables = sorted(self._tables.values(), key=lambda t: (t["schema"] or "", t["name"]))
        for table in tables:
            key_columns = set(table["primaryKey"])
            for column in table["columns"]:
                column["primaryKey"] = column["name"] in key_columns
            table["foreignKeys"].sort(key=lambda fk: (fk["name"] or "", fk["columns"]))
            table["indexes"].sort(key=lambda index: index["name"])
        return {"totalTables": len(tables), "tables": tables}
