"""Fixtures borrowed from the fault tests (a private Redis and an app on it) and the browser
tests (headless Chromium, a real web server)."""

from tests.e2e.conftest import browser, site  # noqa: F401
from tests.faults.conftest import fault_app, private_redis  # noqa: F401
