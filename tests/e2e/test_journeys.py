"""Every job type started from its page, in headless Chromium against real web, worker and beat
processes: an export downloaded byte for byte, an import whose rejected rows are shown and then one
that loads, a backup with its rows, a usage report, and the job page of each.

Skipped when Playwright or Chromium is missing (see tests/e2e/conftest.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.helpers import add_connection, new_page, rebuild_schema, screenshot, sign_up

pytestmark = pytest.mark.slow

CUSTOMERS = [(1, "a@x.io", 'Ann, "A"'), (2, "b@x.io", None), (3, "c@x.io", "Cé")]


@pytest.fixture()
def shop(shop_db) -> Path:
    with sqlite3.connect(shop_db) as conn:
        conn.executemany("INSERT INTO customers (id, email, name) VALUES (?, ?, ?)", CUSTOMERS)
    return shop_db


def card(connection_id: str) -> str:
    return f'li[data-connection-id="{connection_id}"]'


def open_form(page, connection_id: str, name: str) -> str:
    """Open a connection's form by keyboard (its summary is a button); returns its selector."""
    summary = page.locator(f'{card(connection_id)} details[data-form="{name}"] > summary')
    summary.focus()
    page.keyboard.press("Enter")
    return f'{card(connection_id)} details[data-form="{name}"][open] form'


def started_job(page, form: str, status: str, other_than: str | None = None) -> str:
    """Wait for the job under `form` to reach `status` (a job other than `other_than`, if given)."""
    selector = f'{form} .started-job[data-status="{status}"]'
    if other_than:
        selector += f':not([data-job-id="{other_than}"])'
    page.wait_for_selector(selector)
    return selector


def download(page, button) -> tuple[str, bytes]:
    with page.expect_download() as info:
        button.click()
    saved = info.value
    return saved.suggested_filename, Path(saved.path()).read_bytes()


def choose_table(page, select: str, name: str) -> None:
    page.wait_for_selector(f"{select} option[data-name={name}]", state="attached")
    value = page.get_attribute(f"{select} option[data-name={name}]", "value")
    page.select_option(select, value)


def test_export_then_import_with_rejected_rows(browser, site, worker, shop, tmp_path):
    errors: list[str] = []
    page = new_page(browser, errors, accept_downloads=True)
    try:
        sign_up(page, site)
        conn_id = add_connection(page, "shop", f"sqlite:///{shop}")
        page.wait_for_selector('#live-state[data-state="live"]')

        # Export: a query, CSV, and the download once done, byte for byte.
        form = open_form(page, conn_id, "export")
        page.fill(f"{form} textarea[name=query]", "SELECT id, email, name FROM customers ORDER BY id")
        page.select_option(f"{form} select[name=format]", "csv")
        page.click(f"{form} button[type=submit]")
        done = started_job(page, form, "completed")
        name, body = download(page, page.locator(f"{done} button.download"))
        assert name.endswith(".csv")
        assert body == b'id,email,name\r\n1,a@x.io,"Ann, ""A"""\r\n2,b@x.io,\r\n3,c@x.io,C\xc3\xa9\r\n'
        # The same as JSON: a second job takes the first one's place under the form.
        first = page.get_attribute(done, "data-job-id")
        page.select_option(f"{form} select[name=format]", "json")
        page.click(f"{form} button[type=submit]")
        done = started_job(page, form, "completed", other_than=first)
        name, body = download(page, page.locator(f"{done} button.download"))
        assert name.endswith(".json")
        assert json.loads(body) == [{"id": i, "email": e, "name": n} for i, e, n in CUSTOMERS]

        # Import: the table list comes from the cached schema, so rebuild first.
        form = open_form(page, conn_id, "import")
        page.wait_for_selector(f"{form} p.hint >> text=rebuild the schema first")
        rebuild_schema(page, conn_id)
        page.click(f'{card(conn_id)} details[data-form="import"] > summary')  # close and reopen: fresh tables
        form = open_form(page, conn_id, "import")
        choose_table(page, f"{form} select[name=table]", "customers")
        bad = tmp_path / "customers.csv"
        bad.write_text("id,email,name\n10,d@x.io,Dee\n11,,No email\nnot-a-number,e@x.io,Eve\n12,f@x.io,Fay\n")
        page.set_input_files(f"{form} input[type=file]", str(bad))
        page.click(f"{form} button[type=submit]")
        failed = started_job(page, form, "failed")
        # The failure event comes first; the rejected rows follow from the job's record.
        page.wait_for_selector(f"{failed} table.rejected tbody tr")
        rejected = page.locator(f"{failed} table.rejected tbody tr")
        assert rejected.count() == 2
        assert [rejected.nth(i).get_attribute("data-line") for i in range(2)] == ["3", "4"]
        assert "email" in rejected.nth(0).text_content()
        assert "Rejected rows: 2" in page.text_content(f"{failed} table.rejected caption")
        # In the page itself, in one step: a late event may render the job's line again meanwhile.
        page.eval_on_selector(f"{form} table.rejected", "table => table.scrollIntoView({block: 'nearest'})")
        screenshot(page, "connection-import-rejected.png")
        with sqlite3.connect(shop) as conn:
            assert conn.execute("SELECT count(*) FROM customers").fetchone() == (3,)  # nothing imported

        # The failed import's own page: payload, error, rejected rows, history; retry is offered.
        page.click(f"{failed} a")
        page.wait_for_selector("#job-status >> text=failed")
        payload = json.loads(page.text_content("#job-payload"))
        assert payload["connectionId"] == conn_id and payload["table"] == "customers"
        assert page.locator("#job-rejected table.rejected tbody tr").count() == 2
        assert "rejected" in page.text_content("#job-error")
        page.wait_for_selector('#job-history li[data-kind="failed"] .error >> text=rejected')
        assert page.locator('#job-history li[data-kind="started"][data-attempt="1"]').count() == 1
        screenshot(page, "job-page.png", full_page=True, clip={"x": 0, "y": 0, "width": 1200, "height": 1400})
        # Retry: the same rows are refused again, and the history shows both runs.
        page.click("#job-actions button.retry")
        page.wait_for_selector('#job-history li[data-kind="requeued"]')
        page.wait_for_function("() => document.querySelectorAll('#job-history li[data-kind=failed]').length === 2")
        page.wait_for_selector("#job-status >> text=failed")
        page.goto(site.url + "/connections")

        # A clean file loads.
        page.wait_for_selector(f"{card(conn_id)} details[data-form=import] > summary")
        form = open_form(page, conn_id, "import")
        choose_table(page, f"{form} select[name=table]", "customers")
        good = tmp_path / "more.csv"
        good.write_text("id,email,name\n10,d@x.io,Dee\n11,e@x.io,\n")
        page.set_input_files(f"{form} input[type=file]", str(good))
        page.click(f"{form} button[type=submit]")
        started_job(page, form, "completed")
        with sqlite3.connect(shop) as conn:
            assert conn.execute("SELECT id, email, name FROM customers WHERE id >= 10 ORDER BY id").fetchall() == [
                (10, "d@x.io", "Dee"),
                (11, "e@x.io", None),
            ]
        assert not errors, errors
    finally:
        page.context.close()


def test_backup_and_usage_report(browser, site, worker, shop):
    errors: list[str] = []
    page = new_page(browser, errors, accept_downloads=True)
    try:
        sign_up(page, site, "Bo")
        conn_id = add_connection(page, "shop", f"sqlite:///{shop}")
        rebuild_schema(page, conn_id)

        # Backup with the rows of one table; the download is the file the API serves.
        form = open_form(page, conn_id, "backup")
        page.check(f"{form} input[name=includeData]")
        choose_table(page, f"{form} select[name=tables]", "customers")
        screenshot(page, "connection-forms.png")
        page.click(f"{form} button[type=submit]")
        done = started_job(page, form, "completed")
        job_id = page.get_attribute(done, "data-job-id")
        name, body = download(page, page.locator(f"{done} button.download"))
        assert name.endswith(".sql")
        served = page.evaluate(
            """async (id) => {
                const headers = {Authorization: 'Bearer ' + Api.accessToken()};
                const res = await fetch('/api/jobs/' + id + '/artifact', {headers});
                return Array.from(new Uint8Array(await res.arrayBuffer()));
            }""",
            job_id,
        )
        assert body == bytes(served)
        script = body.decode()
        assert "CREATE TABLE" in script and "orders" in script
        assert "INSERT INTO" in script and "Ann" in script
        assert 'INSERT INTO "orders"' not in script  # only the rows of the chosen table

        # The backup's page lists its file for download.
        page.goto(f"{site.url}/jobs/{job_id}")
        page.wait_for_selector("#job-files li[data-artifact-id] button.download")
        assert json.loads(page.text_content("#job-payload"))["tables"] == ["main.customers"]
        _, again = download(page, page.locator("#job-files button.download"))
        assert again == body

        # A usage report from the jobs page (not an admin: no "every user" option).
        page.goto(site.url + "/jobs")
        page.click("details[data-form=report] > summary")
        assert page.locator("#report-all-users").count() == 0
        page.fill("#report-days", "7")
        page.click("#report-form button[type=submit]")
        page.wait_for_selector('#report-form .started-job[data-status="completed"] button.download')
        screenshot(page, "jobs-report.png")
        report_button = page.locator("#report-form .started-job button.download", has_text=".json")
        _, body = download(page, report_button)
        report = json.loads(body)
        assert report["days"] == 7 and report["allUsers"] is False
        assert report["byType"]["schema-rebuild"]["total"] == 1
        assert report["byType"]["backup-connection"]["byStatus"] == {"completed": 1}
        assert not errors, errors
    finally:
        page.context.close()
