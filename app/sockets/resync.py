"""Catching subscribers up after the socket relay lost Redis for a while.

Events published while this web process was not subscribed never reach it. Once it listens
again, it reads the current state of every job its sockets follow from Postgres (the record) and
sends it to those sockets only: a job that finished during the gap shows as finished."""

from __future__ import annotations

import logging
import uuid

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.jobs import announcements as events
from app.models import Job
from app.platform.realtime import job_room
from app.sockets.rooms import local_job_rooms

log = logging.getLogger(__name__)

BATCH = 500


def resync_job_rooms(app: Flask, manager) -> int:
    """Send each followed job's current state to its local room; returns how many jobs."""
    ids = []
    for room in local_job_rooms(manager):
        try:
            ids.append(uuid.UUID(room.removeprefix("job:")))
        except ValueError:
            continue
    sent = 0
    try:
        with app.app_context():
            for start in range(0, len(ids), BATCH):
                for job in db.session.scalars(select(Job).where(Job.id.in_(ids[start : start + BATCH]))):
                    for event, data in events.current_state(job):
                        # ignore_queue: to this process's sockets only; every process resyncs its own.
                        manager.emit(event, data, namespace="/", room=job_room(job.id), ignore_queue=True)
                    sent += 1
    except Exception as exc:  # the database may be down too: the clients poll or reconnect later
        log.warning("socket resync after the relay gap failed: %s", type(exc).__name__)
    log.info("socket relay resubscribed; %d followed jobs sent their current state", sent)
    return sent
