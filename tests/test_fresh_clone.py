"""The Procfile's processes, started as a platform that runs Procfiles would: from a fresh clone of
the committed HEAD (no `instance/`, nothing the test fixtures prepare), with only the contract's
environment variables, on an empty database. Each must keep running, and a job delayed with
`startAfter` must complete (so beat, which releases it, works)."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path

import psycopg2
import pytest
import requests

from tests.conftest import SERVER_URL, TEST_DB
from tests.support.processes import ROOT, read_log, stop
from tests.support.web import free_port

LONG_RUNNING = ("web", "worker", "beat", "flower")
STAY_UP_SECONDS = 6


def _procfile(root: Path) -> dict[str, str]:
    lines = (root / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def _clone_head(target: Path) -> Path:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    clone = target / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", head.stdout.strip()], cwd=clone, check=True)
    assert not (clone / "instance").exists()
    return clone


def _contract_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """The contract's variables only, plus PATH to find this checkout's interpreter and tools."""
    venv_bin = ROOT / ".venv" / "bin"
    return {
        "PATH": f"{venv_bin}{os.pathsep}/usr/bin:/bin",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET_KEY": secrets.token_urlsafe(32),
        "CONNECTION_SECRET_KEY": secrets.token_urlsafe(32),
        "MAX_CONCURRENT_JOBS": "2",
        "PORT": str(free_port()),
        "FLOWER_PORT": str(free_port()),
        "FLOWER_BASIC_AUTH": "operator:" + secrets.token_urlsafe(12),
    }


@pytest.fixture()
def empty_database():
    name = f"{TEST_DB}_clone"
    admin = psycopg2.connect(
        SERVER_URL.set(database="postgres").render_as_string(hide_password=False).replace("+psycopg2", "")
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield SERVER_URL.set(database=name).render_as_string(hide_password=False).replace("+psycopg2", "")
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _start(name: str, command: str, clone: Path, env: dict, logs: Path) -> subprocess.Popen:
    log = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process below
    proc = subprocess.Popen(
        ["sh", "-c", command], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    proc.log_path = log.name  # type: ignore[attr-defined]
    return proc


def _wait_for_http(url: str, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"web exited:\n{read_log(proc)[-3000:]}"
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout}s:\n{read_log(proc)[-3000:]}")


def _wait_for_job(base: str, headers: dict, job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = requests.get(f"{base}/api/jobs/{job_id}", headers=headers, timeout=5).json()
        if job["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.25)


def test_procfile_processes_run_from_a_fresh_clone_with_only_the_contract_variables(
    tmp_path, empty_database, private_redis_url
):
    clone = _clone_head(tmp_path)
    env = _contract_environment(empty_database, private_redis_url)
    commands = _procfile(clone)
    assert set(commands) == {"release", *LONG_RUNNING}

    release = subprocess.run(
        ["sh", "-c", commands["release"]], cwd=clone, env=env, capture_output=True, text=True, timeout=120
    )
    assert release.returncode == 0, release.stdout[-2000:] + release.stderr[-2000:]

    running = {name: _start(name, commands[name], clone, env, tmp_path) for name in LONG_RUNNING}
    try:
        base = f"http://127.0.0.1:{env['PORT']}"
        _wait_for_http(f"{base}/api/health", 60, running["web"])
        account = {"email": f"clone-{uuid.uuid4().hex[:8]}@example.com", "password": "correct horse battery"}
        token = requests.post(f"{base}/api/auth/register", json=account, timeout=10).json()["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        created = requests.post(
            f"{base}/api/jobs", json={"type": "noop", "payload": {}, "options": {"startAfter": 2}}, headers=headers
        )
        assert created.status_code == 202, created.text

        time.sleep(STAY_UP_SECONDS)
        for name, proc in running.items():
            assert proc.poll() is None, f"{name} exited ({proc.returncode}):\n{read_log(proc)[-3000:]}"

        job = _wait_for_job(base, headers, created.json()["id"], timeout=40)
        assert job["status"] == "completed", (job, read_log(running["beat"])[-3000:])
        waited = datetime.fromisoformat(job["startedAt"]) - datetime.fromisoformat(job["createdAt"])
        assert waited.total_seconds() >= 1.9, job
        flower = requests.get(f"http://127.0.0.1:{env['FLOWER_PORT']}/", timeout=5)
        assert flower.status_code == 401, "Flower must ask for its basic auth"
        assert (clone / "instance").is_dir(), "beat keeps its schedule in the folder it created"
    finally:
        for proc in running.values():
            stop(proc, timeout=15)
