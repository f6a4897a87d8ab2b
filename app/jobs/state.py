"""A job's states and every transition between them, each one guarded statement in SQL.

Each transition names the state it expects (and, for a running job, the attempt it belongs to),
so a duplicate delivery, a stale worker or a cancellation that raced it changes nothing:
`UPDATE ... WHERE status = ...`. None means the guard did not match.

Transitions leave their transaction open: the caller adds what the transition announces
(notifications) and commits both at once; what was staged is pushed after that commit. Each
transition that matched adds its row to the job's history (job_events) in that same transaction,
so an event exists exactly when its transition does; and a job that completes, ends or is retried
is handed to the listeners of `lifecycle` in that same transaction too (workflows: its dependents
are released, cancelled or revived with it).
"""

from __future__ import annotations

import random
import uuid
from collections import namedtuple
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    column,
    func,
    or_,
    select,
    table,
    tuple_,
    update,
)
from sqlalchemy.orm import aliased

from app.extensions import db
from app.jobs import history
from app.jobs.lifecycle import Seam, notify
from app.models import DeadLetter, Job
from app.models.job_event import EventKind
from app.platform import one_statement, prepared
from app.platform.one_statement import Part

MAX_BACKOFF_SECONDS = 3600
LOST_WORKER_ERROR = "The worker running this job stopped responding"


class JobStatus(StrEnum):
    """A job's status, as stored in `jobs.status` (str-valued: equal to the stored strings)."""

    QUEUED = "queued"
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Waiting: not finished yet (a singleton key is taken; cancel applies). Final: nothing runs again
# unless a user retries it (retention counts from `completed_at`).
WAITING = (JobStatus.QUEUED, JobStatus.ACTIVE)
FINAL = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
RETRIABLE = (JobStatus.FAILED, JobStatus.CANCELLED)


_JOB_COLUMNS = tuple(Job.__table__.c)
_prepared: dict[tuple, Select] = {}  # the statement of each transition, built once per process

# A job's row known without reading it back: a new job (every column is set before its INSERT) or
# a completed one (the claim returned the rest). Read like a Job, and like the rows of the lists.
JobRow = namedtuple("JobRow", [job_column.name for job_column in _JOB_COLUMNS])


def transition(name: str, kind: EventKind, guard: Callable[[], ColumnElement], values: dict, **params) -> list[Job]:
    """Run a guarded UPDATE of jobs, adding each changed job's history event in the same
    statement (`WITH changed AS (UPDATE ... RETURNING ...), recorded AS (INSERT INTO job_events
    SELECT ... FROM changed) SELECT ... FROM changed`), and get the fresh rows back as Job
    objects of the session: one round trip, nothing left for the session to flush.

    The statement is built once per `name` and shape of `values`, then only executed (building
    a CTE costs more than running it): `guard()` names its inputs as bind parameters, given in
    `params`; in `values`, SQL expressions are part of the statement (a name's expressions never
    vary) and anything else is bound."""
    statement, bound = _prepare(name, kind, guard, values, as_rows=False)
    return list(db.session.scalars(statement, {**params, **bound}, execution_options={"populate_existing": True}))


def transition_rows(name: str, kind: EventKind, guard: Callable[[], ColumnElement], values: dict, **params) -> list:
    """`transition` for the hot path of a running job (claim, complete, fail): the changed jobs
    as rows of the jobs table's columns, read like Job objects but never loaded into the
    session (the ORM's loading of an entity costs more than the statement), sent straight on the
    session connection's cursor (`app.platform.prepared.execute`). For callers that only read
    what the transition returned: a list of rows (named tuples, read like Rows)."""
    statement, bound = _prepare(name, kind, guard, values, as_rows=True)
    db.session.flush()  # the session's pending writes first, as its own execution would
    return prepared.execute(db.session.connection(), statement, {**params, **bound})


def _prepare(name: str, kind: EventKind, guard, values: dict, as_rows: bool) -> tuple[Select, dict]:
    shape = (name, kind, as_rows, _values_shape(values))
    statement = _prepared.get(shape)
    if statement is None:
        changes = update(Job.__table__) if as_rows else update(Job)
        statement = _with_history(changes.where(guard()).values(_set(values)), kind, as_rows)
        statement = _prepared[shape] = statement.execution_options(prepared=True)  # app.platform.prepared
    return statement, _bound(values)


def _values_shape(values: dict) -> tuple:
    """What of `values` a built statement depends on: its columns, and which of them are SQL."""
    return tuple((column, isinstance(value, ClauseElement)) for column, value in values.items())


def _bound(values: dict, prefix: str = "") -> dict:
    """The bound values of `values`, under the names `_set` gives them."""
    return {f"{prefix}set_{column}": value for column, value in values.items() if not isinstance(value, ClauseElement)}


def _set(values: dict) -> dict:
    columns = Job.__table__.c
    return {
        column: value if isinstance(value, ClauseElement) else bindparam(f"set_{column}", type_=columns[column].type)
        for column, value in values.items()
    }


def _with_history(statement, kind: EventKind, as_rows: bool) -> Select:
    changed = statement.returning(*_JOB_COLUMNS).cte("changed")
    returned = select(*changed.c) if as_rows else select(aliased(Job, changed))
    return returned.add_cte(history.recording(changed, kind))


def transition_part(name: str, kind: EventKind, guard: Callable[[], ColumnElement], values: dict, **params) -> Part:
    """`transition` as a part of a statement that records the transition's announcement with it
    (`app.platform.one_statement`): for a transition whose resulting row is known before it runs,
    so that its notification and webhook deliveries need not wait for it. The part answers True
    when the guard matched; when it did not, the caller rolls back (the announcement's rows go
    with it). Built once per `name` and shape of `values`, as `transition` is."""
    fragment, literals = _as_fragment(name, kind, guard, values)
    parameters = {
        **literals,
        **_bound(values, "transition_"),
        **{f"transition_{key}": value for key, value in params.items()},
    }
    return Part(fragment, parameters, lambda row: bool(row.transition_matched))


_fragments: dict[tuple, tuple] = {}  # transition_part's fragment of each shape, built once per process
_CHANGED_COLUMNS = ("id", "attempts", "progress", "error")  # what the history row needs of a changed job
_CHANGED = table("transition_changed", *(column(name) for name in _CHANGED_COLUMNS))


def _as_fragment(name: str, kind: EventKind, guard, values: dict) -> tuple:
    shape = (name, kind, _values_shape(values))
    built = _fragments.get(shape)
    if built is None:
        changes = update(Job.__table__).where(guard()).values(_set(values))
        changes = changes.returning(*(Job.__table__.c[name] for name in _CHANGED_COLUMNS))
        ctes = [("transition_changed", changes), ("transition_recorded", history.insertion(_CHANGED, kind))]
        columns = "EXISTS (SELECT 1 FROM transition_changed) AS transition_matched"
        built = _fragments[shape] = one_statement.core_fragment("transition_", ctes, columns)
    return built


def transition_one(name: str, kind: EventKind, guard, values: dict, **params) -> Job | None:
    """`transition` of one job's row: the job, or None when the guard did not match."""
    changed = transition(name, kind, guard, values, **params)
    return changed[0] if changed else None


def transition_one_row(name: str, kind: EventKind, guard, values: dict, **params) -> Row | None:
    """`transition_rows` of one job's row: the row, or None when the guard did not match."""
    changed = transition_rows(name, kind, guard, values, **params)
    return changed[0] if changed else None


def _this_job(*statuses: JobStatus) -> Callable[[], ColumnElement]:
    """The guard of a transition from these states (bound: `job_id`)."""
    if len(statuses) == 1:  # `=`: SQL of its own, as a statement sent on the cursor needs (claim)
        return lambda: and_(Job.id == bindparam("job_id"), Job.status == statuses[0])
    return lambda: and_(Job.id == bindparam("job_id"), Job.status.in_(statuses))


def _this_attempt() -> ColumnElement:
    """`current_attempt` as a guard (bound: `job_id`, `attempt`)."""
    return current_attempt(bindparam("job_id"), bindparam("attempt"))


def _due():
    return or_(Job.next_attempt_at.is_(None), Job.next_attempt_at <= func.now())


def _unblocked():
    """Not waiting for a dependency: only such a queued job may go to the broker or run."""
    return Job.blocked_by.is_(None)


def current_attempt(job_id: uuid.UUID, attempt: int):
    """The guard of every transition of a running job: still active, still this attempt."""
    return and_(Job.id == job_id, Job.status == JobStatus.ACTIVE, Job.attempts == attempt)


# The SQL expressions of the transitions every job makes, built once: the statement is built once
# per shape anyway, and building them again on every call cost more than a dictionary.
_CLAIMED = {
    "status": JobStatus.ACTIVE,
    "attempts": Job.attempts + 1,
    "started_at": func.coalesce(Job.started_at, func.now()),
    "heartbeat_at": func.now(),
    "next_attempt_at": None,
    "error": None,
}


def claim(job_id: uuid.UUID, worker: str) -> Row | None:
    """queued (due, and not waiting for a dependency) -> active, counting an attempt: the job's
    row. A job whose worker died is the recovery sweep's (`recover`), never taken over here."""
    values = {**_CLAIMED, "worker": worker}
    return transition_one_row("claim", EventKind.STARTED, _claimable, values, job_id=job_id)


def _claimable() -> ColumnElement:
    return and_(_this_job(JobStatus.QUEUED)(), _due(), _unblocked())


def save_progress(job_id: uuid.UUID, attempt: int, progress: dict, remember: bool = False) -> bool:
    """Record progress (committed at once; with `remember`, as a history checkpoint too); False
    means the attempt is no longer current."""
    done = db.session.execute(
        update(Job).where(current_attempt(job_id, attempt)).values(progress=progress, heartbeat_at=func.now())
    ).rowcount
    if done and remember:
        history.stage_progress(job_id, attempt, progress)
    db.session.commit()
    return bool(done)


def heartbeats(connection, attempts: list[tuple[uuid.UUID, int]], beat: bool) -> set[tuple[uuid.UUID, int]]:
    """From the watchdog's own connection: which of these (job id, attempt) are still current
    (with `beat`, noting in the same statement that they are alive)?"""
    guard = and_(Job.status == JobStatus.ACTIVE, tuple_(Job.id, Job.attempts).in_(attempts))
    if beat:
        statement = update(Job).where(guard).values(heartbeat_at=func.now()).returning(Job.id, Job.attempts)
    else:
        statement = select(Job.id, Job.attempts).where(guard)
    return {(job_id, attempt) for job_id, attempt in connection.execute(statement)}


def complete(job: Row, attempt: int, result: dict, progress: dict | None, announce=None) -> JobRow | None:
    """active (this attempt) -> completed, from the claimed row `job`: the completed job's row.

    The row a completion leaves is known before it runs (the claim returned the rest of it, and
    the completion sets `completed_at` itself), so `announce(done, transition)` records the
    announcement in the very statement of the transition: one statement for the transition, its
    history row, its notification and its webhook deliveries. It answers what the transition's
    part answered; without `announce`, the transition runs alone. None: the guard did not match,
    and the caller rolls back."""
    values = {"status": JobStatus.COMPLETED, "completed_at": datetime.now(UTC), "error": None, "result": result}
    if progress is not None:
        values["progress"] = progress
    done = JobRow(**job._asdict())._replace(**values)
    transition = transition_part("finish", EventKind.COMPLETED, _this_attempt, values, job_id=job.id, attempt=attempt)
    db.session.flush()  # a handler's pending writes go first, as before any transition
    [matched] = announce(done, transition) if announce is not None else one_statement.run(transition)
    if not matched:
        return None
    notify(Seam.COMPLETED, [done])
    return done


def backoff_seconds(job: Job) -> float:
    """Exponential when asked (delay, 2x, 4x ...), with +/-10% jitter so retries do not stampede."""
    delay = job.retry_delay * (2 ** (job.attempts - 1) if job.retry_backoff else 1)
    delay = min(delay, MAX_BACKOFF_SECONDS)
    return delay * random.uniform(0.9, 1.1) if delay else 0.0


def fail_attempt(job: Job, attempt: int, error: str, retryable: bool, result: dict | None = None) -> Row | None:
    """A failed attempt: retried after a back-off when attempts remain and the error is
    retryable, else failed for good and dead-lettered."""
    if retryable and attempt < job.max_attempts:
        due = datetime.now(UTC) + timedelta(seconds=backoff_seconds(job))
        return retry_later(job.id, attempt, error, due)
    return fail(job.id, attempt, error, "retryable" if retryable else "permanent", result)


def retry_later(job_id: uuid.UUID, attempt: int, error: str, due: datetime | None) -> Row | None:
    """active (this attempt) -> queued, due at `due` (None: now); the release sweep sends it."""
    values = {
        "status": JobStatus.QUEUED,
        "error": error,
        "error_kind": "retryable",
        "next_attempt_at": due,
        "enqueued_at": None,
    }
    return _finish_attempt(job_id, attempt, values, EventKind.RETRYING)


def fail(job_id: uuid.UUID, attempt: int, error: str, kind: str, result: dict | None = None) -> Row | None:
    """active (this attempt) -> failed, with its dead letter in the same transaction."""
    values = {"status": JobStatus.FAILED, "error": error, "error_kind": kind, "completed_at": func.now()}
    if result is not None:
        values["result"] = result
    failed = _finish_attempt(job_id, attempt, values, EventKind.FAILED)
    if failed is not None:
        db.session.add(dead_letter(failed))
        notify(Seam.ENDED, [failed])
    return failed


def dead_letter(job: Job) -> DeadLetter:
    """The dead-letter row of a job that failed for good."""
    return DeadLetter(job_id=job.id, user_id=job.user_id, job_type=job.type, error=job.error, attempts=job.attempts)


def _finish_attempt(job_id: uuid.UUID, attempt: int, values: dict, kind: EventKind) -> Row | None:
    """The end of an attempt (completed, failed, or queued again): the job's row."""
    return transition_one_row("finish", kind, _this_attempt, values, job_id=job_id, attempt=attempt)


def cancel(job_id: uuid.UUID) -> Job | None:
    """queued or active -> cancelled; a running attempt sees it at its next checkpoint."""
    cancelled = transition_one("cancel", EventKind.CANCELLED, _this_job(*WAITING), _cancelled(), job_id=job_id)
    if cancelled is not None:
        notify(Seam.ENDED, [cancelled])
    return cancelled


def _cancelled() -> dict:
    return {"status": JobStatus.CANCELLED, "completed_at": func.now(), "enqueued_at": None}


def _these_waiting_jobs() -> ColumnElement:
    return and_(Job.id.in_(bindparam("job_ids", expanding=True)), Job.status.in_(WAITING))


def cancel_all(job_ids: list[uuid.UUID]) -> list[Job]:
    """`cancel` for many jobs in one statement (the caller has locked them, in its lock order);
    those already finished are left alone. Returns the cancelled jobs."""
    cancelled = transition("cancel_all", EventKind.CANCELLED, _these_waiting_jobs, _cancelled(), job_ids=job_ids)
    notify(Seam.ENDED, cancelled)
    return cancelled


def requeue(job_id: uuid.UUID, actor_id: uuid.UUID) -> Job | None:
    """failed or cancelled -> queued with a fresh budget of attempts (marked as sent: the caller
    hands it to the broker after the commit, unless a listener found it waiting for a dependency
    again); its dead letter is marked as redriven."""
    now = datetime.now(UTC)
    values = {
        "status": JobStatus.QUEUED,
        "attempts": 0,
        "error": None,
        "error_kind": None,
        "progress": None,
        "result": None,
        "started_at": None,
        "completed_at": None,
        "next_attempt_at": None,
        "heartbeat_at": None,
        "worker": None,
        "enqueued_at": now,
    }
    job = transition_one("requeue", EventKind.REQUEUED, _this_job(*RETRIABLE), values, job_id=job_id)
    if job is not None:
        db.session.execute(
            update(DeadLetter)
            .where(DeadLetter.job_id == job_id, DeadLetter.redriven_at.is_(None))
            .values(redriven_at=now, redriven_by=actor_id)
        )
        notify(Seam.RETRIED, [job])
    return job


def lost_attempts(heartbeat_timeout: timedelta) -> list[tuple[uuid.UUID, int]]:
    """Active jobs whose worker stopped heartbeating, locked until the caller commits (a second
    sweep running at once takes other rows): (job id, attempt)."""
    rows = db.session.execute(
        select(Job.id, Job.attempts)
        .where(Job.status == JobStatus.ACTIVE, Job.heartbeat_at < func.now() - heartbeat_timeout)
        .with_for_update(skip_locked=True)
    ).all()
    return [(job_id, attempt) for job_id, attempt in rows]


def recover(job_id: uuid.UUID, attempt: int) -> Row | None:
    """A lost attempt: queued again at once when attempts remain, else failed and dead-lettered
    (the same transitions as an attempt that failed with a retryable error)."""
    job = db.session.get(Job, job_id)
    if job.attempts < job.max_attempts:
        return retry_later(job_id, attempt, LOST_WORKER_ERROR, due=None)
    return fail(job_id, attempt, LOST_WORKER_ERROR, "retryable")


def due_for_release(limit: int) -> list[tuple]:
    """Queued jobs that are due and not with the broker yet, highest priority first, locked until
    the caller commits: (id, type, priority, expire_in_seconds)."""
    return db.session.execute(
        select(Job.id, Job.type, Job.priority, Job.expire_in_seconds)
        .where(Job.status == JobStatus.QUEUED, Job.enqueued_at.is_(None), _due(), _unblocked())
        .order_by(Job.priority.desc(), Job.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def mark_sent(job_ids: list[uuid.UUID]) -> None:
    """The broker took these queued jobs."""
    db.session.execute(
        update(Job).where(Job.id.in_(job_ids), Job.status == JobStatus.QUEUED).values(enqueued_at=func.now())
    )


def mark_unsent(job_ids: list[uuid.UUID], connection=None) -> None:
    """The broker did not take (or may not have taken) these queued jobs: the release sweep sends
    them (a second message for a job that did arrive finds it no longer queued)."""
    statement = update(Job).where(Job.id.in_(job_ids), Job.status == JobStatus.QUEUED).values(enqueued_at=None)
    (connection or db.session).execute(statement)


def forget_sent_before(cutoff) -> int:
    """Queued jobs marked as sent before `cutoff` that never started: their message was lost;
    clear the mark so the release sweep sends them again. Returns how many."""
    statement = (
        update(Job)
        .where(Job.status == JobStatus.QUEUED, Job.enqueued_at < cutoff, _unblocked())
        .values(enqueued_at=None)
    )
    return db.session.execute(statement).rowcount
