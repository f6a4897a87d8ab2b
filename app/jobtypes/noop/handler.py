"""noop: the canary of health checks and benchmarks; does nothing, optionally for a while."""

from __future__ import annotations

import time


def run(ctx) -> dict:
    seconds = float(ctx.payload.get("sleepSeconds", 0))
    if seconds:
        ctx.progress(0, 1, "Waiting")
        time.sleep(seconds)
    return {"ok": True}
