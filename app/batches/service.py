"""Batches as users see them: many independent jobs created by one request, in one transaction.

Every item is validated first, as `POST /api/jobs` validates a job (`validate_job_request`); one
invalid item refuses the whole batch, with the errors keyed by the items' indexes, and nothing
is created. Then one transaction holds the batch row, every job row (one multi-row INSERT), one
audit entry, one `job_queued` notification for the whole batch and the jobs' `job.queued` webhook
deliveries (one statement for all of them); after the commit the due jobs go to the broker in one
Redis pipeline, and if it fails they are left to the sweep.

Options inside a batch: `startAfter`, priorities and retries work as for one job. `dependsOn` is
refused: jobs that wait for other jobs belong in a workflow. A `singletonKey` repeated inside the
batch is a 400, and one that a queued or active job already holds is a 409 `singleton_conflict`
(a batch creates all of its jobs or none; it never answers an item with some other job).
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import TextClause, bindparam, select, text, tuple_
from sqlalchemy.exc import IntegrityError

from app.batches.models import Batch
from app.errors import ApiError, Conflict, ValidationFailed
from app.extensions import db
from app.jobs import announcements as events
from app.jobs import broker as queue
from app.jobs import service as jobs
from app.jobs import state
from app.jobs.options import JobRequest, validate_job_request
from app.jobs.registry import get_job_type
from app.jobs.state import JobRow
from app.models import IdempotencyKey, Job
from app.notifications import service as notifications
from app.platform import audit
from app.schemas.jobs import JobCreateSchema

REFUSED_OPTIONS = {
    "dependsOn": "Not available in a batch: jobs that wait for other jobs belong in a workflow (POST /api/workflows).",
}


def batch_fingerprint(specs: Sequence) -> str:
    """The hash an Idempotency-Key remembers: the whole list of items, in order."""
    body = json.dumps({"batch": list(specs)}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def create_batch(
    user_id: uuid.UUID, specs: Sequence, idempotency_key: str | None = None
) -> tuple[Batch, list[Job], bool]:
    """Create every job of the batch or none; returns (batch, its jobs in the request's order,
    created). A repeat of an Idempotency-Key answers with the batch that key created."""
    fingerprint = batch_fingerprint(specs) if idempotency_key else None  # only a key remembers it
    if idempotency_key:
        existing = _batch_for_key(user_id, idempotency_key, fingerprint)
        if existing is not None:
            return existing, jobs_of(existing.id), False
    requests = validated_requests(user_id, specs)
    _refuse_taken_singletons(requests)
    batch = Batch(id=uuid.uuid4(), user_id=user_id, count=len(requests), remaining=len(requests))
    batch.created_at = datetime.now(UTC)
    db.session.add(batch)
    db.session.flush()  # the jobs and the key reference it
    created = _insert_jobs(user_id, batch.id, requests)
    if idempotency_key:
        key_row = IdempotencyKey(user_id=user_id, key=idempotency_key, request_hash=fingerprint, batch_id=batch.id)
        db.session.add(key_row)
    audit.record(user_id, "batch.created", "batch", batch.id, {"jobs": len(created)})
    events.stage_created_many(created)  # their webhook deliveries and metric
    _stage_queued_notification(batch, created)  # and one notification for them all
    queue.enqueue_many_after_commit(created)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        winner = _race_winner(user_id, idempotency_key, fingerprint, requests)
        return winner, jobs_of(winner.id), False
    return batch, created, True


def validated_requests(user_id: uuid.UUID, specs: Sequence) -> list[JobRequest]:
    """Each item checked as `POST /api/jobs` checks a job, or one error naming every bad item
    by its index (400; a payload naming something not the caller's keeps its own status).
    Items that are the same (as JSON) are checked once: the same request of the same caller in
    the same transaction gets the same answer, and a batch is often one job many times over."""
    limit = current_app.config["BATCH_MAX_JOBS"]
    if not 1 <= len(specs) <= limit:
        raise ValidationFailed("Invalid batch", {"jobs": [f"Between 1 and {limit} jobs."]})
    errors: dict[str, dict] = {}
    requests: list[JobRequest] = []
    checked: dict[str, JobRequest] = {}
    item_schema = JobCreateSchema()  # one instance for every item: building one costs more than a load
    for index, spec in enumerate(specs):
        same = json.dumps(spec, sort_keys=True, default=str)
        try:
            request = checked.get(same)
            if request is None:
                request = checked[same] = _validated(user_id, item_schema, spec)
            requests.append(request)
        except ValidationFailed as err:
            errors[str(index)] = err.details
        except ApiError as err:
            db.session.rollback()
            details = {str(index): err.details or {"payload": [err.message]}}
            raise type(err)(err.message, details, code=err.code) from None
    if not errors:
        errors = _repeated_singletons(requests)
    if errors:
        db.session.rollback()
        raise ValidationFailed("Invalid batch: no job was created", errors)
    return requests


def _validated(user_id: uuid.UUID, item_schema: JobCreateSchema, spec) -> JobRequest:
    try:
        item = item_schema.load(spec)
    except ValidationError as err:
        raise ValidationFailed("Invalid job request", err.messages) from None
    options = item.get("options")
    named = options if isinstance(options, dict) else {}
    refused = {name: [message] for name, message in REFUSED_OPTIONS.items() if name in named}
    if refused:
        raise ValidationFailed("Invalid job request", {"options": refused})
    return validate_job_request(user_id, item["type"], item.get("payload"), options)


def _repeated_singletons(requests: Sequence[JobRequest]) -> dict[str, dict]:
    first: dict[tuple[str, str], int] = {}
    errors: dict[str, dict] = {}
    for index, req in enumerate(requests):
        if req.singleton_key is None:
            continue
        key = (req.job_type.name, req.singleton_key)
        if key in first:
            message = f"Repeats the type and singletonKey of job {first[key]} of this batch."
            errors[str(index)] = {"options": {"singletonKey": [message]}}
        else:
            first[key] = index
    return errors


def _refuse_taken_singletons(requests: Sequence[JobRequest]) -> None:
    """409 when a queued or active job already holds the singletonKey of an item (one query)."""
    wanted = {(req.job_type.name, req.singleton_key): index for index, req in enumerate(requests) if req.singleton_key}
    if not wanted:
        return
    taken = db.session.execute(
        select(Job.id, Job.type, Job.singleton_key).where(
            tuple_(Job.type, Job.singleton_key).in_(list(wanted)), Job.status.in_(state.WAITING)
        )
    ).all()
    if taken:
        db.session.rollback()
        details = {
            str(wanted[(row.type, row.singleton_key)]): {
                "options": {"singletonKey": [f"Job {row.id} with this type and key is queued or active."]}
            }
            for row in taken
        }
        raise Conflict("A job with the same singletonKey is waiting", details, code="singleton_conflict")


def _insert_jobs(user_id: uuid.UUID, batch_id: uuid.UUID, requests: Sequence[JobRequest]) -> list[JobRow]:
    """Every job row in one INSERT ... SELECT FROM jsonb_to_recordset, the rows travelling as one
    JSON parameter (as pg-boss inserts) rather than as a dozen and more bind parameters each, which
    cost twice the time for a thousand jobs. Only what differs between the rows travels in it
    (their ids and times, mostly): a value every row shares is bound once. The rows are known
    before the INSERT (as a single job's are), so nothing is read back; they are returned in the
    request's order."""
    created = [jobs.new_job({**jobs.new_job_values(user_id, req), "batch_id": batch_id}) for req in requests]
    columns = dict(zip(JobRow._fields, zip(*created, strict=True), strict=True))  # each column's values, row by row
    shared = [name for name, values in columns.items() if name != "id" and values.count(values[0]) == len(values)]
    varying = tuple(name for name in columns if name not in shared)
    unset = tuple(name for name in shared if columns[name][0] is None)
    bound = tuple(name for name in shared if columns[name][0] is not None)
    parameters = {f"shared_{name}": columns[name][0] for name in bound}
    as_json = [[_json_value(value) for value in columns[name]] for name in varying]
    parameters["rows"] = json.dumps([dict(zip(varying, values, strict=True)) for values in zip(*as_json, strict=True)])
    db.session.execute(_insert_from_json(varying, bound, unset), parameters)
    return created


@functools.cache
def _insert_from_json(varying: tuple[str, ...], bound: tuple[str, ...], unset: tuple[str, ...]) -> TextClause:
    """The INSERT of jobs setting the `varying` columns from a JSON array of objects, typed as the
    table's columns (`jsonb_to_recordset`'s record definition), the `bound` ones from one bind
    parameter each (`:shared_<column>`) and the `unset` ones to NULL."""
    table = Job.__table__

    def sql_type(name: str) -> str:
        return jobs.column_sql_type(table.c[name])

    record = ", ".join(f"{name} {sql_type(name)}" for name in varying)
    values = [f"r.{name}" for name in varying] + [f"CAST(:shared_{name} AS {sql_type(name)})" for name in bound]
    values += [f"CAST(NULL AS {sql_type(name)})" for name in unset]
    statement = text(
        f"INSERT INTO jobs ({', '.join(varying + bound + unset)}) SELECT {', '.join(values)} "
        f"FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({record})"
    )
    return statement.bindparams(*(bindparam(f"shared_{name}", type_=table.c[name].type) for name in bound))


def _json_value(value):
    """A job's value as JSON carries it: ids and times as Postgres reads them, the rest as it is."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _stage_queued_notification(batch: Batch, created: Sequence[Job]) -> None:
    labels = ", ".join(sorted({get_job_type(job.type).label for job in created}))
    data = {
        "batchId": str(batch.id),
        "count": batch.count,
        "url": f"{current_app.config['PUBLIC_URL']}/jobs?batchId={batch.id}",
    }
    title = f"Batch of {batch.count} jobs queued"
    notifications.stage(batch.user_id, "job_queued", title, f"{batch.count} jobs have been queued ({labels})", data)


def _batch_for_key(user_id: uuid.UUID, key: str, fingerprint: str) -> Batch | None:
    row = jobs.idempotent_repeat(user_id, key, fingerprint)
    if row is None:
        return None
    if row.batch_id is None:  # the key created a single job: a different request
        raise Conflict("This Idempotency-Key was used with a different request", code="idempotency_key_reused")
    return db.session.get(Batch, row.batch_id)


def _race_winner(user_id: uuid.UUID, key: str | None, fingerprint: str | None, requests: Sequence[JobRequest]) -> Batch:
    """The commit lost a race: to the same request (its batch answers) or to a job that took a
    singletonKey meanwhile (409)."""
    if key:
        winner = _batch_for_key(user_id, key, fingerprint)
        if winner is not None:
            return winner
    if any(req.singleton_key for req in requests):
        _refuse_taken_singletons(requests)
    raise Conflict("The batch conflicted with a concurrent request; nothing was created", code="conflict")


def jobs_of(batch_id: uuid.UUID) -> list[Job]:
    """The batch's jobs in the order they were created (the request's)."""
    return list(db.session.scalars(select(Job).where(Job.batch_id == batch_id).order_by(Job.created_at, Job.id)))
