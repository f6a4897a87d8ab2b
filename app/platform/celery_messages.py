"""Celery task messages for the Redis transport, built in this process, so that a job's hand-off
rides in the Redis pipeline of the commit that created it (app.platform.redis_writes) instead
of costing a publish of its own through kombu (a client, a connection from the pool and a round
trip per message).

Celery builds the message itself (`app.amqp.create_task_message`: protocol 2's headers, body
and properties, exactly as `send_task` passes them). Written here is only the envelope that
kombu's Redis transport LPUSHes (`Channel.prepare_message`, then `basic_publish` on the default
exchange): the body JSON-encoded and base64'd, the delivery info, a delivery tag, and the list
of the message's priority (`queue` for 0, `queue:N` otherwise, with the `sep` and
`priority_steps` of celeryconfig's transport options). tests/services/test_celery_messages.py
compares it with what kombu writes for the same task.
"""

from __future__ import annotations

import base64
import uuid
from bisect import bisect

from flask import current_app
from kombu.utils.json import dumps

DELIVERY_MODE_PERSISTENT = 2  # kombu's default for a durable exchange


def task_message(name: str, args: list, queue: str, priority: int, **limits) -> tuple[str, str]:
    """(Redis list key, serialised message) of one task on `queue` at `priority` (0..9, 0 first).
    `limits`: `time_limit` and `soft_time_limit`, in seconds."""
    celery = current_app.extensions["celery"]
    task_id = str(uuid.uuid4())
    headers, properties, body, _sent_event = celery.amqp.create_task_message(
        task_id,
        name,
        args,
        {},
        reply_to=celery.thread_oid,
        create_sent_event=False,
        ignore_result=None,  # as send_task leaves it: the task's own setting (celeryconfig ignores results)
        time_limit=limits.get("time_limit"),
        soft_time_limit=limits.get("soft_time_limit"),
    )
    options = celery.conf.broker_transport_options
    step = _priority_step(priority, options.get("priority_steps", [0, 3, 6, 9]))
    message = {
        "body": base64.b64encode(dumps(body).encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {
            **properties,
            "delivery_mode": DELIVERY_MODE_PERSISTENT,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": priority,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    key = f"{queue}{options.get('sep', chr(6) + chr(22))}{step}" if step else queue
    return key, dumps(message)


def _priority_step(priority: int, steps: list[int]) -> int:
    """The step whose list holds a message of this priority (kombu's `Channel.priority`)."""
    return steps[bisect(steps, priority) - 1]
