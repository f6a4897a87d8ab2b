"""The schedules page in headless Chromium: the form previews the next runs in the chosen time
zone, creates a schedule, and each schedule can be run now (its job linked) and paused."""

from __future__ import annotations

import uuid

from tests.e2e.helpers import screenshot

TIMEOUT_MS = 15000


def test_create_preview_run_now_and_pause(browser, site):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(site.url + "/signup")
        page.fill("#name", "Cro")
        page.fill("#email", f"cron-{uuid.uuid4().hex[:8]}@example.com")
        page.fill("#password", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url("**/jobs")
        page.click("nav >> text=Schedules")
        page.wait_for_url("**/schedules")

        page.fill("#schedule-timezone", "Asia/Tokyo")
        page.fill("#schedule-cron", "30 9 * * 1")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#schedule-preview li')].filter("
            "li => li.textContent.includes('Asia/Tokyo')).length === 5"
        )
        assert "9:30" in page.text_content("#schedule-preview li")
        page.fill("#schedule-cron", "*/5 * * * * *")
        page.wait_for_selector("#schedule-preview li.error")  # below the minimum interval
        page.fill("#schedule-cron", "30 9 * * 1")

        page.fill("#schedule-name", "Weekly report")
        page.select_option("#schedule-type", "test-probe")
        page.fill("#schedule-payload", '{"steps": 1}')
        page.click("#schedule-form button[type=submit]")
        card = page.wait_for_selector("li[data-schedule-id]")
        assert "Weekly report" in card.text_content()
        assert "Asia/Tokyo" in page.text_content("li[data-schedule-id] .next-run")
        assert "never" in page.text_content("li[data-schedule-id] .last-run")

        page.click("li[data-schedule-id] button.run-now")
        link = page.wait_for_selector("li[data-schedule-id] .last-run a.last-job")
        assert link.get_attribute("href").startswith("/jobs/")
        # The form previews a second schedule's runs beside the first one, linked to its last job.
        page.fill("#schedule-cron", "0 18 * * 1-5")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#schedule-preview li')].filter("
            "li => li.textContent.includes('6:00:00 PM')).length === 5"
        )
        screenshot(page, "schedules-page.png", full_page=True)

        page.click("li[data-schedule-id] button.toggle")
        page.wait_for_selector('li[data-schedule-id][data-enabled="false"]')
        assert page.text_content("li[data-schedule-id] button.toggle") == "Resume"
        assert "paused" in page.text_content("li[data-schedule-id] .next-run")
        page.click("li[data-schedule-id] button.toggle")
        page.wait_for_selector('li[data-schedule-id][data-enabled="true"]')
    finally:
        context.close()
