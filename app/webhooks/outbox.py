"""The seam between what happens and who hears of it: delivery rows staged in the transaction
that records an event, handed to the `webhooks` queue only after that transaction commits.

    outbox.stage(job.user_id, "job.completed", {"job": serialize_job(job)})
    db.session.commit()  # the unit of work hands the deliveries over now; a rollback drops both

`stage` is one INSERT ... SELECT over the user's enabled endpoints subscribed to the event (or to
"*"), whatever the number of endpoints, none of them read into Python; `part` is that INSERT as
a part of the statement that records the event's other writes (`app.platform.one_statement`),
so a job's transition pays no round trip of its own for its webhooks. The hand-off is staged
with `app.platform.unit_of_work`, like every push that reports what Postgres holds. A row whose
hand-off fails stays `pending` and the sweep sends it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy import text, update

from app.extensions import db
from app.platform import one_statement
from app.platform.celery_app import one_producer, send_task
from app.platform.one_statement import Fragment, Part
from app.platform.redaction import redact
from app.platform.unit_of_work import on_commit
from app.webhooks.events import ANY_EVENT
from app.webhooks.models import WebhookDelivery

log = logging.getLogger(__name__)

QUEUE = "webhooks"
DELIVER_TASK = "webhooks.deliver"

_DELIVERIES = Fragment(
    """
    webhook_deliveries_added AS (
        INSERT INTO webhook_deliveries
            (id, endpoint_id, user_id, event_type, body, status, attempts, next_attempt_at, enqueued_at, created_at)
        SELECT gen_random_uuid(), e.id, e.user_id, :webhook_event_type, :webhook_body, 'pending', 0,
               now(), now(), now()
        FROM webhook_endpoints e
        WHERE e.user_id = :user_id AND e.enabled
          AND e.events && ARRAY[:webhook_event_type, :webhook_any_event]::varchar[]
        RETURNING id
    )""",
    "ARRAY(SELECT id FROM webhook_deliveries_added) AS webhook_delivery_ids",
)

_SUBSCRIBED = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM webhook_endpoints e
        WHERE e.user_id = :user_id AND e.enabled AND e.events && ARRAY[:event_type, :any]::varchar[]
    )
    """
)

# `_STAGE` for many events of one type at once (a batch's `job.queued`): one body per event.
_STAGE_MANY = text(
    """
    INSERT INTO webhook_deliveries
        (id, endpoint_id, user_id, event_type, body, status, attempts, next_attempt_at, enqueued_at, created_at)
    SELECT gen_random_uuid(), e.id, e.user_id, :event_type, b.body, 'pending', 0, now(), now(), now()
    FROM webhook_endpoints e CROSS JOIN unnest(CAST(:bodies AS text[])) WITH ORDINALITY AS b(body, position)
    WHERE e.user_id = :user_id AND e.enabled AND e.events && ARRAY[:event_type, :any]::varchar[]
    ORDER BY b.position, e.id
    RETURNING id
    """
)


def body(event_type: str, data: dict, at: datetime | None = None) -> str:
    """The JSON sent for an event: `{type, timestamp, data}`, secret-named fields redacted."""
    document = {"type": event_type, "timestamp": (at or datetime.now(UTC)).isoformat(), "data": redact(data)}
    return json.dumps(document, separators=(",", ":"), default=str)


def part(user_id: uuid.UUID, event_type: str, data: dict, *, hand_off: bool = True) -> Part:
    """The deliveries of an event for each of the user's endpoints that wants it, as a part of
    the statement that records the event (not committed). Once run, their hand-off is staged:
    sent once the transaction commits, dropped with the rows if it rolls back (not with
    `hand_off=False`). The part answers with their ids."""
    params = {
        "user_id": user_id,
        "webhook_event_type": event_type,
        "webhook_body": body(event_type, data),
        "webhook_any_event": ANY_EVENT,
    }

    def receive(row) -> list[uuid.UUID]:
        delivery_ids = list(row.webhook_delivery_ids)
        if hand_off:
            send_after_commit(delivery_ids)
        return delivery_ids

    return Part(_DELIVERIES, params, receive)


def record(user_id: uuid.UUID, event_type: str, data: dict) -> list[uuid.UUID]:
    """Add a delivery for each of the user's endpoints that wants this event to the current
    transaction (not committed), without handing them over; returns their ids."""
    [delivery_ids] = one_statement.run(part(user_id, event_type, data, hand_off=False))
    return delivery_ids


def stage(user_id: uuid.UUID, event_type: str, data: dict) -> list[uuid.UUID]:
    """Record the deliveries of an event in the current transaction and stage their hand-off:
    `part`, alone in its statement. Returns their ids."""
    [delivery_ids] = one_statement.run(part(user_id, event_type, data))
    return delivery_ids


def stage_many(user_id: uuid.UUID, event_type: str, events: Callable[[], Iterable[dict]]) -> list[uuid.UUID]:
    """`stage` for many events of one type and user: one INSERT whatever their number, after one
    look whether any endpoint of the user wants the event at all. `events()` gives their data."""
    params = {"user_id": user_id, "event_type": event_type, "any": ANY_EVENT}
    with db.session.no_autoflush:  # as in `app.platform.one_statement.run`
        # The data and bodies of a thousand events cost more than this look: built only when wanted.
        if not db.session.scalar(_SUBSCRIBED, params):
            return []
        at = datetime.now(UTC)
        params["bodies"] = [body(event_type, data, at) for data in events()]
        if not params["bodies"]:
            return []
        delivery_ids = list(db.session.scalars(_STAGE_MANY, params))
    send_after_commit(delivery_ids)
    return delivery_ids


def send_after_commit(delivery_ids: list[uuid.UUID], countdown: float | None = None) -> None:
    """Stage the hand-off of deliveries the open transaction writes or makes due again."""
    if delivery_ids:
        ids = list(delivery_ids)
        on_commit(lambda: send(ids, countdown))


def send(delivery_ids: list[uuid.UUID], countdown: float | None = None) -> None:
    """One task per committed delivery on the `webhooks` queue. Never raises, and leaves the
    session alone (it runs after a commit): a delivery the broker did not take is marked for
    the sweep on a connection of its own."""
    if not delivery_ids:
        return
    try:
        with one_producer() as producer:  # one broker connection for them all
            for delivery_id in delivery_ids:
                send_task(DELIVER_TASK, [str(delivery_id)], queue=QUEUE, countdown=countdown, producer=producer)
    except Exception as exc:
        log.warning(
            "%d webhook deliveries not queued now (%s); the sweep will send them", len(delivery_ids), type(exc).__name__
        )
        _leave_to_sweep(delivery_ids)


def _leave_to_sweep(delivery_ids: list[uuid.UUID]) -> None:
    statement = (
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.status == "pending")
        .values(enqueued_at=None)
    )
    try:
        with db.engine.begin() as connection:
            connection.execute(statement)
    except Exception:  # the database is down too: the sweep still finds them once stale
        pass
