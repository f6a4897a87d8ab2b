"""The tasks that run jobs: one per registered type (`jobs.<type>`, so Flower shows what runs),
each a thin wrapper that passes the job id to the runner service. Arguments are ids only:
nothing secret is ever in a message or on Flower's screen."""

from __future__ import annotations

from celery import shared_task

from app.jobs.broker import job_task_name
from app.jobs.registry import JOB_TYPES
from app.jobs.runner import run_job


def _register(job_type: str):
    @shared_task(name=job_task_name(job_type), bind=True, acks_late=True, reject_on_worker_lost=True)
    def run(self, job_id: str) -> str:
        return run_job(job_id, worker=self.request.hostname or "worker")

    return run


TASKS = {name: _register(name) for name in JOB_TYPES}
