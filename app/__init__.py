"""The application factory: `create_app()` builds the Flask app in small `register_*` steps.

Nothing here connects to Postgres or Redis; connections open on first use.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from app.api import register_api
from app.api.auth_hooks import register_jwt_callbacks
from app.api.batches import register_batch_docs
from app.api.hooks import register_hooks
from app.api.job_type_docs import register_payload_schemas
from app.api.schedules import register_schedule_docs
from app.batches import hooks as batch_hooks
from app.cli import register_cli
from app.config import ConfigError, load_config
from app.errors import register_error_handlers as register
from app.extensions import api, db, jwt, migrate
from app.openapi import OPENAPI_SETTINGS, register_docs_assets, register_string_constraints
from app.platform import metrics
from app.platform.celery_app import init_celery
from app.platform.db_pool import ping_stale_connections
from app.platform.logging_setup import configure_logging
from app.platform.prepared import use_prepared_statements
from app.sockets import init_socketio
from app.web import register_web
from app.workflows import hooks as workflow_hooks


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment; `overrides` let tests adjust settings."""
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    try:
        app.config.update(load_config(overrides))
    except ConfigError as exc:
        # One clear line naming the variable, never a traceback, whatever the entry point.
        raise SystemExit(f"configuration error: {exc}") from None
    register_logging(app)
    register_extensions(app)
    register_lifecycle_listeners(app)
    register_celery(app)
    register_error_handlers(app)
    register_request_hooks(app)
    register_metrics(app)
    register_blueprints(app)
    register_sockets(app)
    register_commands(app)
    return app


def register_logging(app: Flask) -> None:
    """Structured logs with request, user and job ids; secrets are never formatted in."""
    configure_logging(app.config["LOG_FORMAT"])


def register_extensions(app: Flask) -> None:
    """Bind the unbound extension objects of app.extensions to this app."""
    app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(seconds=app.config["JWT_ACCESS_TOKEN_EXPIRES"])
    app.config["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(seconds=app.config["JWT_REFRESH_TOKEN_EXPIRES"])
    # A copy: apispec writes the rendered document back into these options, and a second app in
    # the same process (tests, the CLI) must not serve the first one's components.
    app.config.update(copy.deepcopy(OPENAPI_SETTINGS))
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_stale_connections(engine)
            if app.config["DATABASE_PREPARED_STATEMENTS"]:
                use_prepared_statements(engine)
    migrate.init_app(app, db, directory=str(_project_root() / "migrations"))
    jwt.init_app(app)
    api.init_app(app)
    register_string_constraints(app, api)

    register_jwt_callbacks(jwt)


def register_lifecycle_listeners(app: Flask) -> None:
    """What follows a job's transitions in their own transaction: workflows release, cancel and
    revive the jobs that depend on it, then batches settle (`app.jobs.lifecycle`; in this order,
    the lock order: job rows before batch rows)."""
    workflow_hooks.register()
    batch_hooks.register()


def register_celery(app: Flask) -> None:
    """The Celery app shares this Flask app's config; the web uses it only to send tasks."""
    init_celery(app)


def register_error_handlers(app: Flask) -> None:
    register(app)


def register_request_hooks(app: Flask) -> None:
    """Request ids, content-type checks, security headers, CORS."""
    register_hooks(app)


def register_metrics(app: Flask) -> None:
    """Metric updates are buffered per process and written when an app context ends (once per
    request, per task, per socket event) or, with METRICS_FLUSH_SECONDS, at most that often."""
    metrics.configure(app.config["METRICS_FLUSH_SECONDS"])
    app.teardown_appcontext(lambda _exc: metrics.end_of_unit_of_work())


def register_blueprints(app: Flask) -> None:
    register_api(app)
    register_payload_schemas(api.spec, include_test_types=app.config.get("ENABLE_TEST_JOB_TYPES", False))
    register_schedule_docs(api.spec)
    register_batch_docs(api.spec, app.config["BATCH_MAX_JOBS"])
    register_docs_assets(app)

    register_web(app)


def register_sockets(app: Flask) -> None:
    """Flask-SocketIO on the same port, relaying events through the Redis message queue."""
    init_socketio(app)


def register_commands(app: Flask) -> None:
    register_cli(app)


def _project_root():
    return Path(__file__).resolve().parent.parent
