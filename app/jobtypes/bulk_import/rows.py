"""Matching a file's columns to the table's, and turning each record into the values to insert.

A null value (JSON null, an empty CSV field) in a nullable column is stored as NULL; in a NOT NULL
column with a default (or a key the database numbers itself) it takes the default; in a NOT NULL
column without one it rejects the row. A column the file does not mention (not in the CSV header,
a key missing from a JSON object) takes its default, NULL if it has none, unless it is required.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.jobs.errors import JobError
from app.jobtypes.bulk_import.column_types import Converter, converter_for, shown
from app.jobtypes.bulk_import.readers import WrongWidth


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    kind: str
    convert: Converter
    nullable: bool
    has_default: bool

    @property
    def required(self) -> bool:
        """A value must come from the file: the database has nothing to put there."""
        return not self.nullable and not self.has_default


class Rejected(Exception):
    """One record the table cannot take, with the column at fault when there is one."""

    def __init__(self, error: str, column: str | None = None):
        super().__init__(error)
        self.error, self.column = error, column


class RowChecker:
    """The table's columns from the cached schema, and the checks a record must pass."""

    def __init__(self, table: dict, dialect: str):
        self.table_name = table["name"]
        key = table.get("primaryKey") or []
        self.columns: dict[str, Column] = {}
        for spec in table["columns"]:
            kind, convert = converter_for(spec["type"], dialect)
            # A lone integer key without a default is numbered by the database (MySQL's
            # AUTO_INCREMENT and PostgreSQL's identity columns have no default expression).
            numbered = key == [spec["name"]] and kind == "integer"
            self.columns[spec["name"]] = Column(
                name=spec["name"],
                type=spec["type"],
                kind=kind,
                convert=convert,
                nullable=bool(spec["nullable"]),
                has_default=spec.get("default") is not None or numbered,
            )

    def check_header(self, names: list[str]) -> None:
        """A CSV header: known, distinct, non-empty names covering every required column."""
        if any(not name for name in names):
            raise JobError("The CSV header has an empty column name; nothing was imported")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise JobError(f"The CSV header names {', '.join(duplicates)} more than once; nothing was imported")
        self.check_known(names)
        missing = [column.name for column in self.columns.values() if column.required and column.name not in names]
        if missing:
            raise JobError(
                f"The file has no column for {', '.join(missing)}, which table {self.table_name} requires "
                "(NOT NULL without a default); nothing was imported"
            )

    def check_known(self, names, line: int | None = None) -> None:
        unknown = [name for name in names if name not in self.columns]
        if unknown:
            where = f"Line {line}: " if line else ""
            verb = "is not a column" if len(unknown) == 1 else "are not columns"
            raise JobError(
                f"{where}{', '.join(map(repr, unknown))} {verb} "
                f"of table {self.table_name} (its columns: {', '.join(self.columns)}); nothing was imported"
            )

    def values(self, line: int, record: Any) -> dict[str, Any]:
        """The values to insert for one record (columns left to their default are absent), or
        Rejected. A JSON key that is not a column fails the whole job, like a bad CSV header."""
        if isinstance(record, WrongWidth):
            raise Rejected(record.message)
        if not isinstance(record, dict):
            raise Rejected(f"expected an object with column names as keys, found {shown(record)}")
        self.check_known(record, line)
        values: dict[str, Any] = {}
        for column in self.columns.values():
            raw = record.get(column.name)
            if raw is None:
                if column.required:
                    raise Rejected(f"a value is required (NOT NULL column {column.type})", column.name)
                if column.nullable and column.name in record:
                    values[column.name] = None
                continue
            try:
                values[column.name] = column.convert(raw)
            except ValueError as exc:
                raise Rejected(str(exc), column.name) from None
        return values
