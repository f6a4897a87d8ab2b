"""Beat's scheduler: Celery's persistent schedule plus the frequent sweeps, run in beat itself.

Releasing due jobs every JOB_SWEEP_INTERVAL (2 s) as a Celery task would cost a broker round trip,
three INFO lines and a Flower entry each time: some 43,000 tasks a day that bury the jobs on
Flower's screen. Here the sweeps run in beat's own loop between two ticks, logged at DEBUG; only
the hourly purges remain tasks. Every sweep takes its rows `FOR UPDATE SKIP LOCKED`, so a second
beat (a rolling deploy) shares the work instead of doing it twice.

The schedule file's folder is created if missing: a fresh checkout has no `instance/`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from celery.beat import PersistentScheduler

from app.batches import sweep as batch_sweeps
from app.extensions import db
from app.jobs import counts as job_counts
from app.jobs import sweeps as job_sweeps
from app.notifications import digest
from app.notifications import sweeps as notification_sweeps
from app.webhooks import sweep as webhook_sweeps
from app.workflows import sweep as dependency_sweeps
from workers.celery_app import flask_app

log = logging.getLogger(__name__)

RECOVER_EVERY_SWEEPS = 5
RESEND_EMAILS_SECONDS = 60.0


def _recover_lost_jobs() -> int:
    return job_sweeps.recover_lost_jobs() + job_sweeps.resend_lost_messages()


class Sweeps:
    """The periodic sweeps with their periods, run inside the Flask app when due."""

    def __init__(self, app, sweep_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.flask_app = app
        self.clock = clock
        # name -> (period in seconds, sweep); a feature's frequent sweep joins here as one more entry.
        self.periods: dict[str, tuple[float, Callable[[], int]]] = {
            "release-due-jobs": (sweep_seconds, job_sweeps.release_due_jobs),
            "recover-lost-jobs": (sweep_seconds * RECOVER_EVERY_SWEEPS, _recover_lost_jobs),
            "resend-pending-emails": (RESEND_EMAILS_SECONDS, notification_sweeps.resend_pending_emails),
            # A digest leaves within one sweep interval of its window's end.
            "send-email-digests": (sweep_seconds, digest.send_due_digests),
            # Dependents left blocked or unsent by a crash between commit and hand-off.
            "sweep-dependencies": (sweep_seconds * RECOVER_EVERY_SWEEPS, dependency_sweeps.sweep_dependencies),
            # Due webhook retries, lost hand-offs and expired leases (app/webhooks/sweep.py).
            "resend-webhooks": (sweep_seconds * RECOVER_EVERY_SWEEPS, webhook_sweeps.resend_due),
            # The jobs list's totals stay a sum of a few rows (app/jobs/counts.py).
            "fold-job-counts": (sweep_seconds, job_counts.fold),
            # Batches settled by no seam, and finished ones whose jobs retention deleted.
            "sweep-batches": (sweep_seconds * RECOVER_EVERY_SWEEPS, batch_sweeps.sweep_batches),
        }
        self.next_run = dict.fromkeys(self.periods, 0.0)
        self.failing: set[str] = set()

    def run_due(self) -> None:
        """Run every sweep whose period has come round since its last run."""
        now = self.clock()
        for name, (period, sweep) in self.periods.items():
            if now >= self.next_run[name]:
                self.next_run[name] = now + period
                self._run(name, sweep)

    def seconds_until_next(self) -> float:
        """How long beat may sleep before a sweep is due."""
        return max(0.0, min(self.next_run.values()) - self.clock())

    def _run(self, name: str, sweep: Callable[[], int]) -> None:
        with self.flask_app.app_context():  # its teardown returns the session's connection
            try:
                count = sweep()
            except Exception as exc:  # PostgreSQL or Redis down: try again next period
                db.session.rollback()
                # Once per outage at WARNING, not every 2 s.
                level = logging.DEBUG if name in self.failing else logging.WARNING
                log.log(level, "sweep %s failed: %s", name, type(exc).__name__)
                self.failing.add(name)
                return
        if name in self.failing:
            self.failing.discard(name)
            log.info("sweep %s works again", name)
        log.debug("sweep %s: %d", name, count)


class Scheduler(PersistentScheduler):
    """`beat_scheduler`: the persistent schedule of the hourly tasks, and the sweeps between ticks."""

    def __init__(self, *args, **kwargs):
        self.sweeps = Sweeps(flask_app, flask_app.config["JOB_SWEEP_INTERVAL"])
        super().__init__(*args, **kwargs)

    def setup_schedule(self):
        folder = os.path.dirname(os.path.abspath(self.schedule_filename))
        os.makedirs(folder, exist_ok=True)
        super().setup_schedule()

    def tick(self, *args, **kwargs):
        self.sweeps.run_due()
        return min(super().tick(*args, **kwargs), self.sweeps.seconds_until_next())
