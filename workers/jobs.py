"""The one task that runs every job type: unpack the id, call the runner service."""

from __future__ import annotations

from celery import shared_task

from app.services.job_runner import run_job


@shared_task(name="jobs.run", bind=True, acks_late=True, reject_on_worker_lost=True)
def run(self, job_id: str) -> str:
    return run_job(job_id, worker=self.request.hostname or "worker")
