"""The baseline of the pipeline benchmarks: plain Celery on the same Redis, with the same
delivery settings (JSON, late acks, prefetch 1) and a task that only counts itself."""

import os

import redis
from celery import Celery

app = Celery("raw", broker=os.environ["REDIS_URL"], backend=os.environ["REDIS_URL"])
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_default_queue="raw",
)
_counter = None


@app.task(name="raw.noop")
def noop() -> int:
    global _counter
    if _counter is None:
        _counter = redis.Redis.from_url(os.environ["REDIS_URL"])
    return _counter.incr("raw:done")
