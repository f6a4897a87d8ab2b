"""Errors a job can meet, and whether trying again could help (DESIGN.md's categories)."""

from __future__ import annotations

import re

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import exc as sa_exc

from app.platform.redaction import redact_text

RETRYABLE = "retryable"
PERMANENT = "permanent"


class JobError(Exception):
    """An error a job handler raises on purpose, with its category."""

    def __init__(self, message: str, retryable: bool = False, result: dict | None = None):
        super().__init__(message)
        self.retryable = retryable
        # Kept as the failed job's `result` (e.g. an import's rejected rows), for the user to read.
        self.result = result


class JobCancelled(Exception):
    """The job was cancelled (or superseded) while it ran; stop at this checkpoint."""


# Driver messages that mean "this will not get better by waiting".
_PERMANENT_PATTERNS = re.compile(
    r"password authentication failed|access denied|authentication failed|permission denied|"
    r"does not exist|unknown database|no such table|invalid authorization|role .* does not exist|"
    r"unable to open database file|no password supplied|not allowed",
    re.IGNORECASE,
)


def classify(exc: BaseException) -> str:
    """RETRYABLE for timeouts, unreachable hosts and unavailable services; else PERMANENT."""
    if isinstance(exc, JobError):
        return RETRYABLE if exc.retryable else PERMANENT
    if isinstance(exc, SoftTimeLimitExceeded | TimeoutError | ConnectionError):
        return RETRYABLE
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return PERMANENT if _PERMANENT_PATTERNS.search(str(exc.orig or exc)) else RETRYABLE
    if isinstance(exc, sa_exc.TimeoutError | OSError):
        return RETRYABLE
    return PERMANENT


def describe_error(exc: BaseException) -> str:
    """One clear line for users: the driver's first line, never a password or a traceback."""
    if isinstance(exc, SoftTimeLimitExceeded):
        return "The job exceeded its time limit"
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        text = str(exc.orig)
    else:
        text = str(exc) or type(exc).__name__
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return redact_text(first_line)[:500]
