"""Celery settings, derived from the app's configuration (itself read from the environment).

Tuned for at-least-once delivery on the Redis broker: JSON only, late acks, requeue when a pool
process dies, prefetch 1, and a visibility timeout longer than the longest job so that Redis never
redelivers a job that is still running. Delays (startAfter, retry back-off) are never Celery
ETAs: they stay in Postgres and beat's release sweep hands jobs over when due (celery #2481).
"""

from __future__ import annotations

from datetime import timedelta

from kombu import Exchange, Queue

QUEUES = ("jobs", "email", "maintenance")


def build(config: dict) -> dict:
    hard_limit = config["JOB_TIMEOUT_MINUTES"] * 60
    visibility_timeout = hard_limit + 600
    transport_options = {
        "visibility_timeout": visibility_timeout,
        # Our 0..100 priorities map onto ten lists, consumed highest first.
        "priority_steps": list(range(10)),
        "sep": ":",
        "queue_order_strategy": "priority",
        "socket_timeout": 10,
        "socket_connect_timeout": 3,
        "health_check_interval": 10,
    }
    return {
        "broker_url": config["REDIS_URL"],
        "broker_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # keep trying while Redis is down; never give up
        "broker_connection_timeout": 3,
        "broker_heartbeat": 0,
        "result_backend": None,
        "result_backend_transport_options": transport_options,
        "task_ignore_result": True,  # Postgres is the record of results
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "worker_concurrency": config["MAX_CONCURRENT_JOBS"],
        "worker_max_memory_per_child": 512 * 1024,  # KiB: a leaking job type cannot grow a child forever
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # Off, as in Celery's own defaults: events cost every task a publish. Flower switches them
        # on in every worker (its `enable_events`, every 5 s) for as long as it runs.
        "worker_send_task_events": False,
        # Our handler (JSON in production, with request/user/job ids) formats worker logs too.
        "worker_hijack_root_logger": False,
        "task_send_sent_event": False,
        "task_time_limit": hard_limit + 30,
        "task_soft_time_limit": hard_limit,
        "task_default_queue": "jobs",
        # One direct exchange per queue: a message routed to one queue never lands in another.
        "task_queues": [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES],
        "task_routes": {
            "jobs.*": {"queue": "jobs"},
            "notifications.*": {"queue": "email"},
            "maintenance.*": {"queue": "maintenance"},
        },
        "task_publish_retry": True,
        "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5},
        "task_create_missing_queues": True,
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": _beat_schedule(),
        "beat_scheduler": "workers.beat:Scheduler",
    }


def _beat_schedule() -> dict:
    """The hourly maintenance tasks; each expires after its own period so that a backlog built
    while no worker runs does not replay as a burst of identical sweeps. The frequent sweeps
    (due jobs, lost jobs, pending emails) run in beat itself: see workers/beat.py."""
    periods = {
        "purge-expired-notifications": ("maintenance.purge_notifications", timedelta(hours=1)),
        "purge-old-jobs": ("maintenance.purge_jobs", timedelta(hours=1)),
        "purge-artifacts": ("maintenance.purge_artifacts", timedelta(hours=1)),
    }
    return {
        name: {"task": task, "schedule": period, "options": {"expires": max(1.0, period.total_seconds())}}
        for name, (task, period) in periods.items()
    }
