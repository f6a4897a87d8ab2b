"""Worker liveness, from the worker's main process.

Every few seconds the worker writes a key with a short TTL that /api/health/jobs counts.
It also guards against a known failure (celery #10302): a worker that stays up but silently
stops consuming after a broker reconnect. If messages wait in the broker for the queues this
worker consumes while it has free slots and has received nothing for a while, it exits so that
its supervisor restarts it (late acks mean the messages it held are delivered again; Postgres
keeps the jobs). Only its own queues count: a worker of `-Q webhooks` is not stalled because
jobs wait for the job workers.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from celery.signals import task_received, worker_ready, worker_shutting_down
from celery.worker import state as worker_state

from app.jobs.sweeps import broker_backlog
from app.platform import runtime
from app.platform.health import WORKER_KEY_PREFIX
from app.platform.redis_client import get_redis
from workers.celery_app import flask_app

log = logging.getLogger(__name__)

BEAT_SECONDS = 5
TTL_SECONDS = 20

_stop = threading.Event()


@task_received.connect
def _note_received(**_):
    runtime.current().last_task_received = time.monotonic()


@worker_ready.connect
def _start(sender, **_):
    threading.Thread(target=_run, args=(sender,), name="liveness", daemon=True).start()


@worker_shutting_down.connect
def _shutdown(**_):
    _stop.set()


def _run(consumer) -> None:
    hostname = consumer.hostname
    concurrency = consumer.controller.concurrency if getattr(consumer, "controller", None) else 1
    queues = consumed_queues(consumer)
    stall_seconds = flask_app.config["WORKER_STALL_SECONDS"]
    with flask_app.app_context():
        while not _stop.wait(BEAT_SECONDS):
            try:
                get_redis().set(WORKER_KEY_PREFIX + hostname, str(int(time.time())), ex=TTL_SECONDS)
                if _stalled(concurrency, broker_backlog(queues), stall_seconds):
                    stalled = "free slots, messages waiting in %s, nothing received for %ss: restarting"
                    log.error(stalled, queues, stall_seconds)
                    os._exit(75)
            except Exception as exc:  # Redis down: nothing to report now; the broker reconnects itself
                log.warning("liveness beat failed: %s", type(exc).__name__)


def consumed_queues(consumer) -> list[str]:
    """The queues this worker consumes (its `-Q`; every declared queue without one)."""
    return sorted(consumer.app.amqp.queues.consume_from)


def _stalled(concurrency: int, backlog: int, stall_seconds: float) -> bool:
    busy = len(worker_state.active_requests) + len(worker_state.reserved_requests)
    idle_for = time.monotonic() - runtime.current().last_task_received
    return backlog > 0 and busy < concurrency and idle_for > stall_seconds
