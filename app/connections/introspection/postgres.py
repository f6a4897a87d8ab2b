"""PostgreSQL introspection from pg_catalog in four bulk queries.

pg_catalog is used rather than information_schema: the latter's views check privileges
row by row and rebuild type names through several joins, which is an order of magnitude
slower on large catalogs. Each query covers every user table at once. Needs
PostgreSQL 12+ (pg_attribute.attgenerated, pg_constraint.conparentid).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection

if TYPE_CHECKING:
    from . import CatalogBuilder

STATEMENT_TIMEOUT = "60s"

# pg_constraint.confdeltype / confupdtype codes.
_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

# Regular and partitioned tables in user schemas. Partitions are left out: they repeat
# their parent's shape, and a partitioned table may have thousands of them.
_USER_TABLES = """
    pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
"""
_USER_TABLE_FILTER = r"""
    c.relkind IN ('r', 'p')
    AND NOT c.relispartition
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND n.nspname NOT LIKE 'pg\_temp\_%'
    AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
"""

_TABLES_SQL = f"""
SELECT n.nspname, c.relname
FROM {_USER_TABLES}
WHERE {_USER_TABLE_FILTER}
"""

# Generated columns keep their expression in pg_attrdef too; it is not a default.
# pg_get_expr gets relid 0: given the table it opens it, building a relation cache entry
# per table on a fresh connection (half the query time), and it is only needed to name
# column references, which PostgreSQL forbids in defaults (the CASE skips generated ones).
# Ordering by oid rather than by name keeps the sort small enough to stay in memory;
# the builder only needs each table's columns in attnum order.
_COLUMNS_SQL = f"""
SELECT n.nspname, c.relname, a.attname,
       format_type(a.atttypid, a.atttypmod),
       NOT a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0) END
FROM {_USER_TABLES}
JOIN pg_attribute a ON a.attrelid = c.oid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE {_USER_TABLE_FILTER} AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""


def _column_names(keys: str, relation: str) -> str:
    """SQL for the attribute names of the attnum array `keys` of `relation`, in array order."""
    return f"""ARRAY(
        SELECT a.attname::text
        FROM unnest({keys}) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.attnum
        ORDER BY k.ord)"""


# No ORDER BY here or for indexes: the builder sorts keys and indexes by name.
# conparentid <> 0 marks the per-partition copies PostgreSQL adds when a foreign key
# references a partitioned table; the user declared only the parent constraint.
_CONSTRAINTS_SQL = f"""
SELECT n.nspname, c.relname, con.conname, con.contype,
       {_column_names("con.conkey", "con.conrelid")},
       rn.nspname, rc.relname,
       {_column_names("con.confkey", "con.confrelid")},
       con.confdeltype, con.confupdtype
FROM {_USER_TABLES}
JOIN pg_constraint con ON con.conrelid = c.oid
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE {_USER_TABLE_FILTER} AND con.contype IN ('p', 'f') AND con.conparentid = 0
"""

# indkey holds 0 for an expression column, whose text only pg_get_indexdef can give;
# positions past indnkeyatts are INCLUDE columns, which are not part of the key.
_INDEXES_SQL = f"""
SELECT n.nspname, c.relname, ic.relname, i.indisunique, i.indisprimary,
       ARRAY(
           SELECT CASE WHEN k.attnum = 0 THEN pg_get_indexdef(i.indexrelid, k.ord::int, true)
                       ELSE a.attname::text END
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
           WHERE k.ord <= i.indnkeyatts
           ORDER BY k.ord)
FROM {_USER_TABLES}
JOIN pg_index i ON i.indrelid = c.oid
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE {_USER_TABLE_FILTER}
"""


def engine_options(url: URL, connect_timeout: int) -> tuple[URL, dict[str, Any]]:
    """Pin plain `postgresql://` URLs to psycopg2 and pass libpq's connect timeout."""
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg2")
    return url, {"connect_timeout": connect_timeout}


def read_catalog(conn: Connection, catalog: CatalogBuilder, progress: Callable[[str], None]) -> None:
    """Fill `catalog` with every user table of the connected database."""
    # One repeatable-read snapshot so the four queries agree with each other; read-only
    # so a mistake can never write to a user's database; SET LOCAL ends with it.
    conn.exec_driver_sql(
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
        f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"
    )

    progress("Reading tables")
    for schema, name in conn.execute(text(_TABLES_SQL)):
        catalog.add_table(schema, name)

    progress("Reading columns")
    for schema, table, name, type_, nullable, default in conn.execute(text(_COLUMNS_SQL)):
        catalog.add_column(schema, table, name=name, type_=type_, nullable=nullable, default=default)

    progress("Reading constraints")
    for row in conn.execute(text(_CONSTRAINTS_SQL)):
        schema, table, name, kind, columns, ref_schema, ref_table, ref_columns, on_delete, on_update = row
        if kind == "p":
            catalog.set_primary_key(schema, table, columns)
            continue
        catalog.add_foreign_key(
            schema,
            table,
            name=name,
            columns=columns,
            referred_schema=ref_schema,
            referred_table=ref_table,
            referred_columns=ref_columns,
            on_delete=_ACTIONS.get(on_delete),
            on_update=_ACTIONS.get(on_update),
        )

    progress("Reading indexes")
    for schema, table, name, unique, primary, columns in conn.execute(text(_INDEXES_SQL)):
        catalog.add_index(schema, table, name=name, columns=columns, unique=unique, primary=primary)
