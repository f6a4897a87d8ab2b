"""/metrics: counters and histograms every process wrote to Redis, plus gauges read now from
Postgres and Redis, rendered with prometheus_client."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import func, select

from app.extensions import db
from app.jobs.announcements import DURATION_BUCKETS
from app.jobs.registry import enabled_types
from app.jobs.state import WAITING
from app.models import Job, Notification
from app.platform.metrics import PREFIX
from app.platform.redis_client import get_redis
from app.sockets.presence import connected_clients

COUNTERS = {
    "jobs_created_total": "Jobs created",
    "jobs_completed_total": "Jobs completed",
    "jobs_failed_total": "Jobs failed for good",
    "notifications_sent_total": "Notifications delivered, by channel and type",
    "notifications_failed_total": "Notifications that could not be delivered, by channel",
    "notifications_read_total": "Notifications marked read",
    "websocket_messages_sent_total": "Socket.IO events published, by event",
    "websocket_errors_total": "Socket.IO handler errors",
}
HISTOGRAMS = {
    "job_duration_seconds": "Time from start to end of a job's final attempt",
    "notification_delivery_duration_seconds": "Time to deliver a notification to its channels",
}
# Labelled by job type: every enabled type gets a series from the start (zero until it moves), so
# dashboards and alerts never meet a missing metric. Bucket bounds of the one histogram among them.
BY_JOB_TYPE = {"jobs_created_total", "jobs_completed_total", "jobs_failed_total", "job_duration_seconds"}
KNOWN_BUCKETS = {"job_duration_seconds": DURATION_BUCKETS}
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def _labels(field: str) -> dict:
    return dict(_LABEL.findall(field))


class SharedCollector:
    def __init__(self, redis, job_types: list[str]):
        self.redis = redis
        self.job_types = job_types

    def collect(self):
        for name, doc in COUNTERS.items():
            values = self._with_known_series(name, self.redis.hgetall(PREFIX + name), 0)
            keys = sorted({k for field in values for k in _labels(field)})
            family = CounterMetricFamily(name.removesuffix("_total"), doc, labels=keys)
            for field, value in values.items():
                labels = _labels(field)
                family.add_metric([labels.get(k, "") for k in keys], float(value))
            yield family
        for name, doc in HISTOGRAMS.items():
            yield self._histogram(name, doc)
        yield from _gauges(self.redis)

    def _with_known_series(self, name: str, values: dict, zero) -> dict:
        """`values` (Redis hash fields -> value) plus a zero for every job type it lacks."""
        if name not in BY_JOB_TYPE:
            return values
        seen = {_labels(field).get("type") for field in values}
        missing = {f'type="{job_type}"': zero for job_type in self.job_types if job_type not in seen}
        return {**values, **missing}

    def _histogram(self, name: str, doc: str):
        buckets = self.redis.hgetall(PREFIX + name + "_bucket")
        sums = self._with_known_series(name, self.redis.hgetall(PREFIX + name + "_sum"), 0)
        counts = self.redis.hgetall(PREFIX + name + "_count")
        keys = sorted({k for field in sums for k in _labels(field)})
        family = HistogramMetricFamily(name, doc, labels=keys)
        for field, total in sums.items():
            base = _labels(field)
            series = sorted(_buckets_of(buckets, base), key=lambda item: _bound(item[0]))
            if not series:
                series = [(repr(bound), 0.0) for bound in KNOWN_BUCKETS.get(name, ())]
            if not series or series[-1][0] != "+Inf":
                series.append(("+Inf", float(counts.get(field, 0))))
            family.add_metric([base.get(k, "") for k in keys], series, float(total))
        return family


def _bound(le: str) -> float:
    return float("inf") if le == "+Inf" else float(le)


def _buckets_of(buckets: dict, base: dict) -> list[tuple[str, float]]:
    """The (le, count) pairs of one labelled series."""
    pairs = []
    for field, value in buckets.items():
        labels = _labels(field)
        le = labels.pop("le", None)
        if le is not None and labels == base:
            pairs.append((le, float(value)))
    return pairs


def _gauges(redis):
    in_queue = GaugeMetricFamily(
        "jobs_in_queue", "Jobs waiting or running, by type and status", labels=["type", "status"]
    )
    for job_type, status, count in db.session.execute(
        select(Job.type, Job.status, func.count()).where(Job.status.in_(WAITING)).group_by(Job.type, Job.status)
    ):
        in_queue.add_metric([job_type, status], count)
    yield in_queue
    total, read = db.session.execute(
        select(func.count(), func.count().filter(Notification.read.is_(True))).select_from(Notification)
    ).one()
    yield GaugeMetricFamily(
        "notifications_read_rate", "Share of stored notifications that are read", value=(read / total) if total else 0.0
    )

    yield GaugeMetricFamily(
        "websocket_connections_total", "Sockets connected to all web processes", value=connected_clients(redis)
    )


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SharedCollector(get_redis(), sorted(enabled_types())))
    return generate_latest(registry)
