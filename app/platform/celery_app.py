"""The Celery app of the web and the workers: configured from `celeryconfig`, its tasks run inside
the Flask app context (Flask's own `celery_init_app` pattern)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import Celery, Task
from flask import Flask, current_app, has_app_context

import celeryconfig
from app.platform.logging_setup import clear_log_context


def init_celery(app: Flask) -> Celery:
    """Build the Celery app for this Flask app (Flask's own `celery_init_app` pattern)."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            clear_log_context()  # ids of the previous task must not label this one's logs
            # Reuse a pushed context (eager mode, tests): a second one would get its own session.

            if has_app_context():
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    # Output redirected into the log stays whole lines (a traceback, one record).
    celery_app = Celery(app.name, task_cls=FlaskTask, log="app.platform.logging_redirect:WholeLineLogging")
    celery_app.conf.update(celeryconfig.build(app.config))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def send_task(name: str, args: list, queue: str, priority: int | None = None, **options) -> None:
    current_app.extensions["celery"].send_task(name, args=args, queue=queue, priority=priority, **options)


@contextmanager
def one_producer() -> Iterator[object]:
    """One producer for many sends in a row: pass it to `send_task(..., producer=...)`. Its
    messages are buffered and leave in one Redis pipeline when the block ends (kombu's
    `Producer.batch`), instead of a round trip each; a failed pipeline raises kombu's
    `BatchPublishError` (delivery of the whole block uncertain). It goes back to the pool after."""
    with current_app.extensions["celery"].producer_or_acquire() as producer, producer.batch():
        yield producer
