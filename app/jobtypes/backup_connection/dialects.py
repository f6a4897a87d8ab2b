"""Per-dialect spelling: quoted identifiers, value literals, and the script's frame.

Every identifier is quoted, so names with capitals, spaces, quotes or reserved words survive.
Values are written as literals the target parses back to the same value: PostgreSQL rows are
read as the server's text form (which its input functions accept for every type), MySQL and
SQLite rows as the driver's Python values.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


class Dialect:
    name = ""
    # Whether `ALTER TABLE ... ADD FOREIGN KEY` exists; SQLite declares keys in CREATE TABLE.
    alters_foreign_keys = True

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def string(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def literal(self, value, column_type: str = "") -> str:
        raise NotImplementedError

    def header(self) -> list[str]:
        return []

    def footer(self) -> list[str]:
        return []


class PostgresDialect(Dialect):
    name = "postgresql"
    _NUMERIC_TYPES = ("smallint", "integer", "bigint", "numeric", "real", "double precision")

    def literal(self, value, column_type: str = "") -> str:
        """`value` is the server's text form of the column (or None); numbers and booleans are
        written bare for readability, everything else as a string the column's type parses."""
        if value is None:
            return "NULL"
        if column_type == "boolean":
            return "true" if value in ("t", "true") else "false"
        if column_type.startswith(self._NUMERIC_TYPES) and "[]" not in column_type and _PLAIN_NUMBER.fullmatch(value):
            return value
        return self.string(value)

    def header(self) -> list[str]:
        # standard_conforming_strings: a backslash in a literal is an ordinary character.
        return [
            "SET client_encoding = 'UTF8';",
            "SET standard_conforming_strings = on;",
            "SET check_function_bodies = false;",
            "BEGIN;",
        ]

    def footer(self) -> list[str]:
        return ["COMMIT;"]


class MySQLDialect(Dialect):
    name = "mysql"
    # Backslash escapes as mysqldump writes them; the header turns NO_BACKSLASH_ESCAPES off.
    _ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\0": "\\0", "\n": "\\n", "\r": "\\r", "\x1a": "\\Z"})

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def string(self, value: str) -> str:
        return "'" + value.translate(self._ESCAPES) + "'"

    def literal(self, value, column_type: str = "") -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int | Decimal):
            return str(value)
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return "X'" + bytes(value).hex().upper() + "'"
        if isinstance(value, timedelta):  # TIME columns
            return self.string(_mysql_time(value))
        if isinstance(value, datetime | date | time):
            return self.string(value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat())
        if isinstance(value, set):  # SET columns, when the driver returns them as sets
            return self.string(",".join(sorted(value)))
        return self.string(str(value))

    def header(self) -> list[str]:
        # The sql_mode mysqldump uses: backslash escapes on, an explicit 0 in an
        # AUTO_INCREMENT column stays 0; checks are off while rows arrive in any order.
        return [
            "SET NAMES utf8mb4;",
            "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO';",
            "SET SESSION time_zone = '+00:00';",
            "SET FOREIGN_KEY_CHECKS = 0;",
            "SET UNIQUE_CHECKS = 0;",
        ]

    def footer(self) -> list[str]:
        return ["SET UNIQUE_CHECKS = 1;", "SET FOREIGN_KEY_CHECKS = 1;"]


class SQLiteDialect(Dialect):
    name = "sqlite"
    alters_foreign_keys = False

    def string(self, value: str) -> str:
        if "\0" in value:  # a NUL cannot appear in SQL text: spell the UTF-8 bytes as text
            return "CAST(X'" + value.encode("utf-8").hex().upper() + "' AS TEXT)"
        return super().string(value)

    def literal(self, value, column_type: str = "") -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if math.isnan(value):
                return "NULL"  # SQLite stores NaN as NULL
            if math.isinf(value):
                return "1e999" if value > 0 else "-1e999"
            return repr(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return "X'" + bytes(value).hex().upper() + "'"
        return self.string(str(value))

    def header(self) -> list[str]:
        # Outside the transaction: the pragma is a no-op inside one.
        return ["PRAGMA foreign_keys = OFF;", "BEGIN;"]

    def footer(self) -> list[str]:
        return ["COMMIT;"]


def _mysql_time(value: timedelta) -> str:
    """A TIME value ('-838:59:59' to '838:59:59', with microseconds) from the driver's timedelta."""
    total_micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if total_micros < 0 else ""
    micros = abs(total_micros)
    seconds, fraction = divmod(micros, 1_000_000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{text}.{fraction:06d}" if fraction else text


def dialect_for(backend: str) -> Dialect:
    if backend in ("postgresql", "postgres"):
        return PostgresDialect()
    if backend in ("mysql", "mariadb"):
        return MySQLDialect()
    if backend == "sqlite":
        return SQLiteDialect()
    raise ValueError(f"Unsupported database dialect: {backend}")
