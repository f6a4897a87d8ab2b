"""Fixtures borrowed from the webhook tests (an app and a worker that may deliver to loopback,
receivers listening there) and the browser tests (headless Chromium, a real web server)."""

from tests.e2e.conftest import browser, site  # noqa: F401
from tests.webhooks.conftest import account, receiver, webhook_worker, wh_app, wh_client  # noqa: F401
