"""The jobs list's pages, shallow and deep (app/jobs/listing.py): every job once, newest first,
with the same total on every page, also past the last one.

No worker runs here: the jobs are rows inserted as they are."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Job
from app.platform.pagination import SHALLOW_OFFSET
from tests.support.rows import finished_job_row

LIMIT = 20
JOBS = SHALLOW_OFFSET + 3 * LIMIT + 7  # pages past SHALLOW_OFFSET are read keys first


@pytest.fixture()
def many_jobs(ctx, user) -> list[dict]:
    """JOBS rows of `user`, a few sharing a creation time (the id breaks the tie), newest first."""
    began = datetime.now(UTC) - timedelta(days=1)
    rows = [
        finished_job_row(
            uuid.UUID(user["id"]),
            "completed" if index % 4 else "failed",
            payload={"index": index},
            created_at=began + timedelta(seconds=index // 3),
        )
        for index in range(JOBS)
    ]
    db.session.execute(Job.__table__.insert(), rows)
    db.session.commit()
    return sorted(rows, key=lambda row: (row["created_at"], row["id"]), reverse=True)


def _page(client, user, page: int, query: str = "") -> dict:
    response = client.get(f"/api/jobs?page={page}&limit={LIMIT}{query}", headers=user["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_every_page_shallow_and_deep_lists_each_job_once_in_order(client, user, many_jobs):
    pages = -(-JOBS // LIMIT)
    listed = []
    for page in range(1, pages + 1):
        body = _page(client, user, page)
        assert body["pagination"] == {"page": page, "limit": LIMIT, "total": JOBS, "totalPages": pages}
        listed += [job["id"] for job in body["data"]]
    assert listed == [str(row["id"]) for row in many_jobs]
    # A deep page carries whole jobs, as a shallow one does.
    deep = _page(client, user, pages)["data"][0]
    assert deep["payload"] == {"index": many_jobs[(pages - 1) * LIMIT]["payload"]["index"]}
    assert deep["status"] in ("completed", "failed") and deep["type"] == "noop"


@pytest.mark.parametrize("page", [1, 2 + SHALLOW_OFFSET // LIMIT])
def test_a_filtered_page_lists_only_what_the_filter_takes(client, user, many_jobs, page):
    failed = [str(row["id"]) for row in many_jobs if row["status"] == "failed"]
    body = _page(client, user, 1, "&status=failed")
    assert [job["id"] for job in body["data"]] == failed[:LIMIT]
    assert body["pagination"]["total"] == len(failed)
    completed = _page(client, user, page, "&status=completed&type=noop")
    assert all(job["status"] == "completed" for job in completed["data"])
    assert completed["pagination"]["total"] == JOBS - len(failed)


def test_a_page_past_the_last_is_empty_and_still_has_the_total(client, user, many_jobs):
    past = _page(client, user, 1000)
    assert past["data"] == [] and past["pagination"]["total"] == JOBS
    # A batch's jobs are counted plainly (not from the ledger): none here, and a total of 0.
    nobodys_batch = uuid.UUID("00000000-0000-4000-8000-000000000002")
    assert _page(client, user, 1, f"&batchId={nobodys_batch}")["pagination"]["total"] == 0


def test_another_users_jobs_are_never_listed_or_counted(client, user, other_user, many_jobs):
    body = _page(client, other_user, 1)
    assert body["data"] == [] and body["pagination"]["total"] == 0
