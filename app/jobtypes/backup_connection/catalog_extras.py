"""Catalog facts a restore needs beyond the shared introspection's result.

The introspection describes tables for people (types, keys, indexes by column); recreating
them also needs identity / AUTO_INCREMENT and generated columns, and on PostgreSQL the exact
index definitions (method, order, predicate, INCLUDE columns), which the server prints itself,
and the enum types that columns use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

ColumnKey = tuple[str | None, str, str]  # (schema, table, column)
IndexKey = tuple[str | None, str, str]  # (schema, table, index)

_POSTGRES_COLUMNS_SQL = r"""
SELECT n.nspname, c.relname, a.attname, a.attidentity, a.attgenerated,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND (a.attidentity <> '' OR a.attgenerated <> '')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""

_POSTGRES_INDEXES_SQL = r"""
SELECT n.nspname, c.relname, ic.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT i.indisprimary
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
"""

# Enum types of user schemas, labels in their sort order (a column of such a type needs it).
_POSTGRES_ENUMS_SQL = r"""
SELECT n.nspname, t.typname, ARRAY(
    SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname, t.typname
"""

_MYSQL_COLUMNS_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, EXTRA, GENERATION_EXPRESSION
FROM information_schema.COLUMNS
WHERE EXTRA <> '' AND TABLE_SCHEMA {where}
"""

_MYSQL_PREFIXES_SQL = """
SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART
FROM information_schema.STATISTICS
WHERE SUB_PART IS NOT NULL AND TABLE_SCHEMA {where}
"""

_MYSQL_SYSTEM_SCHEMAS = "('mysql', 'information_schema', 'performance_schema', 'sys')"


@dataclass
class CatalogExtras:
    # "ALWAYS" or "BY DEFAULT" (PostgreSQL identity), or "AUTO_INCREMENT" (MySQL).
    identity: dict[ColumnKey, str] = field(default_factory=dict)
    # The generation expression and "STORED" or "VIRTUAL"; such columns get no INSERT values.
    generated: dict[ColumnKey, tuple[str, str]] = field(default_factory=dict)
    # MySQL 8 marks expression defaults (its COLUMN_DEFAULT leaves literals unquoted too).
    expression_defaults: set[ColumnKey] = field(default_factory=set)
    # MySQL `ON UPDATE CURRENT_TIMESTAMP` clauses, as the server spells them.
    on_update: dict[ColumnKey, str] = field(default_factory=dict)
    # PostgreSQL: the server's own CREATE INDEX statement for each non-primary index.
    index_definitions: dict[IndexKey, str] = field(default_factory=dict)
    # PostgreSQL: (schema, name, labels) of each enum type, created before the tables.
    enums: list[tuple[str, str, list[str]]] = field(default_factory=list)
    # MySQL: indexed prefix lengths of (schema, table, index, column).
    prefix_lengths: dict[tuple[str, str, str, str], int] = field(default_factory=dict)


def read_extras(conn: Connection, dialect: str, database: str | None) -> CatalogExtras:
    extras = CatalogExtras()
    if dialect == "postgresql":
        _read_postgres(conn, extras)
    elif dialect == "mysql":
        _read_mysql(conn, extras, database)
    return extras


def _read_postgres(conn: Connection, extras: CatalogExtras) -> None:
    for schema, table, column, identity, generated, expression in conn.execute(text(_POSTGRES_COLUMNS_SQL)):
        key = (schema, table, column)
        if identity:
            extras.identity[key] = "ALWAYS" if identity == "a" else "BY DEFAULT"
        if generated:
            extras.generated[key] = (expression, "STORED")
    for schema, table, index, definition in conn.execute(text(_POSTGRES_INDEXES_SQL)):
        extras.index_definitions[(schema, table, index)] = definition
    extras.enums = [(schema, name, list(labels)) for schema, name, labels in conn.execute(text(_POSTGRES_ENUMS_SQL))]


def _read_mysql(conn: Connection, extras: CatalogExtras, database: str | None) -> None:
    where, params = ("= :database", {"database": database}) if database else (f"NOT IN {_MYSQL_SYSTEM_SCHEMAS}", {})
    for schema, table, column, extra, expression in conn.execute(text(_MYSQL_COLUMNS_SQL.format(where=where)), params):
        key = (schema, table, column)
        words = extra.upper()
        if "AUTO_INCREMENT" in words:
            extras.identity[key] = "AUTO_INCREMENT"
        if "DEFAULT_GENERATED" in words:
            extras.expression_defaults.add(key)
        elif "GENERATED" in words and expression:
            extras.generated[key] = (expression, "STORED" if "STORED" in words else "VIRTUAL")
        if "ON UPDATE" in words:
            extras.on_update[key] = extra[words.index("ON UPDATE") :]
    for schema, table, index, column, length in conn.execute(text(_MYSQL_PREFIXES_SQL.format(where=where)), params):
        extras.prefix_lengths[(schema, table, index, column)] = int(length)
