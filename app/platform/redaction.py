"""Redaction of credentials: what leaves the service (notifications, job errors, connection
tests, logs of deliveries) never carries a URL's password or a secret-named field."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***"
# `scheme://user:password@` in any text: the password goes, the rest stays readable.
URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)\S+@", re.IGNORECASE)
# Keys whose values are secrets whatever they hold.
SECRET_KEYS = re.compile(r"password|passwd|secret|token|api_?key|credential", re.IGNORECASE)


def redact_text(text: str) -> str:
    """`text` without the passwords of the URLs in it."""
    return URL_CREDENTIALS.sub(rf"\1{REDACTED}@", text)


def redact(value: Any) -> Any:
    """A copy of `value` (text, or JSON-like data) without URL passwords or secret-named fields."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and SECRET_KEYS.search(key) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
