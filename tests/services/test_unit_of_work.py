"""What a commit staged runs in order: its socket events are on Redis before any hand-off to a
worker runs, so nothing the worker announces can reach a client ahead of them."""

from __future__ import annotations

import uuid

import redis
from sqlalchemy import text

from app.extensions import db
from app.platform import realtime
from app.platform.unit_of_work import hand_off_on_commit, on_commit


def _ours_arrived(subscriber, room: str) -> bool:
    """Whether our event is among what the subscriber has received; the channel also carries the
    events of the session's other processes."""
    while (message := subscriber.get_message(timeout=1)) is not None:
        if message["type"] == "message" and f'"{room}"' in message["data"].decode():
            return True
    return False


def test_the_commits_socket_events_are_published_before_its_hand_offs_run(ctx):
    subscriber = redis.Redis.from_url(ctx.config["REDIS_URL"]).pubsub()
    subscriber.subscribe(realtime.CHANNEL)
    assert subscriber.get_message(timeout=2)["type"] == "subscribe"  # listening from here on
    room = realtime.user_room(uuid.uuid4())
    arrived_at_hand_off: list[bool] = []
    try:
        db.session.execute(text("SELECT 1"))
        # Staged in the opposite order on purpose: the hand-off is staged first.
        hand_off_on_commit(lambda: arrived_at_hand_off.append(_ours_arrived(subscriber, room)))
        on_commit(lambda: realtime.emit("notification", {"type": "job_queued"}, room))
        db.session.commit()
    finally:
        subscriber.close()
    assert arrived_at_hand_off == [True], "the hand-off ran before the commit's socket event was published"


def test_a_rolled_back_transaction_runs_neither(ctx):
    ran: list[str] = []
    db.session.execute(text("SELECT 1"))
    on_commit(lambda: ran.append("announce"))
    hand_off_on_commit(lambda: ran.append("hand off"))
    db.session.rollback()
    db.session.execute(text("SELECT 1"))
    db.session.commit()
    assert ran == []
