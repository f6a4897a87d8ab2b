"""What a commit staged runs after it, in order: its socket events reach Redis before its broker
messages, so nothing a worker announces can reach a client ahead of them; a rollback runs none."""

from __future__ import annotations

import uuid

import redis
from sqlalchemy import text

from app.extensions import db
from app.platform import realtime, redis_writes
from app.platform.unit_of_work import hand_off_on_commit, on_commit


def test_the_commits_socket_events_reach_redis_before_its_broker_messages(ctx):
    """Staged in the opposite order on purpose: the hand-off first. Redis's MONITOR shows the
    order in which the commands arrived (the session's other processes write there too)."""
    room, queue_key = realtime.user_room(uuid.uuid4()), f"unit-of-work-test-{uuid.uuid4()}"
    client = redis.Redis.from_url(ctx.config["REDIS_URL"], socket_timeout=10)
    arrived: list[str] = []
    with client.monitor() as monitor:
        db.session.execute(text("SELECT 1"))
        hand_off_on_commit(lambda: redis_writes.add(redis_writes.Write("lpush", queue_key, "a broker message")))
        on_commit(lambda: realtime.emit("notification", {"type": "job_queued"}, room))
        db.session.commit()
        while len(arrived) < 2:
            command = monitor.next_command()["command"]
            if queue_key in command:
                arrived.append("broker message")
            elif room in command:
                arrived.append("socket event")
    client.delete(queue_key)
    assert arrived == ["socket event", "broker message"]


def test_a_rolled_back_transaction_runs_neither(ctx):
    ran: list[str] = []
    db.session.execute(text("SELECT 1"))
    on_commit(lambda: ran.append("announce"))
    hand_off_on_commit(lambda: ran.append("hand off"))
    db.session.rollback()
    db.session.execute(text("SELECT 1"))
    db.session.commit()
    assert ran == []
