"""Beat's hourly tasks: thin wrappers around app.services.maintenance (the frequent sweeps run
in beat itself, workers/beat.py)."""

from __future__ import annotations

from celery import shared_task

from app.services import maintenance


@shared_task(name="maintenance.purge_notifications", ignore_result=True)
def purge_notifications() -> int:
    return maintenance.purge_expired_notifications()


@shared_task(name="maintenance.purge_jobs", ignore_result=True)
def purge_jobs() -> int:
    return maintenance.purge_old_jobs()


@shared_task(name="maintenance.purge_artifacts", ignore_result=True)
def purge_artifacts() -> int:
    return maintenance.purge_artifacts()
