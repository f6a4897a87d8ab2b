"""What Celery processes print to stdout/stderr, logged as whole records.

Celery replaces sys.stdout and sys.stderr with a proxy that logs every `write()` call as one
record. Python's own traceback printer (an uncaught exception) writes a line piece by piece, the
carets one character at a time, so a single crash became thousands of one-character JSON records.
This proxy buffers until a line is complete, and keeps a traceback together until its last line
(the exception itself), so a traceback is one record.
"""

from __future__ import annotations

import atexit
import sys

from celery.app.log import Logging
from celery.utils.log import LoggingProxy

TRACEBACK_START = "Traceback (most recent call last):"
# Lines between the chained tracebacks of one exception.
CHAIN_LINES = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)


class LineLoggingProxy(LoggingProxy):
    """A LoggingProxy that logs complete lines, and a whole traceback as one record."""

    def __init__(self, logger, loglevel=None):
        super().__init__(logger, loglevel)
        self._partial = ""
        self._traceback: list[str] = []
        self._ended = False  # the traceback's exception line came; a chained one may follow
        atexit.register(self.close)

    def write(self, data) -> int:
        if not data or self.closed:
            return 0
        text = self._partial + str(data)
        *lines, self._partial = text.split("\n")
        for line in lines:
            self._take_line(line)
        return len(data)

    def _take_line(self, line: str) -> None:
        if self._ended and line.strip() and line not in CHAIN_LINES:
            self._emit_traceback()
        if self._traceback:
            self._traceback.append(line)
            if line in CHAIN_LINES:
                self._ended = False
            elif _is_exception_line(line):
                self._ended = True
        elif line.startswith(TRACEBACK_START):
            self._traceback = [line]
        elif line.strip():
            self._emit(line)

    def _emit_traceback(self) -> None:
        text = "\n".join(self._traceback).strip("\n")
        self._traceback, self._ended = [], False
        if text.strip():
            self._emit(text)

    def _emit(self, text: str) -> None:
        super().write(text)

    def flush(self) -> None:
        """Python flushes after printing a whole exception: a finished traceback goes out now.
        Partial lines wait for their end, so a flush in the middle of a line does not split it."""
        if self._ended:
            self._emit_traceback()

    def close(self) -> None:
        if self.closed:
            return
        self._traceback.append(self._partial)
        self._partial = ""
        self._emit_traceback()
        super().close()


def _is_exception_line(line: str) -> bool:
    """A traceback's last line, the exception: not indented, not blank, not a chain's start."""
    return bool(line.strip()) and not line[0].isspace() and line not in CHAIN_LINES and line != TRACEBACK_START


class WholeLineLogging(Logging):
    """Celery's `log` class with stdout/stderr redirected through LineLoggingProxy."""

    def redirect_stdouts_to_logger(self, logger, loglevel=None, stdout=True, stderr=True):
        proxy = LineLoggingProxy(logger, loglevel)
        if stdout:
            sys.stdout = proxy
        if stderr:
            sys.stderr = proxy
        return proxy
