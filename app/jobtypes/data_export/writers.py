"""Streaming CSV and JSON writers: rows go out in batches and nothing accumulates in memory.

Value formats (the same in both, except where JSON has a native type):
- NULL: an empty CSV field; JSON null.
- booleans: `true` / `false` (JSON booleans).
- integers and floats: as numbers; NaN and infinities as the strings "NaN", "Infinity", "-Infinity".
- decimals (NUMERIC / DECIMAL): strings holding the exact digits ("12.50", "0.0000001"), because a
  JSON number would lose precision in most readers.
- dates, times and timestamps: ISO 8601 ("2024-02-29", "2024-02-29T13:45:00+00:00").
- durations (PostgreSQL interval, MySQL TIME): "[-]HH:MM:SS[.ffffff]", hours unbounded.
- binary: base64.
- PostgreSQL json / jsonb and arrays: nested JSON in a JSON export, their JSON text in a CSV field
  (MySQL hands JSON columns over as text, which stays text).
- anything else (UUID, network addresses, ranges): its text.
CSV follows RFC 4180: a header row, comma separators, CRLF line ends, fields quoted only when they
hold a comma, a quote or a line break, UTF-8 without a byte-order mark. A JSON export is one
array of objects, one object per line, keys in column order (a repeated column name gets a
suffix: "id", "id_2").
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


def _duration(value: dt.timedelta) -> str:
    micros = value // dt.timedelta(microseconds=1)
    sign = "-" if micros < 0 else ""
    seconds, micros = divmod(abs(micros), 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{text}.{micros:06d}" if micros else text


def _float(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def json_value(value):
    """A value JSON can hold, per the formats in the module docstring."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, set | frozenset):  # MySQL SET columns
        return sorted(str(item) for item in value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    converted = json_value(value)
    if isinstance(converted, dict | list):
        return json.dumps(converted, ensure_ascii=False, separators=(",", ":"))
    return str(converted)


class CsvWriter:
    def __init__(self, out, columns: Sequence[str]):
        self._out = out
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")
        self._csv.writerow(columns)
        self._flush()

    def write_rows(self, rows: Iterable[Sequence]) -> None:
        self._csv.writerows([csv_value(value) for value in row] for row in rows)
        self._flush()

    def finish(self) -> None:
        self._flush()

    def _flush(self) -> None:
        text = self._buffer.getvalue()
        if text:
            self._out.write(text.encode("utf-8"))
            self._buffer.seek(0)
            self._buffer.truncate()


class JsonWriter:
    def __init__(self, out, columns: Sequence[str]):
        self._out = out
        self._keys = unique_keys(columns)
        self._encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        self._first = True
        out.write(b"[")

    def write_rows(self, rows: Iterable[Sequence]) -> None:
        parts = []
        for row in rows:
            obj = {key: json_value(value) for key, value in zip(self._keys, row, strict=True)}
            parts.append(("\n" if self._first else ",\n") + self._encoder.encode(obj))
            self._first = False
        if parts:
            self._out.write("".join(parts).encode("utf-8"))

    def finish(self) -> None:
        self._out.write(b"]\n" if self._first else b"\n]\n")


def unique_keys(columns: Sequence[str]) -> list[str]:
    """Column names as object keys: a repeated name gets a suffix (id, id_2, id_3)."""
    seen: set[str] = set()
    keys = []
    for name in columns:
        key, number = name, 1
        while key in seen:
            number += 1
            key = f"{name}_{number}"
        seen.add(key)
        keys.append(key)
    return keys


def make_writer(fmt: str, out, columns: Sequence[str]):
    return (CsvWriter if fmt == "csv" else JsonWriter)(out, columns)
