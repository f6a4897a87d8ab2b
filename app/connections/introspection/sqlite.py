"""SQLite introspection in a single query over sqlite_master and the pragma functions.

The table-valued pragma functions (pragma_table_xinfo, pragma_foreign_key_list,
pragma_index_list, pragma_index_info) can be joined to sqlite_master, so one UNION ALL
statement reads every table's columns, foreign keys and indexes. One statement also
means one consistent read without opening a transaction on a file others may write.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection

if TYPE_CHECKING:
    from . import CatalogBuilder

SCHEMA = "main"
# Expression index parts have no column name; cid -1 is the implicit rowid.
EXPRESSION_PLACEHOLDER = "<expression>"
_ROWID_CID = -1

# Ordinary tables of the main database; SQLite's own sqlite_* tables and virtual tables
# (whose pragmas need their module loaded) are left out.
_TABLE_FILTER = r"""m.type = 'table'
  AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND m.sql NOT LIKE 'CREATE VIRTUAL %'"""


def _branch(columns: str, pragma_join: str, extra_filter: str = "") -> str:
    """One UNION branch: `columns` from every table joined with its pragma rows."""
    return f"SELECT {columns}\nFROM main.sqlite_master AS m {pragma_join}\nWHERE {_TABLE_FILTER}{extra_filter}"


# Every branch yields: kind, table, two sort keys, then five kind-specific fields.
# hidden = 1 marks a virtual table's hidden column; 2 and 3 are generated columns.
_CATALOG_SQL = (
    "\nUNION ALL\n".join(
        [
            _branch(
                "'column', m.name, p.cid, 0, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk",
                "JOIN pragma_table_xinfo(m.name, 'main') AS p",
                " AND p.hidden <> 1",
            ),
            _branch(
                '\'foreign_key\', m.name, f.id, f.seq, f."table", f."from", f."to", f.on_delete, f.on_update',
                "JOIN pragma_foreign_key_list(m.name, 'main') AS f",
            ),
            _branch(
                "'index', m.name, il.name, ii.seqno, il.\"unique\", il.origin, ii.name, ii.cid, NULL",
                "JOIN pragma_index_list(m.name, 'main') AS il JOIN pragma_index_info(il.name, 'main') AS ii",
            ),
        ]
    )
    + "\nORDER BY 2, 1, 3, 4"
)


def engine_options(url: URL, connect_timeout: int) -> tuple[URL, dict[str, Any]]:
    """Open the file read-only through an SQLite URI, so a missing file is an error
    instead of a new empty database; `timeout` is how long to wait on a locked file."""
    url = url.set(drivername="sqlite")
    database = url.database or ""
    if database and database != ":memory:":
        query = dict(url.query)
        if query.get("uri", "").lower() not in ("true", "1"):
            database = "file:" + quote(os.path.abspath(database))
        query.update({"mode": "ro", "uri": "true"})
        url = url.set(database=database, query=query)
    return url, {"timeout": connect_timeout}


def read_catalog(conn: Connection, catalog: CatalogBuilder, progress: Callable[[str], None]) -> None:
    """Fill `catalog` with every table of the main database."""
    progress("Reading tables, columns, constraints and indexes")
    rows = conn.execute(text(_CATALOG_SQL)).all()

    columns: dict[str, list[tuple[Any, ...]]] = {}
    foreign_keys: dict[tuple[str, int], list[tuple[Any, ...]]] = {}
    indexes: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for kind, table, key, _seq, *fields in rows:
        if kind == "column":
            columns.setdefault(table, []).append(tuple(fields))
        elif kind == "foreign_key":
            foreign_keys.setdefault((table, key), []).append(tuple(fields))
        else:
            indexes.setdefault((table, key), []).append(tuple(fields))

    # Lower-cased name -> (name, primary key): SQLite table names are case-insensitive,
    # and a foreign key reports its parent as spelled in the REFERENCES clause.
    tables = {table.lower(): (table, _primary_key(table_columns)) for table, table_columns in columns.items()}
    for table, table_columns in columns.items():
        _add_table(catalog, table, table_columns, tables[table.lower()][1])
    for (table, _id), parts in foreign_keys.items():
        _add_foreign_key(catalog, table, parts, tables)
    for (table, name), parts in indexes.items():
        _add_index(catalog, table, name, parts)


def _primary_key(table_columns: list[tuple[Any, ...]]) -> list[str]:
    """Primary key column names in key order (pragma pk is the 1-based key position)."""
    keyed = sorted((pk, name) for name, _type, _notnull, _default, pk in table_columns if pk)
    return [name for _pk, name in keyed]


def _add_table(
    catalog: CatalogBuilder, table: str, table_columns: list[tuple[Any, ...]], primary_key: list[str]
) -> None:
    catalog.add_table(SCHEMA, table)
    catalog.set_primary_key(SCHEMA, table, primary_key)
    for name, type_, notnull, default, _pk in table_columns:
        # A lone INTEGER PRIMARY KEY aliases the rowid and can never hold NULL,
        # although the pragma reports it as nullable unless declared NOT NULL.
        is_rowid = primary_key == [name] and type_.upper() == "INTEGER"
        catalog.add_column(
            SCHEMA, table, name=name, type_=type_, nullable=not notnull and not is_rowid, default=default
        )


def _add_foreign_key(
    catalog: CatalogBuilder, table: str, parts: list[tuple[Any, ...]], tables: dict[str, tuple[str, list[str]]]
) -> None:
    spelled_parent, _from, _to, on_delete, on_update = parts[0]
    # A parent that does not exist (SQLite allows that) is reported as spelled.
    referred_table, parent_key = tables.get(spelled_parent.lower(), (spelled_parent, []))
    referred_columns = [to for *_rest, to, _on_delete, _on_update in parts]
    # `REFERENCES parent` without a column list means the parent's primary key.
    if any(column is None for column in referred_columns):
        referred_columns = parent_key
    catalog.add_foreign_key(
        SCHEMA,
        table,
        name=None,  # SQLite does not report constraint names.
        columns=[from_ for _table, from_, *_rest in parts],
        referred_schema=SCHEMA,
        referred_table=referred_table,
        referred_columns=referred_columns,
        on_delete=on_delete,
        on_update=on_update,
    )


def _add_index(catalog: CatalogBuilder, table: str, name: str, parts: list[tuple[Any, ...]]) -> None:
    unique, origin = parts[0][0], parts[0][1]
    columns = [
        column if column is not None else ("rowid" if cid == _ROWID_CID else EXPRESSION_PLACEHOLDER)
        for _unique, _origin, column, cid, _unused in parts
    ]
    # origin: 'c' CREATE INDEX, 'u' UNIQUE constraint, 'pk' PRIMARY KEY constraint.
    catalog.add_index(SCHEMA, table, name=name, columns=columns, unique=bool(unique), primary=origin == "pk")
