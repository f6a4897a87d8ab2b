"""Fixtures borrowed from the webhook tests: an app and a worker that may deliver to loopback,
and receivers listening there."""

from tests.webhooks.conftest import account, receiver, webhook_worker, wh_app, wh_client  # noqa: F401
