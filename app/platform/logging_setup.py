"""Logging: JSON lines in production, readable text in development.

Each record carries the request id, user id and job id of the work that produced it, taken from
context variables that the request hooks and the job runner set.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)
job_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)

_CONTEXT = (("request_id", request_id_var), ("user_id", user_id_var), ("job_id", job_id_var))


def clear_log_context() -> None:
    for _, var in _CONTEXT:
        var.set(None)


def _install_record_factory() -> None:
    """Stamp every record with the current ids when it is created, so every handler (ours,
    Celery's, pytest's) sees them."""
    base = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = base(*args, **kwargs)
        for name, var in _CONTEXT:
            if not hasattr(record, name):
                setattr(record, name, var.get())
        return record

    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, _ in _CONTEXT:
            value = getattr(record, name, None)
            if value:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{n}={getattr(record, n)}" for n, _ in _CONTEXT if getattr(record, n, None))
        base = super().format(record)
        return f"{base} [{ids}]" if ids else base


HANDLER_NAME = "app"  # how configure_logging finds its handler again


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Install one handler on the root logger (idempotent: factories may run several times, and a
    forked child keeps the handler it inherited)."""
    root = logging.getLogger()
    if any(handler.get_name() == HANDLER_NAME for handler in root.handlers):
        return
    _install_record_factory()
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    # Werkzeug/engineio access logs carry query strings; keep them at warning.
    for noisy in ("werkzeug", "engineio.server", "socketio.server", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
