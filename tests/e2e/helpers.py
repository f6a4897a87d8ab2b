"""What the browser journeys share: where screenshots go, signing up through the pages, adding a
connection through the connections page."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

# The README's screenshots are refreshed only when asked (UPDATE_SCREENSHOTS=1), so that a test
# run never changes tracked files; otherwise they go to a temporary folder.
DOCS = (
    Path(__file__).resolve().parents[2] / "docs"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "jobsvc-screenshots"
)
TIMEOUT_MS = 20_000


def screenshot(page, name: str, **options) -> Path:
    DOCS.mkdir(exist_ok=True)
    path = DOCS / name
    page.screenshot(path=str(path), **options)
    return path


def new_page(browser, errors: list[str] | None = None, timeout_ms: int = TIMEOUT_MS, **context_options):
    """A page in a fresh context (its own localStorage); uncaught page errors land in `errors` if given."""
    context = browser.new_context(viewport={"width": 1200, "height": 800}, **context_options)
    context.set_default_timeout(timeout_ms)
    page = context.new_page()
    if errors is not None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


def sign_up(page, site, name: str = "Ada") -> str:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(site.url + "/signup")
    page.fill("#name", name)
    page.fill("#email", email)
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs")
    return email


def sign_in(page, site, email: str, password: str) -> None:
    page.goto(site.url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs")


def add_connection(page, name: str, url: str) -> str:
    """Add it on the connections page; returns its id."""
    page.goto(page.url.split("/jobs")[0] + "/connections")
    page.fill("#conn-name", name)
    page.fill("#conn-url", url)
    page.click("#connection-form button[type=submit]")
    item = page.wait_for_selector(f"li[data-connection-id]:has(h2:text-is('{name}'))")
    return item.get_attribute("data-connection-id")


def rebuild_schema(page, connection_id: str) -> None:
    card = f'li[data-connection-id="{connection_id}"]'
    page.click(f"{card} button.rebuild")
    page.wait_for_selector(f'{card} .rebuild-job .progress[data-status="completed"]')
