"""Real service processes for the tests (Celery worker and beat, web servers), stopped at exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_started: list[subprocess.Popen] = []


def _spawn(args: list[str], env: dict | None = None, log_name: str = "proc") -> subprocess.Popen:
    log = tempfile.NamedTemporaryFile(prefix=f"{log_name}-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    proc.log_path = log.name  # type: ignore[attr-defined]
    _started.append(proc)
    return proc


def start_worker(concurrency: int = 2, name: str = "worker", env: dict | None = None, queues="jobs,email,maintenance"):
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers",
        "worker",
        "--loglevel=INFO",
        "-Q",
        queues,
        f"--concurrency={concurrency}",
        "--pool=prefork",
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    proc = _spawn(args, env, log_name=name)
    wait_for_log(proc, "ready.", timeout=60)
    return proc


def start_beat(env: dict | None = None):
    schedule = tempfile.mktemp(prefix="beat-schedule-")
    proc = _spawn(
        [sys.executable, "-m", "celery", "-A", "workers", "beat", "--loglevel=INFO", f"--schedule={schedule}"],
        env,
        "beat",
    )
    wait_for_log(proc, "beat: Starting", timeout=60)
    return proc


def read_log(proc) -> str:
    return Path(proc.log_path).read_text(errors="replace")


def wait_for_log(proc, needle: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in read_log(proc):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}):\n{read_log(proc)[-4000:]}")
        time.sleep(0.1)
    raise TimeoutError(f"{needle!r} not seen in {timeout}s:\n{read_log(proc)[-4000:]}")


def stop(proc, sig=signal.SIGTERM, timeout: float = 30) -> int | None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode


def stop_all() -> None:
    for proc in reversed(_started):
        stop(proc, timeout=15)
    _started.clear()
