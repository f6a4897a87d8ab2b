"""Schedules run in the beat process itself (see app/schedules/ticker.py for why), not as a
periodic task: this starts their loop when beat starts."""

from __future__ import annotations

from celery.signals import beat_init

from app.schedules import ticker
from workers.celery_app import flask_app


@beat_init.connect
def _start_schedule_ticker(**_):
    ticker.start(flask_app)
