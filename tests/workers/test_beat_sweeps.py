"""Beat's in-process sweeps: each runs when its period is due, and an outage is logged once at
WARNING (not every two seconds), then its end once at INFO."""

from __future__ import annotations

import logging

from workers.beat import RECOVER_EVERY_SWEEPS, Sweeps


def test_each_sweep_runs_on_its_own_period(app):
    now = [100.0]
    sweeps = Sweeps(app, 2.0, clock=lambda: now[0])
    runs: list[str] = []
    sweeps.periods = {
        name: (period, lambda name=name: runs.append(name) or 0) for name, (period, _) in sweeps.periods.items()
    }
    assert sweeps.periods["recover-lost-jobs"][0] == 2.0 * RECOVER_EVERY_SWEEPS
    sweeps.run_due()
    assert sorted(runs) == ["recover-lost-jobs", "release-due-jobs", "resend-pending-emails"]
    runs.clear()
    now[0] += 1.0
    sweeps.run_due()
    assert runs == [] and sweeps.seconds_until_next() == 1.0
    now[0] += 1.0
    sweeps.run_due()
    assert runs == ["release-due-jobs"]


def test_a_failing_sweep_warns_once_and_says_when_it_works_again(app, caplog):
    now = [0.0]
    sweeps = Sweeps(app, 2.0, clock=lambda: now[0])
    broken = [True]

    def release() -> int:
        if broken[0]:
            raise ConnectionError("redis down")
        return 0

    sweeps.periods = {"release-due-jobs": (2.0, release)}
    sweeps.next_run = {"release-due-jobs": 0.0}
    caplog.set_level(logging.DEBUG, logger="workers.beat")
    for _ in range(3):
        sweeps.run_due()
        now[0] += 2.0
    broken[0] = False
    sweeps.run_due()
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "workers.beat"]
    warnings = [message for level, message in records if level == logging.WARNING]
    assert warnings == ["sweep release-due-jobs failed: ConnectionError"]
    assert (logging.INFO, "sweep release-due-jobs works again") in records
