"""The operator page in headless Chromium against real web, worker and beat processes: charts drawn
from GET /api/admin/stats/jobs, a dead letter redriven until its job completes, every user's jobs and
the audit log; without uPlot the same figures as tables; non-admins are turned away.

Skipped when Playwright or Chromium is missing (see tests/e2e/conftest.py)."""

from __future__ import annotations

import random
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from app.extensions import db
from app.models import Job
from tests.e2e.helpers import new_page, screenshot, sign_in, sign_up
from tests.support.api import wait_for_job

pytestmark = pytest.mark.slow


# Typical run times (seconds) of the seeded history, per type.
RUN_TIMES = {"schema-rebuild": (1.5, 4), "data-export": (6, 20), "bulk-import": (12, 40), "backup-connection": (4, 9)}


@pytest.fixture()
def day_of_history(ctx, admin):
    """Finished jobs spread over the last 24 hours (as rows: a day cannot be waited for), so the
    charts have something to draw; deleted afterwards."""
    rng = random.Random(17)
    now = datetime.now(UTC)
    rows = []
    for slot in range(24 * 12):  # every 5 minutes
        finished = now - timedelta(minutes=5 * slot + rng.uniform(1, 4))
        busy = 1 + (slot % 72) // 18  # a few busier stretches
        for _ in range(rng.randint(0, 2 * busy)):
            type_ = rng.choice(list(RUN_TIMES))
            status = rng.choices(["completed", "failed", "cancelled"], weights=[90, 7, 3])[0]
            low, high = RUN_TIMES[type_]
            seconds = rng.uniform(low, high) * (1 + (slot % 48) / 96)
            rows.append(
                Job(
                    id=uuid.uuid4(),
                    user_id=uuid.UUID(admin["id"]),
                    type=type_,
                    status=status,
                    payload={},
                    attempts=1,
                    max_attempts=1,
                    retry_delay=0,
                    retry_backoff=False,
                    expire_in_seconds=600,
                    created_at=finished - timedelta(seconds=seconds + 1),
                    started_at=finished - timedelta(seconds=seconds),
                    completed_at=finished,
                )
            )
    db.session.add_all(rows)
    db.session.commit()
    yield len(rows)
    db.session.execute(delete(Job).where(Job.id.in_([row.id for row in rows])))
    db.session.commit()


@pytest.fixture()
def dead_export(client, user, worker, shop_db):
    """An export of a table that does not exist yet, failed for good (no retries): a dead letter."""
    headers = user["headers"]
    conn = client.post("/api/connections", json={"name": "shop", "url": f"sqlite:///{shop_db}"}, headers=headers)
    assert conn.status_code == 201, conn.get_json()
    body = {
        "type": "data-export",
        "payload": {"connectionId": conn.get_json()["id"], "query": "SELECT id, amount FROM refunds"},
        "options": {"retryLimit": 0},
    }
    created = client.post("/api/jobs", json=body, headers=headers)
    assert created.status_code == 202, created.get_json()
    job = wait_for_job(client, headers, created.get_json()["id"])
    assert job["status"] == "failed"
    done = client.post("/api/jobs", json={"type": "noop", "payload": {}}, headers=headers).get_json()
    wait_for_job(client, headers, done["id"])
    return {"job": job, "headers": headers, "db": shop_db}


def test_operator_page(browser, site, client, user, admin, day_of_history, dead_export):
    errors: list[str] = []
    page = new_page(browser, errors)
    job_id = dead_export["job"]["id"]
    try:
        sign_in(page, site, admin["email"], admin["password"])
        assert page.is_visible("nav >> text=Operator")
        with page.expect_response(lambda r: "/api/admin/stats/jobs?hours=24" in r.url) as answer:
            page.click("nav >> text=Operator")
        stats = answer.value.json()
        assert stats["totals"]["failed"] >= 1 and stats["totals"]["completed"] >= 1

        # Both charts are drawn, from the endpoint's figures.
        for chart in ("throughput", "runtime"):
            page.wait_for_selector(f"#chart-{chart} canvas")
        figure = page.locator("#chart-throughput")
        assert figure.get_attribute("data-points") == str(len(stats["perMinute"])) == "1440"
        for outcome in ("completed", "failed", "cancelled"):
            assert figure.get_attribute(f"data-{outcome}") == str(stats["totals"][outcome])
        totals = stats["totals"]
        assert page.text_content("#stats-totals") == (
            f"Last 24 h: {totals['completed']} completed, {totals['failed']} failed, {totals['cancelled']} cancelled."
        )
        legend = page.text_content("#chart-throughput .u-legend")
        assert all(label in legend for label in ("Completed", "Failed", "Cancelled"))  # not colour alone
        types = {row["type"] for row in stats["runTimeByType"]}
        assert {"noop", "schema-rebuild", "data-export", "bulk-import", "backup-connection"} <= types
        series = page.evaluate("() => document.querySelectorAll('#chart-runtime .u-legend .u-series').length")
        assert series == 1 + len({row["type"] for row in stats["runTimeSeries"]})
        assert page.locator("#runtime-table tbody tr[data-type=noop]").count() == 1
        assert page.is_hidden("#charts-unavailable") and page.is_hidden("#minutes-table")

        # The dead letter, redriven once its cause is fixed: the job runs again and completes.
        row = f'#dead-table tr[data-job-id="{job_id}"]'
        page.wait_for_selector(row)
        assert "refunds" in page.text_content(f"{row} td.error")
        page.wait_for_selector(f'#admin-jobs tr[data-job-id="{job_id}"][data-status="failed"]')
        screenshot(page, "operator-charts.png")
        page.evaluate("() => document.querySelector('section[aria-labelledby=dead-title]').scrollIntoView()")
        screenshot(page, "operator-dead-letters.png")
        with sqlite3.connect(dead_export["db"]) as conn:
            conn.execute("CREATE TABLE refunds (id INTEGER PRIMARY KEY, amount INTEGER)")
            conn.execute("INSERT INTO refunds VALUES (1, 250)")
        page.locator(f"{row} button.redrive").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#dead-status >> text=Redriven")
        page.wait_for_selector(row, state="detached")
        job = wait_for_job(client, dead_export["headers"], job_id)
        assert job["status"] == "completed" and job["attempts"] == 1
        page.wait_for_selector('#audit-table tr[data-action="job.redriven"]')

        # Every user's jobs, filtered.
        page.select_option("#admin-filter-type", "data-export")
        page.select_option("#admin-filter-status", "completed")
        # The answer to the first filter may show for a moment: wait for the one to both.
        page.wait_for_function(
            """(id) => {
                const rows = [...document.querySelectorAll('#admin-jobs tbody tr')];
                return rows.some((r) => r.dataset.jobId === id) && rows.every((r) => r.dataset.status === 'completed');
            }""",
            arg=job_id,
        )
        assert page.locator('#admin-jobs tbody tr:not([data-status="completed"])').count() == 0

        # One user's jobs: the user's id in a row narrows the list to them, until cleared.
        page.select_option("#admin-filter-type", "")
        page.select_option("#admin-filter-status", "")
        page.click(f'#admin-jobs tr[data-job-id="{job_id}"] button.user-filter')
        page.wait_for_selector("#admin-filter-user", state="visible")
        only_theirs = """(id) => {
            const rows = [...document.querySelectorAll('#admin-jobs tbody tr')];
            return rows.length === 2 && rows.every((r) => r.dataset.userId === id);
        }"""
        page.wait_for_function(only_theirs, arg=user["id"])
        page.click("#admin-filter-user button")
        page.wait_for_selector("#admin-filter-user", state="hidden")
        page.wait_for_function("() => document.querySelectorAll('#admin-jobs tbody tr').length === 10")
        assert not errors, errors
    finally:
        page.context.close()


def test_without_uplot_the_figures_are_tables(browser, site, admin, dead_export):
    errors: list[str] = []
    page = new_page(browser, errors)
    try:
        absent = {"body": "/* absent */", "content_type": "text/javascript"}
        page.route("**/vendor/uPlot.iife.min.js", lambda route: route.fulfill(**absent))
        sign_in(page, site, admin["email"], admin["password"])
        page.goto(site.url + "/operator")
        page.wait_for_selector("#charts-unavailable", state="visible")
        assert "Charts are unavailable" in page.text_content("#charts-unavailable")
        page.wait_for_selector("#minutes-table tbody tr")
        assert page.locator("canvas").count() == 0
        assert page.locator("#runtime-table tbody tr[data-type=noop]").count() == 1
        # Visible focus for keyboard users: the first Tab lands on the skip link, outlined.
        page.keyboard.press("Tab")
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert page.evaluate("() => document.activeElement.className") == "skip" and outline == "solid"
        assert not errors, errors
    finally:
        page.context.close()


def test_non_admins_are_turned_away(browser, site):
    errors: list[str] = []
    page = new_page(browser, errors)
    try:
        sign_up(page, site, "Cy")
        assert page.is_hidden("#nav-operator")
        page.goto(site.url + "/operator")
        page.wait_for_selector("#operator-denied", state="visible")
        assert page.is_hidden("#operator")
        assert not errors, errors
    finally:
        page.context.close()
