"""test-probe: fault injection for the test suites (registered only with ENABLE_TEST_JOB_TYPES)."""

from __future__ import annotations

import os
import signal
import time

from app.extensions import db
from app.jobs.errors import JobError
from app.models import JobExecution


def run(ctx) -> dict:
    """Records each execution, steps with progress, and fails on its first `failAttempts` attempts."""
    execution = JobExecution(job_id=ctx.job_id, attempt=ctx.attempt)
    db.session.add(execution)
    db.session.commit()
    payload = ctx.payload
    if ctx.attempt <= payload.get("failAttempts", 0):
        mode = payload.get("failWith", "retryable")
        if mode == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        raise JobError(f"Injected {mode} failure on attempt {ctx.attempt}", retryable=mode == "retryable")
    steps = payload.get("steps", 1)
    for step in range(1, steps + 1):
        ctx.progress(step, steps, f"Step {step} of {steps}")
        time.sleep(payload.get("stepSeconds", 0))
    # Left uncommitted on purpose: the runner commits it with the job's completion, atomically.
    execution.completed = True
    return {"steps": steps}
