"""What a Celery process prints (an uncaught traceback included) reaches the JSON log as whole
records: one per line, and one for a whole traceback, never one per character."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.processes import ROOT

CRASH = """
from workers import celery
celery.log.setup(loglevel="INFO", redirect_stdouts=True, redirect_level="WARNING")
print("plain", "line")
print("built ", end="")
print("in pieces")
def open_schedule():
    raise FileNotFoundError("no such folder")
try:
    open_schedule()
except FileNotFoundError as exc:
    raise RuntimeError("beat could not start") from exc
"""


def test_a_crash_printed_by_a_celery_process_is_one_json_record():
    result = subprocess.run(
        [sys.executable, "-c", CRASH],
        cwd=ROOT,
        env={**os.environ, "LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is a JSON record
    redirected = [record["message"] for record in records if record["logger"] == "celery.redirected"]
    assert redirected[:2] == ["plain line", "built in pieces"], redirected[:5]
    tracebacks = [message for message in redirected if "Traceback" in message]
    assert len(tracebacks) == 1 and len(redirected) == 3, redirected
    assert tracebacks[0].startswith("Traceback (most recent call last):")
    assert "FileNotFoundError: no such folder" in tracebacks[0]
    assert "direct cause of the following exception" in tracebacks[0]
    assert tracebacks[0].endswith("RuntimeError: beat could not start")
