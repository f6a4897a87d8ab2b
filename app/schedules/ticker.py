"""The loop that runs the tick inside the beat process.

Why in beat and not as a Celery task every second: a task per second is 86,400 messages a day
through the broker, two INFO lines each in the worker's log and a row each in Flower, while the
work is nearly always "nothing is due". Here an idle pass is one indexed query, logged at DEBUG;
the loop sleeps until the earliest schedule is due, but at most POLL_SECONDS so that a schedule
created or changed meanwhile is seen within a second, which also honours 6-field (seconds)
schedules. Several beat processes may run it at once: the row claim and the unique tick key in
`tick` keep it to one job per tick. Nothing here holds state across passes but the log level.
"""

from __future__ import annotations

import logging
import time

from flask import Flask

from app.errors import is_dependency_outage
from app.platform.background import start_once_per_process
from app.schedules import tick

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
MIN_SLEEP_SECONDS = 0.05
OUTAGE_RETRY_SECONDS = 5.0
THREAD_NAME = "schedule-tick"


def start(app: Flask) -> None:
    """Start the loop in a daemon thread of this process (once)."""
    start_once_per_process(THREAD_NAME, lambda: run_forever(app))


def run_forever(app: Flask) -> None:
    log.info("schedules: due schedules are checked in this process, at least every %s s", POLL_SECONDS)
    failing = False
    while True:
        try:
            delay = run_pass(app)
        except Exception as exc:  # an outage or a bug: keep the beat process alive, say it once
            delay = OUTAGE_RETRY_SECONDS
            if not failing:
                outage = is_dependency_outage(exc)
                log.warning(
                    "schedules: tick failed (%s); retrying every %s s",
                    f"{outage} unavailable" if outage else type(exc).__name__,
                    delay,
                    exc_info=not outage,  # a bug's traceback helps; an outage's is noise
                )
            failing = True
        else:
            if failing:
                log.info("schedules: tick works again")
            failing = False
        time.sleep(delay)


def run_pass(app: Flask) -> float:
    """One pass: fire what is due, then how long to sleep."""
    with app.app_context():
        fired = tick.run_due()
        until_due = tick.seconds_until_next_due()
    log.debug("schedules: %d fired; next due in %s s", fired, until_due)
    if fired >= tick.MAX_PER_PASS:
        return 0.0
    if until_due is None:
        return POLL_SECONDS
    # Due but not claimed: another beat process holds the row for a moment; do not spin.
    return min(POLL_SECONDS, max(MIN_SLEEP_SECONDS, until_due))
