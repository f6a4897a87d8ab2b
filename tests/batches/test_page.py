"""The jobs page filtered by batch, in headless Chromium: the link of a batch's notification
(`/jobs?batchId=...`) shows that batch's jobs only, and clearing the field shows every job."""

from __future__ import annotations

import pytest

from tests.batches.support import LATER, create_batch, item
from tests.e2e.helpers import new_page, sign_in
from tests.support.api import create_waiting_job

TIMEOUT_MS = 30_000


@pytest.mark.slow
def test_the_jobs_page_filters_by_batch(browser, site, client, user):
    body = create_batch(client, user["headers"], [item(options=LATER) for _ in range(3)])
    single = create_waiting_job(client, user["headers"]).get_json()["id"]
    batch_ids = {job["id"] for job in body["data"]}
    errors: list[str] = []
    page = new_page(browser, errors, timeout_ms=TIMEOUT_MS)
    try:
        sign_in(page, site, user["email"], user["password"])
        page.goto(site.url + "/jobs?batchId=" + body["batchId"])
        shown = "(n) => document.querySelectorAll('#jobs-body tr').length === n"
        page.wait_for_function(shown, arg=3)
        rows = {row.get_attribute("data-job-id") for row in page.query_selector_all("#jobs-body tr")}
        assert rows == batch_ids
        assert page.input_value("#filter-batch") == body["batchId"]
        page.fill("#filter-batch", "")
        page.dispatch_event("#filter-batch", "change")
        page.wait_for_function(shown, arg=4)
        assert single in {row.get_attribute("data-job-id") for row in page.query_selector_all("#jobs-body tr")}
        assert "batchId" not in page.url
    finally:
        page.context.close()
    assert errors == []
