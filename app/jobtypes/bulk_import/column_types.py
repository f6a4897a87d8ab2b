"""Checking and converting one value of a file for a column, from the column's type as the
cached schema spells it (PostgreSQL's format_type, MySQL's COLUMN_TYPE, SQLite's declared type).

A converter takes a non-null value (a CSV string, or a JSON string, number, boolean, object or
array) and returns what to bind for the target's driver, or raises ValueError with a message for
the user. Types it does not know are passed through for the database to judge.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

Converter = Callable[[Any], Any]

TRUE_WORDS = {"true", "t", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "off"}
_INTEGER_TEXT = re.compile(r"^[+-]?\d+$")
_TYPE_TEXT = re.compile(r"^\s*(?P<base>[a-z_][a-z0-9_ ]*?)\s*(?:\((?P<args>[^)]*)\))?\s*$")
# Words that qualify a type wherever they appear: "timestamp(3) with time zone", "int(10) unsigned".
_QUALIFIERS = re.compile(r"\b(?:with|without) time zone\b|\bunsigned\b|\bzerofill\b")

# (bits, signed) ranges by type name; MySQL adds tinyint and mediumint.
_INTEGER_BITS = {
    "smallint": 16,
    "int2": 16,
    "integer": 32,
    "int": 32,
    "int4": 32,
    "bigint": 64,
    "int8": 64,
    "tinyint": 8,
    "mediumint": 24,
    "serial": 32,
    "bigserial": 64,
    "smallserial": 16,
}
_MYSQL_TEXT_BYTES = {"tinytext": 255, "text": 65_535, "mediumtext": 16_777_215, "longtext": 4_294_967_295}
_FLOAT_TYPES = {"real", "double precision", "double", "float", "float4", "float8"}
_CHAR_TYPES = {"character varying", "varchar", "character", "char", "bpchar", "nvarchar", "nchar"}


def shown(value: Any) -> str:
    """A value as an error message shows it: short, and never more than the start of a long text."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def converter_for(type_text: str, dialect: str) -> tuple[str, Converter]:
    """(kind, converter) for a column type. Kinds: integer, decimal, float, boolean, date,
    timestamp, time, text, uuid, json, enum, other."""
    spelled = (type_text or "").strip().lower()
    match = _TYPE_TEXT.match(_QUALIFIERS.sub(" ", spelled))
    if not match or spelled.endswith("[]"):
        return "other", passthrough
    base, args = match["base"].strip(), match["args"]
    with_time_zone, unsigned = "with time zone" in spelled, "unsigned" in spelled
    if dialect == "sqlite":
        return _sqlite_converter(base, args)
    numbers = [int(n) for n in re.findall(r"\d+", args or "")]
    if base in _INTEGER_BITS:
        if dialect == "mysql" and base == "tinyint" and numbers == [1]:
            return "boolean", integer(-128, 127, booleans=True)  # MySQL's BOOLEAN is tinyint(1)
        bits = _INTEGER_BITS[base]
        if unsigned:
            return "integer", integer(0, 2**bits - 1)
        return "integer", integer(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if base in ("numeric", "decimal", "dec", "fixed"):
        if not numbers and dialect == "mysql":
            numbers = [10, 0]  # MySQL's plain DECIMAL is DECIMAL(10,0)
        precision, scale = (numbers + [0, 0])[:2] if numbers else (None, None)
        return "decimal", decimal_number(precision, scale)
    if base in _FLOAT_TYPES:
        return "float", floating
    if base in ("boolean", "bool"):
        return "boolean", boolean
    if base == "date":
        return "date", iso_date
    if base in ("timestamp", "datetime"):
        aware = dialect == "postgresql" and with_time_zone
        return "timestamp", timestamp(aware)
    if base == "timestamptz":
        return "timestamp", timestamp(True)
    if base == "time" and not with_time_zone and dialect == "postgresql":
        return "time", iso_time
    if base in _CHAR_TYPES:
        return "text", text(max_chars=numbers[0] if numbers else None, no_nul=dialect == "postgresql")
    if base == "text" or base in _MYSQL_TEXT_BYTES:
        max_bytes = _MYSQL_TEXT_BYTES.get(base) if dialect == "mysql" else None
        return "text", text(max_bytes=max_bytes, no_nul=dialect == "postgresql")
    if base == "uuid":
        return "uuid", uuid_text
    if base in ("json", "jsonb"):
        return "json", json_text
    if base == "enum" and dialect == "mysql" and args:
        return "enum", enum([value.replace("''", "'") for value in re.findall(r"'((?:[^']|'')*)'", args)])
    return "other", passthrough


def _sqlite_converter(base: str, args: str | None) -> tuple[str, Converter]:
    """SQLite's affinity rules (datatype3.html, 3.1) plus the usual names for booleans, dates and
    times, whose values are stored as SQLite's own date functions read them. SQLite does not
    enforce declared lengths or precisions, so neither do we."""
    if base in ("boolean", "bool"):
        return "boolean", lambda value: int(boolean(value))
    if base == "date":
        return "date", lambda value: iso_date(value).isoformat()
    if base in ("datetime", "timestamp"):
        return "timestamp", lambda value: timestamp(False)(value).isoformat(sep=" ")
    if "int" in base:
        return "integer", integer(-(2**63), 2**63 - 1)
    if any(word in base for word in ("char", "clob", "text")):
        return "text", text()
    if not base or "blob" in base:
        return "other", passthrough
    if any(word in base for word in ("real", "floa", "doub")):
        return "float", floating
    return "decimal", lambda value: str(decimal_number(None, None)(value))


def integer(minimum: int, maximum: int, booleans: bool = False) -> Converter:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            if booleans:
                return int(value)
            raise ValueError(f"not an integer: {shown(value)}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _INTEGER_TEXT.match(value.strip()):
            number = int(value.strip())
        elif booleans and isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return int(value.strip().lower() in TRUE_WORDS)
        else:
            raise ValueError(f"not an integer: {shown(value)}")
        if not minimum <= number <= maximum:
            raise ValueError(f"{number} is out of range ({minimum} to {maximum})")
        return number

    return convert


def decimal_number(precision: int | None, scale: int | None) -> Converter:
    def convert(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"not a number: {shown(value)}")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {shown(value)}") from None
        if not number.is_finite():
            raise ValueError(f"not a finite number: {shown(value)}")
        if precision:
            # The database rounds to the scale; what must fit is the rounded value.
            rounded = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
            if abs(rounded) >= Decimal(10) ** (precision - scale):
                raise ValueError(
                    f"{number} does not fit numeric({precision},{scale}): "
                    f"at most {precision - scale} digits before the decimal point"
                )
        return number

    return convert


def floating(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {shown(value)}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"not a number: {shown(value)}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {shown(value)}")
    return number


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueError(f"not a boolean (true/false, yes/no, 1/0): {shown(value)}")


def iso_date(value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"not a date (YYYY-MM-DD): {shown(value)}")


def timestamp(aware: bool) -> Converter:
    """Values without an offset are UTC; a column without a time zone gets the UTC wall time."""

    def convert(value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None:
                if parsed.tzinfo is None:
                    return parsed.replace(tzinfo=UTC) if aware else parsed
                return parsed if aware else parsed.astimezone(UTC).replace(tzinfo=None)
        raise ValueError(f"not a timestamp (ISO 8601, e.g. 2024-05-01T12:30:00Z): {shown(value)}")

    return convert


def iso_time(value: Any) -> time:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"not a time (HH:MM[:SS]): {shown(value)}")


def text(max_chars: int | None = None, max_bytes: int | None = None, no_nul: bool = False) -> Converter:
    def convert(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"not text: {shown(value)}")
        string = value if isinstance(value, str) else str(value)
        if max_chars is not None and len(string) > max_chars:
            raise ValueError(f"text of {len(string)} characters is longer than the column's {max_chars}")
        if max_bytes is not None and len(string.encode()) > max_bytes:
            raise ValueError(f"text of {len(string.encode())} bytes is longer than the column's {max_bytes}")
        if no_nul and "\x00" in string:
            raise ValueError("text must not contain NUL characters")
        return string

    return convert


def uuid_text(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        raise ValueError(f"not a UUID: {shown(value)}") from None


def json_text(value: Any) -> str:
    """A string is JSON text (checked); any other value is encoded as JSON."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            raise ValueError(f"not valid JSON text: {shown(value)}") from None
        return value
    return json.dumps(value)


def enum(choices: list[str]) -> Converter:
    by_folded = {choice.casefold(): choice for choice in choices}

    def convert(value: Any) -> str:
        if isinstance(value, str) and value.casefold() in by_folded:
            return by_folded[value.casefold()]
        raise ValueError(f"{shown(value)} is not one of {', '.join(choices)}")

    return convert


def passthrough(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value
