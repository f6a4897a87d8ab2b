"""The worker entry point: builds the Flask app once, takes its Celery app, loads the tasks.

Database engines and the socket emitter are created lazily in each pool process after the fork
(never inherited from the parent).
"""

from __future__ import annotations

from celery.signals import worker_init, worker_process_init

from app import create_app
from app.extensions import db
from app.startup import require_dependencies

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.conf.update(
    include=[
        "workers.jobs",
        "workers.maintenance",
        "workers.email",
        "workers.liveness",
        "workers.webhooks",
        "workers.schedules",
    ]
)


@worker_init.connect
def _require_dependencies(**_):
    """A worker whose database never answers stops with one line, not a stream of task errors."""
    require_dependencies(flask_app)


@worker_process_init.connect
def _reset_connections_after_fork(**_):
    """Sockets opened by the parent must not be shared with the children."""
    with flask_app.app_context():
        db.engine.dispose(close=False)
