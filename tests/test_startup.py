"""Bad configuration stops a process with one line naming the variable, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.processes import ROOT


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def test_release_with_an_unreachable_database_names_the_variable():
    result = _run(
        [sys.executable, "-m", "flask", "--app", "app:create_app", "db", "upgrade"],
        DATABASE_URL="postgresql://postgres:pw@127.0.0.1:1/nowhere",
        STARTUP_WAIT_SECONDS="1",
    )
    assert result.returncode != 0
    assert "DATABASE_URL: cannot reach" in result.stderr
    assert "Traceback" not in result.stderr and "pw@" not in result.stderr


def test_malformed_and_missing_settings_name_the_variable():
    bad_url = _run([sys.executable, "-m", "flask", "--app", "app:create_app", "routes"], DATABASE_URL="mysql://x/y")
    assert bad_url.returncode != 0 and "DATABASE_URL must be a postgresql" in bad_url.stderr
    bad_int = _run([sys.executable, "-m", "flask", "--app", "app:create_app", "routes"], MAX_CONCURRENT_JOBS="many")
    assert "MAX_CONCURRENT_JOBS must be an integer" in bad_int.stderr
    production = _run(
        [sys.executable, "-m", "flask", "--app", "app:create_app", "routes"], APP_ENV="production", JWT_SECRET_KEY=""
    )
    assert "JWT_SECRET_KEY must be set in production" in production.stderr
    for result in (bad_url, bad_int, production):
        assert "Traceback" not in result.stderr
