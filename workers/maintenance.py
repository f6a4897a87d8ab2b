"""Beat's periodic tasks: thin wrappers around each domain's sweeps."""

from __future__ import annotations

from celery import shared_task

from app.files import purge
from app.jobs import sweeps
from app.notifications import digest as email_digest
from app.notifications import sweeps as notification_sweeps


@shared_task(name="maintenance.release_due_jobs", ignore_result=True)
def release_due_jobs() -> int:
    return sweeps.release_due_jobs()


@shared_task(name="maintenance.recover_lost_jobs", ignore_result=True)
def recover_lost_jobs() -> int:
    return sweeps.recover_lost_jobs() + sweeps.resend_lost_messages()


@shared_task(name="maintenance.resend_pending_emails", ignore_result=True)
def resend_pending_emails() -> int:
    return notification_sweeps.resend_pending_emails()


@shared_task(name="maintenance.send_email_digests", ignore_result=True)
def send_email_digests() -> int:
    return email_digest.send_due_digests()


@shared_task(name="maintenance.purge_notifications", ignore_result=True)
def purge_notifications() -> int:
    return notification_sweeps.purge_expired_notifications()


@shared_task(name="maintenance.purge_jobs", ignore_result=True)
def purge_jobs() -> int:
    return sweeps.purge_old_jobs()


@shared_task(name="maintenance.purge_artifacts", ignore_result=True)
def purge_artifacts() -> int:
    return purge.purge_artifacts()
