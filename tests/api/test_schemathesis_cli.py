"""schemathesis 4, as an outside user runs it: the CLI against a live web process, every check
(schemathesis.toml enables them all), all four phases (examples, coverage, fuzzing, and stateful
through the document's links), with a real admin token. Bounded to a few examples per operation
with a fixed seed; the README gives the longer command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT
from tests.support.web import start_web

EXAMPLES_PER_OPERATION = 8
SEED = 18


@pytest.mark.slow
def test_schemathesis_finds_no_failure_with_every_check_and_phase(admin):
    server = start_web(name="web-schemathesis")
    try:
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            f"{server.url}/api/openapi.json",
            "--header",
            f"Authorization: Bearer {admin['token']}",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--generation-database",
            "none",  # what earlier runs found must not make this one differ
            "--no-color",
        ]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    finally:
        server.stop()
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-12000:]
    summary = report.strip().splitlines()[-1]  # "==== 2 warnings in 49.6s ====", or "... 3 failures ..."
    assert "failure" not in summary and "error" not in summary, report[-4000:]
    tested = re.search(r"(\d+) generated, (\d+) passed", report)
    assert tested and int(tested.group(1)) > 1000 and tested.group(1) == tested.group(2), report[-4000:]
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in report, report[-4000:]
