"""What a commit staged runs in order: its socket events are on Redis before any hand-off to a
worker runs, so nothing the worker announces can reach a client ahead of them."""

from __future__ import annotations

import uuid

import redis
from sqlalchemy import text

from app.extensions import db
from app.platform import realtime
from app.platform.unit_of_work import hand_off_on_commit, on_commit


def test_the_commits_socket_events_are_published_before_its_hand_offs_run(ctx):
    subscriber = redis.Redis.from_url(ctx.config["REDIS_URL"]).pubsub()
    subscriber.subscribe(realtime.CHANNEL)
    assert subscriber.get_message(timeout=2)["type"] == "subscribe"  # listening from here on
    room = realtime.user_room(uuid.uuid4())
    seen_at_hand_off: list = []
    try:
        db.session.execute(text("SELECT 1"))
        # Staged in the opposite order on purpose: the hand-off is staged first.
        hand_off_on_commit(lambda: seen_at_hand_off.append(subscriber.get_message(timeout=2)))
        on_commit(lambda: realtime.emit("notification", {"type": "job_queued"}, room))
        db.session.commit()
    finally:
        subscriber.close()
    assert len(seen_at_hand_off) == 1
    message = seen_at_hand_off[0]
    assert message is not None, "the hand-off ran before the commit's socket event was published"
    assert f'"{room}"' in message["data"].decode()


def test_a_rolled_back_transaction_runs_neither(ctx):
    ran: list[str] = []
    db.session.execute(text("SELECT 1"))
    on_commit(lambda: ran.append("announce"))
    hand_off_on_commit(lambda: ran.append("hand off"))
    db.session.rollback()
    db.session.execute(text("SELECT 1"))
    db.session.commit()
    assert ran == []
