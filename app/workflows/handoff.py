"""Work that may happen only once the transaction that made it true has committed: sending a
released job to the broker, pushing the announcements of the jobs a cascade cancelled.

A function adds a callback to the current session with `after_commit()`; the session runs it
right after its next commit, or forgets it on rollback (warehouse's tasks-after-commit pattern).
Callbacks must not use the session (it is between transactions then): they get plain values.
A process that dies between the commit and the callbacks loses only the hand-off, which the
sweeps (`app.workflows.sweep`, the stale-enqueue sweep) make up for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

PENDING = "workflows.after_commit"


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` after the current transaction commits; never if it rolls back."""
    _install()
    db.session.info.setdefault(PENDING, []).append(callback)


def _run_pending(session: Session) -> None:
    for callback in session.info.pop(PENDING, []):
        try:
            callback()
        except Exception:  # the commit stands; a lost hand-off is the sweeps' to repair
            log.exception("after-commit hand-off failed")


def _discard_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


def _install() -> None:
    """Listen once per process, on first use (nothing is registered at import time)."""
    if not event.contains(Session, "after_commit", _run_pending):
        event.listen(Session, "after_commit", _run_pending)
        event.listen(Session, "after_rollback", _discard_pending)
