"""Settling a batch when its last two jobs finish at the same moment, in two transactions:
exactly one batch_completed, whichever commits last; and the batch sweep."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import text

from app.batches.models import Batch
from app.batches.sweep import sweep_batches
from app.extensions import db
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


def test_the_sweep_settles_a_batch_finished_behind_the_seams_and_purges_emptied_ones(ctx, client, user):
    body = create_batch(client, user["headers"], [item(options=LATER)])
    params = {"id": body["batchId"]}
    bypass = "UPDATE jobs SET status = 'completed', completed_at = now() WHERE batch_id = CAST(:id AS uuid)"
    db.session.execute(text(bypass), params)
    db.session.commit()
    sweep_batches()  # (or the session's beat, if one runs, did it first: either way once)
    [finished] = notifications_of(client, user["headers"], "batch_completed")
    assert (finished["data"]["batchId"], finished["data"]["completed"]) == (body["batchId"], 1)
    sweep_batches()
    assert len(notifications_of(client, user["headers"], "batch_completed")) == 1, "settled once"

    db.session.execute(text("DELETE FROM jobs WHERE batch_id = CAST(:id AS uuid)"), params)
    db.session.execute(
        text("UPDATE batches SET completed_at = now() - interval '31 days' WHERE id = CAST(:id AS uuid)"), params
    )
    db.session.commit()
    sweep_batches()
    assert db.session.get(Batch, uuid.UUID(body["batchId"])) is None
