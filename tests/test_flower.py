"""Flower, as operators use it: behind basic auth, showing jobs by their readable task names."""

from __future__ import annotations

import socket
import sys
import time

import requests

from tests.support import processes
from tests.support.api import create_job, wait_for_job


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_flower_requires_basic_auth_and_lists_jobs_by_type(client, user, worker):
    port = _free_port()
    flower = processes._spawn(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers",
            "flower",
            f"--port={port}",
            "--address=127.0.0.1",
            "--basic-auth=ops:flower-secret",
        ],
        log_name="flower",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                anonymous = requests.get(f"{base}/api/tasks", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, processes.read_log(flower)[-2000:]
                time.sleep(0.3)
        assert anonymous.status_code == 401
        # Flower answers HTTP before its event receiver has connected: a job that ran in between
        # is never seen, so a fresh job is tried until one shows up.
        shown: list[dict] = []
        for _ in range(5):
            job_id = create_job(client, user["headers"]).get_json()["id"]
            wait_for_job(client, user["headers"], job_id)
            shown = _tasks_of(base, job_id, wait=6)
            if shown:
                break
        assert shown, "the job's task never appeared in Flower"
        assert {task.get("name") for task in shown} == {"jobs.test-probe"}
    finally:
        processes.stop(flower)


def _tasks_of(base: str, job_id: str, wait: float) -> list[dict]:
    """The job tasks Flower lists for this job id, polled for up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        tasks = requests.get(f"{base}/api/tasks", auth=("ops", "flower-secret"), timeout=5).json()
        shown = [
            task
            for task in tasks.values()
            if job_id in str(task.get("args")) and str(task.get("name")).startswith("jobs.")
        ]
        if shown:
            return shown
        time.sleep(0.5)
    return []
