"""Configuration from the environment only (twelve-factor).

`load_config()` reads every variable of the README's configuration table once, validates it,
and returns a plain dict for `app.config`. A bad value raises `ConfigError` naming the variable,
which the entry points turn into one clear line instead of a traceback.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_DIR / "instance"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/jobsvc"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ConfigError(Exception):
    """A configuration variable is missing or malformed."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(name: str, default: float, minimum: float | None = None) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be >= {minimum:g}, got {raw}")
    return value


def _positive_float(name: str, default: float) -> float:
    value = _float(name, default)
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _list(name: str) -> list[str]:
    raw = _env(name) or ""
    return [item.strip() for item in raw.split(",") if item.strip()]


def _url(name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = _env(name, default)
    parts = urlsplit(value)
    scheme = parts.scheme.split("+")[0]
    if scheme not in schemes:
        raise ConfigError(f"{name} must be a {'/'.join(schemes)} URL")
    return value


def _database_url(name: str) -> str:
    """DATABASE_URL with the psycopg2 driver named (SQLAlchemy 2.1 defaults to psycopg 3)."""
    value = _url(name, DEFAULT_DATABASE_URL, ("postgresql", "postgres"))
    scheme, rest = value.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        scheme = "postgresql+psycopg2"
    return f"{scheme}://{rest}"


def _allowed_hosts(name: str) -> list[str] | None:
    """Hosts or CIDR ranges; None means any host is allowed."""
    items = _list(name)
    if not items:
        return None
    for item in items:
        if "/" in item:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ConfigError(f"{name}: {item!r} is not a valid CIDR range") from None
    return items


def _instance_secret(name: str, app_env: str) -> str:
    """A secret from the environment, or one generated once and kept in instance/."""
    value = _env(name)
    if value:
        return value
    if app_env == "production":
        raise ConfigError(f"{name} must be set in production")
    INSTANCE_DIR.mkdir(exist_ok=True)
    store = INSTANCE_DIR / "secrets.json"
    saved: dict[str, str] = json.loads(store.read_text()) if store.exists() else {}
    if name not in saved:
        saved[name] = secrets.token_urlsafe(48)
        store.write_text(json.dumps(saved, indent=2))
        store.chmod(0o600)
        log.warning("%s is not set: generated one in %s; production must set it", name, store)
    return saved[name]


def _smtp_url(name: str) -> str | None:
    value = _env(name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"{name} must look like smtp://user:pass@host:port or smtps://...")
    return value


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read and validate the environment; `overrides` (tests) win over it."""
    app_env = (_env("APP_ENV", "production") or "production").lower()
    timeout_minutes = _int("JOB_TIMEOUT_MINUTES", 30, minimum=1)
    readers: dict[str, Callable[[], Any]] = {
        "APP_ENV": lambda: app_env,
        "SQLALCHEMY_DATABASE_URI": lambda: _database_url("DATABASE_URL"),
        "REDIS_URL": lambda: _url("REDIS_URL", DEFAULT_REDIS_URL, ("redis", "rediss", "unix")),
        "JWT_SECRET_KEY": lambda: _instance_secret("JWT_SECRET_KEY", app_env),
        "JWT_ACCESS_TOKEN_EXPIRES": lambda: _int("JWT_ACCESS_TOKEN_EXPIRES", 900, minimum=1),
        "JWT_REFRESH_TOKEN_EXPIRES": lambda: _int("JWT_REFRESH_TOKEN_EXPIRES", 30 * 24 * 3600, minimum=1),
        "CONNECTION_SECRET_KEY": lambda: _instance_secret("CONNECTION_SECRET_KEY", app_env),
        "CONNECTION_ALLOWED_HOSTS": lambda: _allowed_hosts("CONNECTION_ALLOWED_HOSTS"),
        "CONNECTION_ALLOW_SQLITE": lambda: _bool("CONNECTION_ALLOW_SQLITE", True),
        "PORT": lambda: _int("PORT", 5000, minimum=1),
        "STARTUP_WAIT_SECONDS": lambda: _float("STARTUP_WAIT_SECONDS", 30.0),
        "WEBSOCKET_CORS_ORIGIN": lambda: _list("WEBSOCKET_CORS_ORIGIN"),
        "WEBSOCKET_PING_INTERVAL": lambda: _int("WEBSOCKET_PING_INTERVAL", 25000, minimum=1000),
        "WEBSOCKET_PING_TIMEOUT": lambda: _int("WEBSOCKET_PING_TIMEOUT", 60000, minimum=1000),
        "WEBSOCKET_ASYNC_MODE": lambda: _env("WEBSOCKET_ASYNC_MODE", "eventlet"),
        "WEBSOCKET_AUTH_TIMEOUT": lambda: _float("WEBSOCKET_AUTH_TIMEOUT", 10.0),
        "WEBSOCKET_PROGRESS_INTERVAL": lambda: _float("WEBSOCKET_PROGRESS_INTERVAL", 0.25),
        "WEBSOCKET_MAX_MESSAGE_BYTES": lambda: _int("WEBSOCKET_MAX_MESSAGE_BYTES", 64 * 1024, minimum=1024),
        "MAX_CONCURRENT_JOBS": lambda: _int("MAX_CONCURRENT_JOBS", 5, minimum=1),
        "JOB_TIMEOUT_MINUTES": lambda: timeout_minutes,
        "JOB_HEARTBEAT_SECONDS": lambda: _float("JOB_HEARTBEAT_SECONDS", 5.0),
        "JOB_HEARTBEAT_TIMEOUT": lambda: _float("JOB_HEARTBEAT_TIMEOUT", 60.0),
        "JOB_CANCEL_GRACE_SECONDS": lambda: _float("JOB_CANCEL_GRACE_SECONDS", 4.0),
        "JOB_STALE_ENQUEUE_SECONDS": lambda: _int("JOB_STALE_ENQUEUE_SECONDS", 600, minimum=1),
        "JOB_SWEEP_INTERVAL": lambda: _float("JOB_SWEEP_INTERVAL", 2.0),
        "WORKER_STALL_SECONDS": lambda: _float("WORKER_STALL_SECONDS", 120.0),
        "JOB_RETENTION_DAYS": lambda: _int("JOB_RETENTION_DAYS", 30, minimum=1),
        "NOTIFICATION_RETENTION_DAYS": lambda: _int("NOTIFICATION_RETENTION_DAYS", 90, minimum=1),
        "EMAIL_NOTIFICATIONS_ENABLED": lambda: _bool("EMAIL_NOTIFICATIONS_ENABLED", True),
        "SMTP_URL": lambda: _smtp_url("SMTP_URL"),
        "MAIL_FROM": lambda: _env("MAIL_FROM", "notifications@localhost"),
        "EMAIL_MAX_RETRIES": lambda: _int("EMAIL_MAX_RETRIES", 5, minimum=0),
        "EMAIL_RETRY_DELAY_SECONDS": lambda: _float("EMAIL_RETRY_DELAY_SECONDS", 5.0),
        "EMAIL_BATCH_SECONDS": lambda: _float("EMAIL_BATCH_SECONDS", 0.2),
        "EMAIL_DIGEST_SECONDS": lambda: _float("EMAIL_DIGEST_SECONDS", 60.0, minimum=0),
        "PUBLIC_URL": lambda: _env("PUBLIC_URL", "http://localhost:5000"),
        "ADMIN_EMAILS": lambda: [e.lower() for e in _list("ADMIN_EMAILS")],
        "JOB_RATE_LIMIT_PER_MINUTE": lambda: _int("JOB_RATE_LIMIT_PER_MINUTE", 60, minimum=0),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": lambda: _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 10, minimum=1),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": lambda: _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 50, minimum=1),
        "MAX_CONTENT_LENGTH": lambda: _int("MAX_REQUEST_BYTES", 1024 * 1024, minimum=1024),
        "ARTIFACT_DIR": lambda: _env("ARTIFACT_DIR", str(PROJECT_DIR / "artifacts")),
        "UPLOAD_MAX_BYTES": lambda: _int("UPLOAD_MAX_BYTES", 100 * 1024 * 1024, minimum=1024),
        "UPLOAD_RETENTION_HOURS": lambda: _int("UPLOAD_RETENTION_HOURS", 24, minimum=1),
        "EXPORT_STATEMENT_TIMEOUT_SECONDS": lambda: _int("EXPORT_STATEMENT_TIMEOUT_SECONDS", 300, minimum=1),
        "METRICS_FLUSH_SECONDS": lambda: _float("METRICS_FLUSH_SECONDS", 1.0),
        "SCHEDULE_MIN_INTERVAL_SECONDS": lambda: _int("SCHEDULE_MIN_INTERVAL_SECONDS", 60, minimum=1),
        "MAX_SCHEDULES_PER_USER": lambda: _int("MAX_SCHEDULES_PER_USER", 100, minimum=1),
        "BATCH_MAX_JOBS": lambda: _int("BATCH_MAX_JOBS", 1000, minimum=1),
        # Connections each process keeps to PostgreSQL, and how many more it may open under load.
        "DATABASE_POOL_SIZE": lambda: _int("DATABASE_POOL_SIZE", 5, minimum=1),
        "DATABASE_MAX_OVERFLOW": lambda: _int("DATABASE_MAX_OVERFLOW", 10),
        # Off behind a pooler in transaction mode (app/platform/prepared.py).
        "DATABASE_PREPARED_STATEMENTS": lambda: _bool("DATABASE_PREPARED_STATEMENTS", True),
        "ENABLE_TEST_JOB_TYPES": lambda: _bool("ENABLE_TEST_JOB_TYPES", False),
        # Webhooks (app/webhooks/).
        "WEBHOOK_ALLOWED_HOSTS": lambda: _allowed_hosts("WEBHOOK_ALLOWED_HOSTS") or [],
        "WEBHOOK_TIMEOUT_SECONDS": lambda: _positive_float("WEBHOOK_TIMEOUT_SECONDS", 10.0),
        "WEBHOOK_MAX_ATTEMPTS": lambda: _int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1),
        "WEBHOOK_RETRY_DELAY_SECONDS": lambda: _positive_float("WEBHOOK_RETRY_DELAY_SECONDS", 30.0),
        "LOG_FORMAT": lambda: _env("LOG_FORMAT", "json" if app_env == "production" else "text"),
    }
    overrides = overrides or {}
    config = {key: overrides[key] if key in overrides else read() for key, read in readers.items()}
    config.update({key: value for key, value in overrides.items() if key not in config})
    # No pool_pre_ping: app.platform.db_pool pings only connections that sat idle for a while.
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_size": config["DATABASE_POOL_SIZE"],
        "max_overflow": config["DATABASE_MAX_OVERFLOW"],
    }
    config["JWT_TOKEN_LOCATION"] = ["headers"]
    config["JWT_ALGORITHM"] = "HS256"
    config["JWT_DECODE_ALGORITHMS"] = ["HS256"]
    return config
