"""The unit tier: pure logic, no PostgreSQL, no Redis, no processes; the whole tier runs in seconds.

Run it alone with `python -m pytest tests/unit --confcutdir tests/unit` (the cut keeps pytest from
loading tests/conftest.py, whose session fixtures create a database and lease a Redis database);
the full suite runs it too. Nothing here may open a connection: the environment below points at
ports where nothing listens, so a test that tried would fail at once rather than pass by luck."""

from __future__ import annotations

import pytest

UNREACHABLE = {
    "APP_ENV": "test",
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
    "REDIS_URL": "redis://127.0.0.1:9/0",
    "JWT_SECRET_KEY": "unit-tier-jwt-secret",
    "CONNECTION_SECRET_KEY": "unit-tier-connection-secret",
}


@pytest.fixture()
def environment(monkeypatch):
    """A minimal environment for `load_config`; tests add or remove what they check."""
    for name, value in UNREACHABLE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch
