"""Seams in a job's life that domains built on jobs follow (workflows: dependencies released,
cancelled down the chain, revived), without the job core importing those domains.

The transitions in `state.py` call `notify()` inside their own transaction with the rows they
changed; a listener adds its statements to that same transaction and stages what it pushes with
the unit of work, so the caller's one commit makes all of it true at once. Domains register their
listeners while the app is built (`app.create_app`); the registry is the same in every process.

- `COMPLETED`: jobs that completed.
- `ENDED`: jobs that failed for good or were cancelled.
- `RETRIED`: failed or cancelled jobs queued again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from app.models import Job

Listener = Callable[[Sequence[Job]], None]


class Seam(StrEnum):
    COMPLETED = "completed"
    ENDED = "ended"
    RETRIED = "retried"


_listeners: dict[Seam, list[Listener]] = {seam: [] for seam in Seam}


def listen(seam: Seam, listener: Listener) -> None:
    """Call `listener(jobs)` at every `seam` from now on (once, however often it is registered)."""
    if listener not in _listeners[seam]:
        _listeners[seam].append(listener)


def notify(seam: Seam, jobs: Sequence[Job]) -> None:
    """From a transition, inside its transaction: hand the changed rows to the listeners."""
    if not jobs:
        return
    for listener in _listeners[seam]:
        listener(jobs)
