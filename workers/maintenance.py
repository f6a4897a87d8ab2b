"""Beat's hourly tasks: thin wrappers around each domain's purges (the frequent sweeps run in
beat itself, workers/beat.py)."""

from __future__ import annotations

from celery import shared_task

from app.files import purge
from app.jobs import sweeps
from app.notifications import sweeps as notification_sweeps


@shared_task(name="maintenance.purge_notifications", ignore_result=True)
def purge_notifications() -> int:
    return notification_sweeps.purge_expired_notifications()


@shared_task(name="maintenance.purge_jobs", ignore_result=True)
def purge_jobs() -> int:
    return sweeps.purge_old_jobs()


@shared_task(name="maintenance.purge_artifacts", ignore_result=True)
def purge_artifacts() -> int:
    return purge.purge_artifacts()
