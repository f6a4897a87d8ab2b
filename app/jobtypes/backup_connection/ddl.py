"""DDL for introspected tables, in the order a restore can run it.

`SchemaScript` renders, from the introspection's tables (see `app.connections.introspection`):
schemas and sequences, then every CREATE TABLE (columns, NOT NULL, defaults, primary key),
then, once all tables (and their rows) exist, indexes and foreign keys, so neither the order
of the tables nor a key pointing at a later table matters. SQLite is the exception for foreign
keys: it has no ALTER TABLE ... ADD CONSTRAINT, so they stay in CREATE TABLE, where SQLite
does not require the referred table to exist yet.
"""

from __future__ import annotations

import re
from collections import Counter

from .catalog_extras import CatalogExtras
from .dialects import Dialect

EXPRESSION_PLACEHOLDER = "<expression>"
SQLITE_AUTOINDEX_PREFIX = "sqlite_autoindex_"
_NEXTVAL = re.compile(r"nextval\('((?:[^']|'')+)'::regclass\)")
_SQLITE_LITERAL_DEFAULT = re.compile(
    r"""[-+]?\d+(\.\d*)?([eE][-+]?\d+)?|'(?:[^']|'')*'|[xX]'[0-9a-fA-F]*'|NULL|TRUE|FALSE"""
    r"""|CURRENT_TIME|CURRENT_DATE|CURRENT_TIMESTAMP""",
    re.IGNORECASE,
)


class SchemaScript:
    """DDL statements for `tables`; `qualify` writes schema-qualified names.

    MySQL names are qualified only when the backup spans several databases: a backup of one
    database restores into whichever database the restoring session uses.
    """

    def __init__(
        self, dialect: Dialect, tables: list[dict], extras: CatalogExtras, *, qualify: bool, is_mariadb: bool = False
    ):
        self.dialect = dialect
        self.tables = tables
        self.extras = extras
        self.qualify = qualify
        self.is_mariadb = is_mariadb
        self._sequence_users = Counter(
            sequence for table in tables for column in table["columns"] if (sequence := self._sequence_of(column))
        )

    # Names

    def table_name(self, schema: str | None, name: str) -> str:
        quote = self.dialect.quote
        return f"{quote(schema)}.{quote(name)}" if self.qualify and schema else quote(name)

    def label(self, table: dict) -> str:
        """How a table is named to the user (progress messages)."""
        return f"{table['schema']}.{table['name']}" if self.qualify and table["schema"] else table["name"]

    def column_list(self, columns: list[str]) -> str:
        return ", ".join(self.dialect.quote(column) for column in columns)

    # Before the tables

    def preamble(self) -> list[str]:
        statements = []
        schemas = sorted({t["schema"] for t in self.tables if t["schema"]})
        if self.dialect.name == "postgresql":
            statements += [f"CREATE SCHEMA IF NOT EXISTS {self.dialect.quote(s)};" for s in schemas if s != "public"]
            for schema, name, labels in self.extras.enums:
                enum_schema = self.dialect.quote(schema)
                if schema != "public" and schema not in schemas:  # a type in a schema without tables
                    statements.append(f"CREATE SCHEMA IF NOT EXISTS {enum_schema};")
                values = ", ".join(self.dialect.string(label) for label in labels)
                statements.append(f"CREATE TYPE {enum_schema}.{self.dialect.quote(name)} AS ENUM ({values});")
            statements += [f"CREATE SEQUENCE IF NOT EXISTS {s};" for s in sorted(self._sequence_users)]
        elif self.dialect.name == "mysql" and self.qualify:
            statements += [f"CREATE DATABASE IF NOT EXISTS {self.dialect.quote(s)};" for s in schemas]
        return statements

    # Tables

    def create_table(self, table: dict) -> str:
        lines = [self._column(table, column) for column in table["columns"]]
        lines += self._table_keys(table)
        body = ",\n".join(f"    {line}" for line in lines)
        return f"CREATE TABLE {self.table_name(table['schema'], table['name'])} (\n{body}\n);"

    def after_create(self, table: dict) -> list[str]:
        """PostgreSQL: a sequence used by one column belongs to it, as `serial` makes it."""
        statements = []
        for column in table["columns"]:
            sequence = self._sequence_of(column)
            if sequence and self._sequence_users[sequence] == 1:
                owner = f"{self.table_name(table['schema'], table['name'])}.{self.dialect.quote(column['name'])}"
                statements.append(f"ALTER SEQUENCE {sequence} OWNED BY {owner};")
        return statements

    def _column(self, table: dict, column: dict) -> str:
        key = (table["schema"], table["name"], column["name"])
        parts = [self.dialect.quote(column["name"])]
        if column["type"]:
            parts.append(column["type"])
        generated = self.extras.generated.get(key)
        identity = self.extras.identity.get(key)
        if self.dialect.name == "postgresql":
            if generated:
                parts.append(f"GENERATED ALWAYS AS ({generated[0]}) STORED")
            elif identity:
                parts.append(f"GENERATED {identity} AS IDENTITY")
            elif column["default"] is not None:
                parts.append(f"DEFAULT {column['default']}")
            if not column["nullable"]:
                parts.append("NOT NULL")
        elif self.dialect.name == "mysql":
            if generated:
                parts.append(f"GENERATED ALWAYS AS ({generated[0]}) {generated[1]}")
            else:
                # Explicit NULL: a bare TIMESTAMP column may otherwise become NOT NULL.
                parts.append("NULL" if column["nullable"] else "NOT NULL")
                if column["default"] is not None:
                    parts.append(f"DEFAULT {self._mysql_default(key, column['default'])}")
                if key in self.extras.on_update:
                    parts.append(self.extras.on_update[key])
                if identity:
                    parts.append("AUTO_INCREMENT")
        else:
            if not column["nullable"]:
                parts.append("NOT NULL")
            if column["default"] is not None:
                parts.append(f"DEFAULT {_sqlite_default(column['default'])}")
        return " ".join(parts)

    def _mysql_default(self, key, default: str) -> str:
        # MariaDB reports defaults as SQL (quoted literals, expressions as calls); MySQL 8 leaves
        # literals bare and flags expressions, which need parentheses unless CURRENT_TIMESTAMP.
        if self.is_mariadb:
            return default
        if key in self.extras.expression_defaults:
            bare = default.upper().startswith(("CURRENT_TIMESTAMP", "NOW(", "LOCALTIME"))
            return default if bare else f"({default})"
        return self.dialect.string(default)

    def _table_keys(self, table: dict) -> list[str]:
        quote = self.dialect.quote
        keys = []
        if self.dialect.name == "sqlite":
            keys += self._sqlite_key_constraints(table)
            keys += [self._foreign_key_clause(table, fk) for fk in table["foreignKeys"]]
        elif table["primaryKey"]:
            primary = next((index for index in table["indexes"] if index["primary"]), None)
            named = f"CONSTRAINT {quote(primary['name'])} " if primary and self.dialect.name == "postgresql" else ""
            keys.append(f"{named}PRIMARY KEY ({self.column_list(table['primaryKey'])})")
        return keys

    def _sqlite_key_constraints(self, table: dict) -> list[str]:
        """The primary key and UNIQUE constraints, in the order of SQLite's automatic indexes
        (numbered by declaration), so a restore recreates the same index names."""
        constraints = []
        automatic = [i for i in table["indexes"] if i["name"].startswith(SQLITE_AUTOINDEX_PREFIX)]
        automatic.sort(key=lambda index: int(index["name"].rsplit("_", 1)[-1] or 0))
        if table["primaryKey"] and not any(index["primary"] for index in automatic):
            constraints.append(f"PRIMARY KEY ({self.column_list(table['primaryKey'])})")  # the rowid alias
        for index in automatic:
            kind = "PRIMARY KEY" if index["primary"] else "UNIQUE"
            constraints.append(f"{kind} ({self.column_list(index['columns'])})")
        return constraints

    # After the rows

    def reset_sequences(self, table: dict) -> list[str]:
        """PostgreSQL: move each sequence past the restored rows, as pg_dump's setval does."""
        if self.dialect.name != "postgresql":
            return []
        statements = []
        table_name = self.table_name(table["schema"], table["name"])
        for column in table["columns"]:
            quoted = self.dialect.quote(column["name"])
            key = (table["schema"], table["name"], column["name"])
            sequence = self._sequence_of(column)
            if key in self.extras.identity:
                target = (
                    f"pg_catalog.pg_get_serial_sequence({self.dialect.string(table_name)}, "
                    f"{self.dialect.string(column['name'])})"
                )
            elif sequence:
                target = self.dialect.string(sequence)
            else:
                continue
            statements.append(
                f"SELECT pg_catalog.setval({target}, COALESCE(MAX({quoted}), 1), MAX({quoted}) IS NOT NULL) "
                f"FROM {table_name};"
            )
        return statements

    def indexes(self, table: dict) -> list[str]:
        statements = []
        for index in table["indexes"]:
            if index["primary"] or index["name"].startswith(SQLITE_AUTOINDEX_PREFIX):
                continue
            definition = self.extras.index_definitions.get((table["schema"], table["name"], index["name"]))
            if definition:
                statements.append(definition + ";")
            elif EXPRESSION_PLACEHOLDER in index["columns"]:
                statements.append(f"-- index {index['name']!r} on an expression is not part of this backup")
            else:
                unique = "UNIQUE " if index["unique"] else ""
                columns = ", ".join(self._index_part(table, index, column) for column in index["columns"])
                on = self.table_name(table["schema"], table["name"])
                statements.append(f"CREATE {unique}INDEX {self._index_name(table, index)} ON {on} ({columns});")
        return statements

    def _index_name(self, table: dict, index: dict) -> str:
        # Never schema-qualified: a PostgreSQL index always lives in its table's schema.
        return self.dialect.quote(index["name"])

    def _index_part(self, table: dict, index: dict, column: str) -> str:
        length = self.extras.prefix_lengths.get((table["schema"], table["name"], index["name"], column))
        return self.dialect.quote(column) + (f"({length})" if length else "")

    def foreign_keys(self, table: dict) -> list[str]:
        if not self.dialect.alters_foreign_keys:
            return []
        name = self.table_name(table["schema"], table["name"])
        return [f"ALTER TABLE {name} ADD {self._foreign_key_clause(table, fk)};" for fk in table["foreignKeys"]]

    def _foreign_key_clause(self, table: dict, fk: dict) -> str:
        named = f"CONSTRAINT {self.dialect.quote(fk['name'])} " if fk["name"] else ""
        referred = self.table_name(fk["referredSchema"], fk["referredTable"])
        clause = (
            f"{named}FOREIGN KEY ({self.column_list(fk['columns'])}) "
            f"REFERENCES {referred} ({self.column_list(fk['referredColumns'])})"
        )
        for event, action in (("DELETE", fk["onDelete"]), ("UPDATE", fk["onUpdate"])):
            # MariaDB records an explicit RESTRICT added while FOREIGN_KEY_CHECKS = 0 as NO ACTION,
            # but an omitted clause as RESTRICT (its default): omitting it restores the same rule.
            if action and not (self.is_mariadb and action == "RESTRICT"):
                clause += f" ON {event} {action}"
        return clause

    # Rows

    def inserted_columns(self, table: dict) -> list[dict]:
        """Generated columns compute their own values: they are neither read nor inserted."""
        return [c for c in table["columns"] if (table["schema"], table["name"], c["name"]) not in self.extras.generated]

    def insert_prefix(self, table: dict, columns: list[dict]) -> str:
        overriding = ""
        if any(self.extras.identity.get((table["schema"], table["name"], c["name"])) == "ALWAYS" for c in columns):
            overriding = " OVERRIDING SYSTEM VALUE"
        names = self.column_list([c["name"] for c in columns])
        return f"INSERT INTO {self.table_name(table['schema'], table['name'])} ({names}){overriding} VALUES\n"

    def _sequence_of(self, column: dict) -> str | None:
        """The sequence a PostgreSQL `nextval('...'::regclass)` default draws from, as SQL text."""
        if self.dialect.name != "postgresql" or not column["default"]:
            return None
        match = _NEXTVAL.fullmatch(column["default"])
        return match.group(1).replace("''", "'") if match else None


def _sqlite_default(default: str) -> str:
    """SQLite reports a default as written; anything but a literal needs its parentheses back."""
    return default if _SQLITE_LITERAL_DEFAULT.fullmatch(default.strip()) else f"({default})"
