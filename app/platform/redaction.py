"""Redaction of credentials: what leaves the service (notifications, job errors, connection
tests, logs of deliveries) never carries a URL's password or a secret-named field."""

from __future__ import annotations

import functools
import re
from typing import Any

REDACTED = "***"
# `scheme://user:password@` in any text: the password goes, the rest stays readable.
URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)\S+@", re.IGNORECASE)
# Keys whose values are secrets whatever they hold.
SECRET_KEYS = re.compile(r"password|passwd|secret|token|api_?key|credential", re.IGNORECASE)


def redact_text(text: str) -> str:
    """`text` without the passwords of the URLs in it."""
    if "://" not in text:  # no URL, nothing to redact: every job's texts pass here, most without one
        return text
    return URL_CREDENTIALS.sub(rf"\1{REDACTED}@", text)


@functools.lru_cache(maxsize=1024)
def _secret_key(key: str) -> bool:
    """Whether a field of this name holds a secret (the same few names come again and again)."""
    return SECRET_KEYS.search(key) is not None


def redact(value: Any) -> Any:
    """A copy of `value` (text, or JSON-like data) without URL passwords or secret-named fields."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and _secret_key(key) else redact(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
