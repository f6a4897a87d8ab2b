"""Reading an upload's body as it arrives: raw or multipart, capped in size, checked for type.

Nothing here holds a whole file: the body is read in chunks and handed on one chunk at a time,
and the byte cap is counted on what was actually read, so a body without Content-Length
(chunked transfer encoding) is cut off as soon as it passes the limit.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from flask import Request
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from app.errors import ApiError, ValidationFailed

CHUNK_BYTES = 64 * 1024
SNIFF_BYTES = 8 * 1024
# Boundaries and part headers around the file in a multipart body.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

CSV, JSON = "text/csv", "application/json"
RAW_TYPES = {"text/csv": CSV, "application/csv": CSV, "application/json": JSON}
EXTENSIONS = {".csv": CSV, ".json": JSON, ".jsonl": JSON, ".ndjson": JSON}
# Part types that say nothing about the content; the file name decides then. Excel on Windows
# labels every .csv file application/vnd.ms-excel.
NEUTRAL_PART_TYPES = {"", "application/octet-stream", "text/plain", "application/vnd.ms-excel"}
DEFAULT_NAMES = {CSV: "upload.csv", JSON: "upload.json"}

# Files users upload by mistake, recognised by their first bytes.
SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook is one: export it as CSV)",
    b"\xd0\xcf\x11\xe0": "an Office document (export it as CSV)",
    b"\x1f\x8b": "a gzip archive",
}
_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


@dataclass
class IncomingFile:
    filename: str
    content_type: str  # CSV or JSON
    chunks: Iterator[bytes]  # the file's bytes, checked and capped


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The file is larger than the upload limit of {limit:,} bytes", {"maxBytes": limit})


def incoming_file(request: Request, limit: int, filename: str | None) -> IncomingFile:
    """The uploaded file of this request, or a 400 / 413 / 415 before anything is stored."""
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        found = _multipart_file(request, limit)
    elif mimetype in RAW_TYPES:
        content_type = RAW_TYPES[mimetype]
        name = clean_filename(filename) or DEFAULT_NAMES[content_type]
        found = IncomingFile(name, content_type, _read_chunks(_body_stream(request, limit), limit))
    else:
        raise UnsupportedMediaType(
            "Upload a CSV or JSON file: multipart/form-data, text/csv or application/json",
            {"contentType": mimetype or None},
        )
    return _checked(found, limit)


def clean_filename(raw: str | None) -> str:
    """The last path segment, without control characters, at most 255 characters."""
    name = re.split(r"[/\\]", raw or "")[-1]
    return _UNSAFE_NAME_CHARS.sub("", name).strip()[:255]


def _body_stream(request: Request, limit: int) -> BinaryIO:
    """The request body as a stream that this view may read up to `limit` bytes of."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    # The app-wide MAX_CONTENT_LENGTH is for JSON requests; an upload has its own limit.
    request.max_content_length = limit
    if request.content_length is not None or "wsgi.input_terminated" in request.environ:
        return request.stream
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        # eventlet decodes the chunked coding and ends the stream at the last chunk but does
        # not say so with wsgi.input_terminated, so Werkzeug would hand us an empty stream;
        # the stream is safe to read because `_read_chunks` counts and cuts it.
        return request.environ["wsgi.input"]
    return request.stream  # no length, not chunked: there is no body


def _read_chunks(stream: BinaryIO, limit: int) -> Iterator[bytes]:
    total = 0
    while True:
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            return
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        yield chunk


def _multipart_file(request: Request, limit: int) -> IncomingFile:
    """Walk the multipart body to the part named `file`; its data is read lazily, as it arrives."""
    boundary = parse_options_header(request.headers.get("Content-Type", ""))[1].get("boundary", "")
    if not boundary or not boundary.isascii():
        raise ValidationFailed("The multipart body has no valid boundary", {"file": ["Missing boundary."]})
    body = _read_chunks(_body_stream(request, limit + MULTIPART_OVERHEAD_BYTES), limit + MULTIPART_OVERHEAD_BYTES)
    # No memory limit for fields: their data is never kept, only the `file` part's is passed on.
    decoder = MultipartDecoder(boundary.encode(), max_form_memory_size=None)
    events = _multipart_events(decoder, body)
    for event in events:
        # A `file` part sent without a file name arrives as a plain field; it is the file all the same.
        if isinstance(event, File | Field) and event.name == "file":
            part_type = parse_options_header(event.headers.get("Content-Type", ""))[0].lower()
            name = clean_filename(getattr(event, "filename", ""))
            content_type = _file_type(part_type, name)
            return IncomingFile(name or DEFAULT_NAMES[content_type], content_type, _part_data(events))
    raise ValidationFailed("The multipart body has no `file` field", {"file": ["Missing data for required field."]})


def _multipart_events(decoder: MultipartDecoder, body: Iterator[bytes]) -> Iterator:
    try:
        for chunk in body:
            decoder.receive_data(chunk)
            yield from _pending_events(decoder)
        decoder.receive_data(None)
        yield from _pending_events(decoder)
    except ValueError as exc:  # the decoder's word for a malformed body
        raise ValidationFailed("The multipart body is malformed", {"file": [str(exc)]}) from None


def _pending_events(decoder: MultipartDecoder) -> Iterator:
    while True:
        event = decoder.next_event()
        if isinstance(event, NeedData | Epilogue):
            return
        yield event


def _part_data(events: Iterator) -> Iterator[bytes]:
    for event in events:
        if not isinstance(event, Data):
            break
        if event.data:
            yield event.data
        if not event.more_data:
            return
    raise ValidationFailed("The multipart body ended in the middle of the file", {"file": ["Truncated."]})


def _file_type(part_type: str, filename: str) -> str:
    """CSV or JSON from the part's declared type and the file name's extension, else 415."""
    extension = filename[filename.rfind(".") :].lower() if "." in filename else ""
    by_name = EXTENSIONS.get(extension)
    by_type = RAW_TYPES.get(part_type)
    if by_type and (by_name in (None, by_type)):
        return by_type
    if part_type in NEUTRAL_PART_TYPES and by_name:
        return by_name
    raise UnsupportedMediaType(
        "Upload a CSV (.csv) or JSON (.json) file",
        {"filename": filename or None, "contentType": part_type or None},
    )


def _checked(found: IncomingFile, limit: int) -> IncomingFile:
    """Look at the first bytes before anything is stored, then keep checking as the rest arrives."""
    head, rest = _head(found.chunks)
    _sniff(head, found.content_type)
    found.chunks = _validated(head, rest, limit)
    return found


def _head(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    return head, chunks


def _sniff(head: bytes, content_type: str) -> None:
    for signature, what in SIGNATURES.items():
        if head.startswith(signature):
            raise UnsupportedMediaType(f"This file looks like {what}, not CSV or JSON", {"detected": what})
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValidationFailed("The file is UTF-16 encoded; save it as UTF-8", {"file": ["Not UTF-8."]})
    if b"\x00" in head:
        raise UnsupportedMediaType("This is a binary file, not CSV or JSON text", {"detected": "binary"})
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not text:
        raise ValidationFailed("The file is empty", {"file": ["The file is empty."]})
    if content_type == JSON and text[:1] not in (b"[", b"{"):
        raise ValidationFailed(
            "The file is not valid JSON: it must be an array of objects or one object per line",
            {"file": ["Expected `[` or `{` at the start."]},
        )


def _validated(head: bytes, rest: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """Every chunk, checking that the file stays within `limit` and decodes as UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    for chunk in _chain(head, rest):
        if offset + len(chunk) > limit:  # a multipart body may carry up to `limit` plus its framing
            raise too_large(limit)
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise _not_utf8(offset + exc.start) from None
        offset += len(chunk)
        yield chunk
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _not_utf8(offset) from None


def _chain(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield head
    yield from rest


def _not_utf8(position: int) -> ValidationFailed:
    return ValidationFailed(
        f"The file is not UTF-8 text (invalid byte near offset {position:,}); save it as UTF-8",
        {"file": ["Not UTF-8."]},
    )
