"""A job's broker message, built in-process for the commit's Redis pipeline, is the message kombu
would have written for the same task: same list, same envelope, same headers and body, for the
first message of its kind (built by Celery) and for the later ones (copied from it)."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import redis

from app.platform.celery_messages import task_message

# Differ per message by design: the task id (and what repeats it) and the delivery tag.
PER_MESSAGE = {"id", "root_id", "correlation_id", "delivery_tag"}


def _comparable(raw: bytes) -> dict:
    message = json.loads(raw)
    message["body"] = json.loads(base64.b64decode(message["body"]))
    for part in ("headers", "properties"):
        message[part] = {key: value for key, value in message[part].items() if key not in PER_MESSAGE}
    return message


@pytest.mark.parametrize("priority", [0, 4, 9])
def test_the_message_matches_what_celery_sends_for_the_same_task(ctx, priority):
    queue = f"celery-messages-test-{uuid.uuid4().hex[:8]}"  # a queue no worker consumes
    client = redis.Redis.from_url(ctx.config["REDIS_URL"])
    limits = {"time_limit": 150, "soft_time_limit": 120}
    try:
        for _ in ("first", "later"):
            args = [str(uuid.uuid4())]
            ctx.extensions["celery"].send_task("jobs.noop", args=args, queue=queue, priority=priority, **limits)
            key, ours = task_message("jobs.noop", args, queue, priority, **limits)
            assert client.type(key) == b"list", f"Celery wrote priority {priority} to another list than {key}"
            celerys = client.rpop(key)
            assert _comparable(ours.encode()) == _comparable(celerys)
            assert json.loads(ours)["headers"]["id"] != json.loads(celerys)["headers"]["id"]
    finally:
        client.delete(queue, *(f"{queue}:{step}" for step in range(1, 10)))
