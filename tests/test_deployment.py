"""The deployment files agree: docker-compose runs the Procfile's commands, with health checks."""

from __future__ import annotations

from pathlib import Path

import yaml

import celeryconfig

ROOT = Path(__file__).resolve().parent.parent


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_procfile_has_the_five_processes_of_the_contract():
    assert set(_procfile()) == {"release", "web", "worker", "beat", "flower"}


def test_compose_runs_the_same_commands_as_the_procfile():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name, command in _procfile().items():
        assert services[name]["command"] == command, name
    assert {"postgres", "redis"} <= set(services)
    for name in ("postgres", "redis", "web"):
        assert "healthcheck" in services[name], name
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["release"]["condition"] == "service_completed_successfully"


def test_worker_consumes_every_queue_the_app_routes_to():
    worker = _procfile()["worker"]
    queues = worker.split("-Q ", 1)[1].split()[0].split(",")
    assert sorted(queues) == sorted(celeryconfig.QUEUES)
