"""Reading an uploaded file row by row, with the line each row starts on.

CSV: a header row, then records; the delimiter is the most frequent of `,` `;` tab `|` in the
header line. An empty field is null (Python's csv module cannot tell `""` from nothing).
JSON: an array of objects, or objects one after another (JSON Lines). The file is decoded in
slices with the C decoder, never loaded whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from itertools import chain
from typing import Any, BinaryIO

from app.jobs.errors import JobError

DELIMITERS = (",", ";", "\t", "|")
JSON_SLICE_CHARS = 1024 * 1024
# A decode error this close to the end of what was read may only mean the row continues.
_TRUNCATION_MARGIN = 16
_WHITESPACE = re.compile(r"[ \t\r\n]*")

Row = tuple[int, Any]  # (line, the record: a dict for CSV, any JSON value for JSON)


class CountingReader(io.RawIOBase):
    """The file's bytes, counting how many were read (the check pass's progress)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.raw.readinto(buffer)
        self.bytes_read += count or 0
        return count

    def close(self) -> None:
        # The file belongs to the caller, who reads it twice: closing a reader must not close it.
        super().close()


def text_stream(raw: io.RawIOBase) -> io.TextIOWrapper:
    # utf-8-sig drops the byte-order mark spreadsheet programs put first.
    return io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8-sig", newline="")


class CsvRows:
    """Iterates (line, {column: value or None}); `columns` is the header."""

    def __init__(self, stream: io.TextIOWrapper):
        first_line = stream.readline()
        self.delimiter = max(DELIMITERS, key=first_line.count) if first_line.strip() else ","
        self._reader = csv.reader(chain([first_line], stream), delimiter=self.delimiter)
        self._last_line = 0
        header = self._next_record()
        if header is None:
            raise JobError("The CSV file has no header row; nothing was imported")
        self.header_line, self.columns = header[0], [name.strip() for name in header[1]]

    def _next_record(self) -> tuple[int, list[str]] | None:
        """The next non-blank record and the line it starts on."""
        while True:
            start = self._last_line + 1
            try:
                record = next(self._reader)
            except StopIteration:
                return None
            except csv.Error as exc:
                raise JobError(f"Line {start}: the CSV file is malformed ({exc}); nothing was imported") from None
            self._last_line = self._reader.line_num
            if record and any(field.strip() for field in record):
                return start, record

    def __iter__(self) -> Iterator[Row]:
        width = len(self.columns)
        while (found := self._next_record()) is not None:
            line, record = found
            if len(record) != width:
                yield line, WrongWidth(width, len(record))
                continue
            yield line, {name: value if value != "" else None for name, value in zip(self.columns, record, strict=True)}


class WrongWidth:
    """A CSV record whose number of fields differs from the header's."""

    def __init__(self, expected: int, found: int):
        self.message = f"expected {expected} fields like the header, found {found}"


class JsonRows:
    """Iterates (line, value) over a JSON array's elements or a JSON Lines file's values."""

    columns = None

    def __init__(self, stream: io.TextIOWrapper):
        self._stream = stream
        self._decoder = json.JSONDecoder()
        self._buffer = ""
        self._pos = 0
        self._line = 1  # the line of _pos
        self._eof = False

    def __iter__(self) -> Iterator[Row]:
        first = self._peek()
        if first == "[":
            self._advance(1)
            yield from self._array_elements()
        elif first == "{":
            yield from self._values()
        else:
            raise self._invalid("the file must be an array of objects or one object per line")

    def _array_elements(self) -> Iterator[Row]:
        expect_comma = False
        while True:
            following = self._peek()
            if following == "]":
                self._advance(1)
                if self._peek() is not None:
                    raise self._invalid("unexpected data after the closing `]`")
                return
            if following is None:
                raise self._invalid("the array is not closed with `]`")
            if expect_comma:
                if following != ",":
                    raise self._invalid("expected `,` or `]` between array elements")
                self._advance(1)
                if self._peek() is None:
                    raise self._invalid("the array is not closed with `]`")
            yield self._decode_value()
            expect_comma = True

    def _values(self) -> Iterator[Row]:
        while self._peek() is not None:
            yield self._decode_value()

    def _decode_value(self) -> Row:
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                if self._eof or not self._may_be_truncated(exc):
                    self._line += self._buffer.count("\n", self._pos, exc.pos)
                    raise self._invalid(exc.msg) from None
                self._fill()
                continue
            if end == len(self._buffer) and not self._eof:
                self._fill()  # a number at the end of the slice may go on in the next one
                continue
            line = self._line
            self._advance(end - self._pos)
            return line, value

    def _may_be_truncated(self, exc: json.JSONDecodeError) -> bool:
        return exc.msg.startswith("Unterminated string") or exc.pos >= len(self._buffer) - _TRUNCATION_MARGIN

    def _peek(self) -> str | None:
        """The next character that is not whitespace (moving past the whitespace), or None at the end."""
        while True:
            self._advance(_WHITESPACE.match(self._buffer, self._pos).end() - self._pos)
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if self._eof:
                return None
            self._fill()

    def _advance(self, count: int) -> None:
        self._line += self._buffer.count("\n", self._pos, self._pos + count)
        self._pos += count

    def _fill(self) -> None:
        pending = self._buffer[self._pos :]
        # Reading at least as much as is pending keeps a very long value from being re-decoded
        # once per slice.
        piece = self._stream.read(max(JSON_SLICE_CHARS, len(pending)))
        self._buffer = pending + piece
        self._pos = 0
        self._eof = not piece

    def _invalid(self, reason: str) -> JobError:
        return JobError(f"Line {self._line}: the file is not valid JSON ({reason}); nothing was imported")


def open_rows(raw: io.RawIOBase, content_type: str) -> CsvRows | JsonRows:
    stream = text_stream(raw)
    try:
        return CsvRows(stream) if content_type == "text/csv" else JsonRows(stream)
    except UnicodeDecodeError:
        raise JobError("The file is not UTF-8 text; nothing was imported") from None
