"""The jobs list's `total` comes from the job_counts ledger (app/jobs/counts.py): it must say what
counting the jobs says, under every filter, after every kind of change, and across folds.

No worker runs here: the jobs stay where the tests put them."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import func, select, text

from app.extensions import db
from app.jobs import counts
from app.models import Job
from tests.support.api import create_job, create_waiting_job
from tests.support.rows import finished_job_row

FILTERS = [
    "",
    "&status=queued",
    "&status=cancelled",
    "&status=queued,cancelled",
    "&status=completed",
    "&type=test-probe",
    "&type=noop",
    "&status=cancelled&type=test-probe",
]


def _listed_total(client, headers, query: str) -> int:
    response = client.get(f"/api/jobs?page=1&limit=2{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["pagination"]["total"]


def _counted(user_id: str, query: str) -> int:
    """The same filter, counted over the jobs themselves."""
    statement = select(func.count()).select_from(Job).where(Job.user_id == uuid.UUID(user_id))
    for part in filter(None, query.split("&")):
        name, _, value = part.partition("=")
        column = Job.status if name == "status" else Job.type
        statement = statement.where(column.in_(value.split(",")))
    db.session.rollback()
    return db.session.scalar(statement)


def _assert_totals_match(client, user) -> None:
    for query in FILTERS:
        assert _listed_total(client, user["headers"], query) == _counted(user["id"], query), query


def _ledger_rows(user_id: str) -> list[tuple]:
    db.session.rollback()
    return db.session.execute(
        select(counts.job_counts.c.status, counts.job_counts.c.type, counts.job_counts.c.n).where(
            counts.job_counts.c.user_id == uuid.UUID(user_id)
        )
    ).all()


def test_totals_follow_creation_cancellation_retry_and_deletion(client, ctx, user):
    # Retried, a job is due at once, and a worker left by another test of the session could start it
    # between the two counts: the first job waits for a delayed dependency, so it stays queued.
    blocker = create_waiting_job(client, user["headers"]).get_json()["id"]
    ids = [create_job(client, user["headers"], options={"dependsOn": [blocker]}).get_json()["id"]]
    ids += [create_waiting_job(client, user["headers"]).get_json()["id"] for _ in range(4)]
    ids.append(create_waiting_job(client, user["headers"], type_="noop").get_json()["id"])
    _assert_totals_match(client, user)

    for job_id in ids[:3]:
        assert client.delete(f"/api/jobs/{job_id}", headers=user["headers"]).status_code == 200
    assert client.post(f"/api/jobs/{ids[0]}/retry", headers=user["headers"]).status_code == 202
    _assert_totals_match(client, user)
    assert _listed_total(client, user["headers"], "&status=cancelled") == 2

    # Deleting rows (what the retention purge does) takes them out of the totals.
    db.session.execute(text("DELETE FROM jobs WHERE id = ANY(:ids)"), {"ids": [uuid.UUID(i) for i in ids[3:5]]})
    db.session.commit()
    _assert_totals_match(client, user)
    assert _listed_total(client, user["headers"], "") == 5  # the blocker and four of the six


def test_a_fold_leaves_one_row_per_group_and_the_same_totals(client, ctx, user):
    ids = [create_waiting_job(client, user["headers"]).get_json()["id"] for _ in range(4)]
    for job_id in ids[:2]:
        client.delete(f"/api/jobs/{job_id}", headers=user["headers"])
    assert len(_ledger_rows(user["id"])) > 2  # deltas: +1 per job, -1/+1 per cancellation

    while counts.fold():  # other tests' deltas are folded too; repeat until nothing is left
        pass
    rows = _ledger_rows(user["id"])
    assert sorted((status, type_, n) for status, type_, n in rows) == [
        ("cancelled", "test-probe", 2),
        ("queued", "test-probe", 2),
    ]
    _assert_totals_match(client, user)


def test_many_rows_inserted_in_one_statement_are_counted(client, ctx, user):
    """A set of jobs inserted at once (a batch) goes through the statement-level trigger."""
    create_waiting_job(client, user["headers"])
    template = db.session.get(Job, uuid.UUID(_any_job_id(client, user)))
    rows = [finished_job_row(template.user_id, "completed" if index % 3 else "failed") for index in range(30)]
    db.session.execute(Job.__table__.insert(), rows)
    db.session.commit()
    _assert_totals_match(client, user)
    assert _listed_total(client, user["headers"], "&status=completed") == 20


def test_totals_stay_exact_while_folds_race_changes(client, app, user):
    """Two folds running over and over while jobs are created and cancelled: no delta is lost or
    counted twice."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def folding():
        with app.app_context():
            try:
                while not stop.is_set():
                    counts.fold()
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)
            finally:
                db.session.remove()

    folders = [threading.Thread(target=folding) for _ in range(2)]
    for thread in folders:
        thread.start()
    try:
        for index in range(15):
            job_id = create_waiting_job(client, user["headers"]).get_json()["id"]
            if index % 2:
                client.delete(f"/api/jobs/{job_id}", headers=user["headers"])
    finally:
        stop.set()
        for thread in folders:
            thread.join(timeout=30)
    assert not errors, errors
    with app.app_context():
        _assert_totals_match(client, user)
        assert _listed_total(client, user["headers"], "&status=cancelled") == 7
        db.session.remove()


def _any_job_id(client, user) -> str:
    return client.get("/api/jobs?limit=1", headers=user["headers"]).get_json()["data"][0]["id"]
