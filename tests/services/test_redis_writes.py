"""A commit's Redis writes: consecutive broker messages onto one list travel as one LPUSH, and the
list holds them as separate LPUSHes would have left it, in the order a worker takes them."""

from __future__ import annotations

import uuid

import redis

from app.platform import redis_writes
from app.platform.redis_writes import Write


def test_consecutive_pushes_onto_one_list_are_one_command_in_their_order():
    first, second = "jobs", "jobs\x06\x163"
    writes = [
        Write("publish", "room", "event 1"),
        Write("lpush", first, "m1"),
        Write("lpush", first, "m2"),
        Write("lpush", second, "m3"),
        Write("lpush", first, "m4"),
        Write("publish", "room", "event 2"),
        Write("lpush", first, "m5"),
    ]
    assert redis_writes.commands(writes) == [
        ["PUBLISH", "room", "event 1"],
        ["LPUSH", first, "m1", "m2"],
        ["LPUSH", second, "m3"],
        ["LPUSH", first, "m4"],
        ["PUBLISH", "room", "event 2"],
        ["LPUSH", first, "m5"],
    ]


def test_a_worker_takes_merged_messages_in_the_order_they_were_written(ctx):
    key = f"redis-writes-test-{uuid.uuid4()}"
    sent: list[str] = []
    writes = [Write("lpush", key, f"message {n}", on_sent=lambda n=n: sent.append(n)) for n in range(5)]
    assert redis_writes.send(writes)
    client = redis.Redis.from_url(ctx.config["REDIS_URL"], socket_timeout=10, decode_responses=True)
    try:
        taken = [client.brpop([key], timeout=1)[1] for _ in range(5)]  # as kombu's consumer takes them
    finally:
        client.delete(key)
    assert taken == [f"message {n}" for n in range(5)]
    assert sent == list(range(5))  # every write that went through is told so
