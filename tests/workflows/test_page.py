"""The workflow pages: rendered under the strict CSP, and in headless Chromium a workflow's jobs
with their dependencies, turning completed live without a reload."""

from __future__ import annotations

import re

import pytest

from app import create_app
from tests.e2e.helpers import new_page, screenshot, sign_in
from tests.workflows.support import create_workflow, spec

TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def pages(database):
    return create_app().test_client()


@pytest.mark.parametrize("path", ["/workflows", "/workflows/00000000-0000-0000-0000-000000000001"])
def test_workflow_pages_render_without_inline_code(pages, path):
    response = pages.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "js/workflow.js" in html and "js/live.js" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\sstyle=|\son[a-z]+=", html)


@pytest.mark.slow
def test_the_workflow_page_shows_dependencies_and_live_status(browser, site, client, user, worker, beat):
    workflow = create_workflow(
        client,
        user["headers"],
        [
            spec("extract", payload={"steps": 4, "stepSeconds": 0.5}),
            spec("transform", ["extract"]),
            spec("audit", ["extract"]),
            spec("load", ["transform", "audit"]),
        ],
        name="etl",
    )
    page = new_page(browser, timeout_ms=TIMEOUT_MS)
    try:
        sign_in(page, site, user["email"], user["password"])
        page.goto(site.url + "/workflows/" + workflow["id"])
        page.wait_for_selector("#job-load")
        page.wait_for_selector('#live-state[data-state="live"]')  # events, not the polling fallback
        assert set(page.text_content("#job-load td:nth-child(5)").split(", ")) == {"transform", "audit"}
        assert page.text_content("#workflow-name") == "etl"
        page.evaluate("() => { window.__sameDocument = true; }")
        page.wait_for_selector("#workflow-status .status-completed")
        for key in ("extract", "transform", "audit", "load"):
            assert page.get_attribute(f"#job-{key}", "data-status") == "completed"
        screenshot(page, "workflow-page.png")
        assert page.evaluate("() => window.__sameDocument === true"), "the page reloaded"
        page.goto(site.url + "/workflows")
        page.wait_for_selector(f'tr[data-workflow-id="{workflow["id"]}"][data-status="completed"]')
    finally:
        page.context.close()
