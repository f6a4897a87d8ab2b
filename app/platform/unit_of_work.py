"""What a transaction staged runs once it commits, and is dropped if it rolls back.

Socket events, notifications to push and broker hand-offs report what Postgres holds, so they
may only go out after the commit that makes them true. Callers stage them with `on_commit()`
while the transaction is open; the session's own events run them after the commit (or drop them
when the transaction ends any other way), so no call site orders commit and push by hand.

The callbacks run while the committed transaction closes: they use what they captured, never the
session (a broker hand-off that fails records it on a connection of its own).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db
from app.platform import redis_writes

log = logging.getLogger(__name__)

STAGED = "staged_after_commit"  # the keys in `session.info`
HAND_OFFS = "hand_offs_after_commit"


def on_commit(callback: Callable[[], None]) -> None:
    """Run `callback()` once the current transaction of `db.session` commits; never if it rolls back."""
    db.session.info.setdefault(STAGED, []).append(callback)


def hand_off_on_commit(callback: Callable[[], None]) -> None:
    """`on_commit` for handing a job to a worker: run after every other staged callback, so that
    its broker message follows the commit's socket events in their Redis pipeline. The worker
    announces what it does next (job_started) at once, and a client must see this commit's
    announcements (job_queued) first."""
    db.session.info.setdefault(HAND_OFFS, []).append(callback)


def _run_each(callbacks) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one failed push must not stop the others; the database is the record
            log.exception("work staged for after the commit failed")


@event.listens_for(Session, "after_commit")
def _run_staged(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the transaction that holds the staged work is still open
    # The Redis writes of the whole commit leave in one round trip: socket events, then hand-offs.
    with redis_writes.collected():
        _run_each(session.info.pop(STAGED, ()))
        _run_each(session.info.pop(HAND_OFFS, ()))


@event.listens_for(Session, "after_transaction_end")
def _drop_unrun(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        # Rolled back or closed: what it staged never happened.
        session.info.pop(STAGED, None)
        session.info.pop(HAND_OFFS, None)
