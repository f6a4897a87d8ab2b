"""What the batches follow of a job's life: the listeners of `app.jobs.lifecycle`, called by the
transitions of `app.jobs.state` inside their transaction. A batch job that completed, ended or
was retried settles its batch (`app.batches.settle`) in that same transaction.

Registered after the workflows' listeners: those lock the job rows they change (dependents)
before this one locks a batch row, so every transaction takes job rows first and batch rows
last, and two of them cannot wait for each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.batches.settle import settle_batches
from app.jobs.lifecycle import Seam, listen
from app.models import Job


def register() -> None:
    """Follow the job lifecycle (once per process, however many apps are built)."""
    for seam in (Seam.COMPLETED, Seam.ENDED, Seam.RETRIED):
        listen(seam, on_changed)


def on_changed(jobs: Sequence[Job]) -> None:
    """Settle the batches of these jobs: finished once none of their jobs waits, reopened by a retry."""
    settle_batches(job.batch_id for job in jobs)
