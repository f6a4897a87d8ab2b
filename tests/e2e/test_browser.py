"""The browser client end to end, in headless Chromium against real web, worker and beat processes:
sign up, add a connection, rebuild its schema and watch it live, use the bell, turn a preference off.

Skipped when Playwright or Chromium is missing (see tests/e2e/conftest.py)."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from tests.e2e.helpers import DOCS, TIMEOUT_MS, new_page
from tests.support.api import register

pytestmark = pytest.mark.slow


def unread_and_total(page) -> tuple[int, int]:
    """What the REST API says, asked from the page itself (with its tokens)."""
    body = page.evaluate("() => Api.get('/api/notifications?limit=100')")
    return body["unreadCount"], body["pagination"]["total"]


def rebuild_and_watch(page) -> None:
    """Click "Rebuild schema" and wait, without reloading, for the bar to reach 100 %."""
    page.evaluate("() => { window.__sameDocument = true; }")
    page.click("li[data-connection-id] button.rebuild")
    page.wait_for_selector('.rebuild-job .progress[data-percentage="100"][data-status="completed"]')
    assert page.evaluate("() => window.__sameDocument === true"), "the page reloaded"
    assert page.get_attribute(".rebuild-job progress", "value") == "100"


def test_journey(browser, site, worker, beat, shop_db):
    errors: list[str] = []
    page = new_page(browser, errors)
    try:
        # Sign up; the tokens survive a reload.
        page.goto(site.url + "/")
        page.wait_for_url("**/login")
        page.click("text=Sign up")
        page.fill("#name", "Ada")
        page.fill("#email", f"ada-{uuid.uuid4().hex[:8]}@example.com")
        page.fill("#password", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url("**/jobs")
        page.reload()
        page.wait_for_selector('#live-state[data-state="live"]')
        assert page.text_content("#bell-count") == "0"

        # A connection to a real SQLite database, rebuilt live.
        page.click("nav >> text=Connections")
        page.fill("#conn-name", "shop")
        page.fill("#conn-url", f"sqlite:///{shop_db}")
        page.click("#connection-form button[type=submit]")
        page.wait_for_selector("li[data-connection-id] >> text=shop")
        page.wait_for_selector('#live-state[data-state="live"]')
        rebuild_and_watch(page)
        # The schema is shown as tables and columns once the job completes.
        page.wait_for_selector('details[data-table="order_items"]')
        page.click('details[data-table="customers"] summary')
        assert page.is_visible('details[data-table="customers"] li[data-column="email"]')

        # The bell counted the job's notifications live (queued, started, completed).
        page.wait_for_selector('#bell-count:not([data-count="0"])')
        unread, _ = unread_and_total(page)
        assert unread >= 1
        page.wait_for_function(f"() => document.querySelector('#bell-count').dataset.count === '{unread}'")

        # The jobs page lists it, completed at 100 %.
        page.click("nav >> text=Jobs")
        page.wait_for_selector('tr[data-status="completed"] .progress[data-percentage="100"]')
        page.wait_for_selector('#live-state[data-state="live"]')
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / "jobs-page.png"))

        # The dropdown: newest first; mark all read.
        page.click("#bell-button")
        page.wait_for_selector("#bell-list li.unread")
        page.screenshot(path=str(DOCS / "notifications.png"))
        page.click("#bell-read-all")
        page.wait_for_selector('#bell-count[data-count="0"]')
        assert page.locator("#bell-list li.unread").count() == 0
        assert unread_and_total(page)[0] == 0
        _, total_before = unread_and_total(page)

        # Turn job_status in-app off: the next job adds no in-app notification.
        page.click("nav >> text=Preferences")
        toggle = page.locator("#pref-job_status-in_app")
        assert toggle.is_checked()
        toggle.uncheck()
        page.wait_for_selector("#prefs-status >> text=off")
        prefs = page.evaluate("() => Api.get('/api/notifications/preferences')")
        in_app = [p["enabled"] for p in prefs if (p["notificationType"], p["channel"]) == ("job_status", "in_app")]
        assert in_app == [False]

        page.click("nav >> text=Connections")
        page.wait_for_selector('#live-state[data-state="live"]')
        rebuild_and_watch(page)
        # The notifications of a transition are committed with it: by now they would exist.
        page.wait_for_timeout(500)
        assert unread_and_total(page) == (0, total_before)
        assert page.text_content("#bell-count") == "0"

        # The job detail shows the outcome.
        page.click("nav >> text=Jobs")
        page.click('tr[data-status="completed"] a >> nth=0')
        page.wait_for_selector("#job-status >> text=completed")
        assert page.text_content("#job-result") != "—"
        assert page.text_content("#job-error") == "—"
        assert not errors, errors
    finally:
        page.context.close()


def sign_in_without_socket_client(page, site, account: dict) -> None:
    """Sign in on a page that cannot load the socket.io client (as without Node.js at setup)."""
    absent = {"body": "/* absent */", "content_type": "text/javascript"}
    page.route("**/vendor/socket.io.min.js", lambda route: route.fulfill(**absent))
    page.goto(site.url + "/login")
    page.fill("#email", account["email"])
    page.fill("#password", account["password"])
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs")


def test_without_socket_client_the_pages_poll(browser, site, client):
    """No socket.io client (no Node.js at setup): the header says so and the pages poll."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in_without_socket_client(page, site, register(client))
        page.wait_for_selector('#live-state[data-state="polling"]')
        assert "live updates are off" in page.text_content("#live-state")
    finally:
        context.close()


def test_a_rebuild_learnt_without_an_event_still_shows_the_schema(browser, site, client, worker, shop_db):
    """The page may learn that a rebuild completed from a poll, or from the answer to subscribe:job
    when the job finished before the page joined its room: never from a job:completed event. The
    schema must appear all the same. Polling (no socket.io client) takes the event path away."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in_without_socket_client(page, site, register(client))
        page.click("nav >> text=Connections")
        page.fill("#conn-name", "shop")
        page.fill("#conn-url", f"sqlite:///{shop_db}")
        page.click("#connection-form button[type=submit]")
        page.wait_for_selector('#live-state[data-state="polling"]')
        page.click("li[data-connection-id] button.rebuild")
        page.wait_for_selector('.rebuild-job .progress[data-percentage="100"][data-status="completed"]')
        page.wait_for_selector('details[data-table="order_items"]')
    finally:
        context.close()


def test_an_export_is_downloaded_from_the_job_page(browser, site, worker, shop_db):
    with sqlite3.connect(shop_db) as conn:
        conn.executemany(
            "INSERT INTO customers (id, email, name) VALUES (?, ?, ?)", [(1, "a@x.io", 'Ann, "A"'), (2, "b@x.io", None)]
        )
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(site.url + "/signup")
        page.fill("#name", "Bo")
        page.fill("#email", f"bo-{uuid.uuid4().hex[:8]}@example.com")
        page.fill("#password", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url("**/jobs")
        job_id = page.evaluate(
            """async (url) => {
                const connection = await Api.post('/api/connections', {name: 'shop', url});
                const job = await Api.post('/api/jobs', {type: 'data-export', payload: {
                    connectionId: connection.id, query: 'SELECT id, email, name FROM customers ORDER BY id'}});
                return job.id;
            }""",
            f"sqlite:///{shop_db}",
        )
        page.goto(f"{site.url}/jobs/{job_id}")
        page.wait_for_selector("#job-status >> text=completed")
        with page.expect_download() as download:
            page.click("button.download")
        saved = download.value
        assert saved.suggested_filename.endswith(".csv")
        assert Path(saved.path()).read_bytes() == b'id,email,name\r\n1,a@x.io,"Ann, ""A"""\r\n2,b@x.io,\r\n'
    finally:
        context.close()
