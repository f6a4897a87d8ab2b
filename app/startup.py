"""Start-up checks: a process whose PostgreSQL or Redis does not answer waits a little (they may
be starting alongside it), then stops with one line naming the variable, never a traceback."""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.platform.redis_client import get_redis


def _postgres(app: Flask) -> None:
    with app.app_context():
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))


def _redis(app: Flask) -> None:
    with app.app_context():
        get_redis().ping()


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def require_dependencies(app: Flask, wait_seconds: float | None = None, redis: bool = True) -> None:
    """Return once PostgreSQL (and Redis) answer; exit with one clear line if they never do."""
    wait = app.config["STARTUP_WAIT_SECONDS"] if wait_seconds is None else wait_seconds
    checks = [("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"], _postgres)]
    if redis:
        checks.append(("REDIS_URL", app.config["REDIS_URL"], _redis))
    for variable, url, probe in checks:
        deadline = time.monotonic() + wait
        while True:
            try:
                probe(app)
                break
            except Exception as exc:
                if time.monotonic() >= deadline:
                    raise SystemExit(
                        f"{variable}: cannot reach {_safe(url)} ({type(exc).__name__}) after {wait:.0f}s"
                    ) from None
                time.sleep(1)
