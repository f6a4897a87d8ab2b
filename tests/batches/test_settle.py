"""Settling a batch when its last two jobs finish at the same moment, in two transactions:
exactly one batch_completed, whichever commits last."""

from __future__ import annotations

import threading
import uuid

from app.jobs import lifecycle
from app.jobs import service as jobs
from app.jobs.lifecycle import Seam
from tests.batches.support import LATER, create_batch, item, notifications_of


def test_the_last_two_jobs_finishing_at_once_announce_the_batch_once(app, client, user, monkeypatch):
    body = create_batch(client, user["headers"], [item(options=LATER), item(options=LATER)])
    ids = [uuid.UUID(job["id"]) for job in body["data"]]
    # Both transactions have cancelled their job, and neither has committed, before either
    # settles the batch: without the batch's row lock each would see the other job waiting.
    both_cancelled = threading.Barrier(2, timeout=10)
    listeners = lifecycle._listeners[Seam.ENDED]
    monkeypatch.setitem(lifecycle._listeners, Seam.ENDED, [lambda _jobs: both_cancelled.wait(), *listeners])
    errors: list[BaseException] = []

    def cancel(job_id: uuid.UUID) -> None:
        with app.app_context():
            try:
                jobs.cancel_job(uuid.UUID(user["id"]), job_id)
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

    threads = [threading.Thread(target=cancel, args=(job_id,)) for job_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    finished = notifications_of(client, user["headers"], "batch_completed")
    assert len(finished) == 1, finished
    assert (finished[0]["data"]["cancelled"], finished[0]["data"]["count"]) == (2, 2)
