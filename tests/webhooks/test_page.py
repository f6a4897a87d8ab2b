"""The webhooks page in headless Chromium against a real web server and worker: add a webhook
(secret shown once, copied), send a test, see the delivery succeed, redeliver it, disable it.

Skipped when Playwright or Chromium is missing (see tests/e2e/conftest.py)."""

from __future__ import annotations

import re
import sys
import uuid

import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import browser  # noqa: F401  (the fixture)
from tests.e2e.helpers import screenshot
from tests.support.processes import _spawn, wait_for_log
from tests.support.web import READY_LINE, WebServer, free_port, wait_until_serving
from tests.webhooks.conftest import WEBHOOK_ENV
from tests.webhooks.receiver import Answer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("webhook_worker")]
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def webhook_site(database):
    """`python wsgi.py` with the webhook settings of these tests (127.0.0.1 allowed)."""
    port = free_port()
    env = {**WEBHOOK_ENV, "PORT": str(port), "HOST": "127.0.0.1"}
    proc = _spawn([sys.executable, "tests/e2e/serve.py"], env, log_name="web-webhooks")
    server = WebServer(proc, port)
    wait_for_log(proc, READY_LINE, timeout=60)
    wait_until_serving(server, timeout=60)
    yield server
    server.stop()


def test_webhooks_page(browser, webhook_site, receiver):  # noqa: F811
    # The receiver refuses every attempt of the first delivery (the worker makes 4), then accepts.
    hook = receiver(*[Answer(status=500, body=b"down")] * 4)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(webhook_site.url + "/signup")
        page.fill("#email", f"hooks-{uuid.uuid4().hex[:8]}@example.com")
        page.fill("#password", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url("**/jobs")
        page.click("nav >> text=Webhooks")
        page.wait_for_url("**/webhooks")

        # A refused URL says why, next to the form.
        page.fill("#webhook-url", "http://10.0.0.1/hook")
        page.click("#webhook-form button[type=submit]")
        page.wait_for_selector("#page-error:not([hidden])")
        assert "allowed" in page.text_content("#page-error")

        secret = add_webhook(page, hook.url, "ci", "job.completed")
        page.click("#secret-copy")
        page.wait_for_selector("#secret-status >> text=/Copied|Selected/")
        page.click("#secret-done")
        assert page.is_hidden("#secret-box")
        item = page.wait_for_selector("li[data-webhook-id]")
        card = f'li[data-webhook-id="{item.get_attribute("data-webhook-id")}"]'
        assert "job.completed" in item.text_content() and "enabled" in item.text_content()
        page.reload()
        assert "whsec_" not in page.content()  # shown once: not after a reload

        # The first test delivery fails (every attempt answered 500), the second one succeeds.
        page.click(f"{card} button.test")
        first = hook.wait_for(4)[0]
        Webhook(secret).verify(first.body, first.headers)
        failed = page.wait_for_selector(f"{card} .deliveries tr:has(.status-failed:text-is('failed'))")
        assert "500" in failed.text_content()
        page.click(f"{card} button.test")
        hook.wait_for(5)
        page.wait_for_selector(f"{card} .deliveries .status-completed >> text=succeeded")
        assert page.locator(f"{card} .deliveries tbody tr").count() == 2

        # A second webhook just added: its secret on show above the first one's deliveries.
        add_webhook(page, hook.url + "?audit", "audit log", "job.failed")
        page.wait_for_selector(f"{card} .deliveries .status-failed")
        screenshot(page, "webhooks-page.png", full_page=True)
        page.click("#secret-done")

        # Redeliver the failed one: the same webhook-id, and this time it succeeds.
        page.click(f"{card} .deliveries tr:has(.status-failed) button.redeliver")
        redelivered = hook.wait_for(6)[5]
        assert redelivered.headers["webhook-id"] == first.headers["webhook-id"]
        page.wait_for_function(f"() => document.querySelectorAll('{card} .deliveries .status-completed').length === 2")

        page.click(f"{card} button.toggle")
        page.wait_for_selector(f"{card} >> text=Disabled by its owner")
        assert page.is_disabled(f"{card} button.test")
        page.click(f"{card} button.toggle")
        page.wait_for_selector(f"{card} .status-completed >> text=enabled")
        assert page.is_enabled(f"{card} button.test")
        assert errors == []
    finally:
        context.close()


def add_webhook(page, url: str, description: str, event: str) -> str:
    """Fill in and send the form; returns the secret it shows (once)."""
    page.fill("#webhook-url", url)
    page.fill("#webhook-description", description)
    page.check(f'#webhook-events input[value="{event}"]')
    assert not page.is_checked('#webhook-events input[value="*"]')
    page.click("#webhook-form button[type=submit]")
    page.wait_for_selector("#secret-box:not([hidden])")
    secret = page.input_value("#secret-value")
    assert secret.startswith("whsec_")
    return secret


def test_the_page_keeps_the_strict_csp_and_is_linked_from_every_page(wh_client):
    response = wh_client.get("/webhooks")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\sstyle=|\son[a-z]+=", html)
    assert 'href="/webhooks"' in wh_client.get("/connections").get_data(as_text=True)
