"""Operators' figures of the last hours: finished jobs per minute by outcome, and run time per type.

Everything is aggregated by PostgreSQL (date_trunc, generate_series, percentile_cont) over the
finished jobs of the window, so an answer is a few grouped scans of the `completed_at` index
whatever the number of jobs; no job row is loaded into Python.
"""

from __future__ import annotations

from sqlalchemy import text

from app.extensions import db
from app.jobs.state import JobStatus

# The statuses the statements name, bound as parameters so the SQL says the same as JobStatus.
STATUSES = {status.value: status.value for status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)}

# Run time is grouped in 10-minute buckets: per minute, most buckets would hold one job or none.
RUN_TIME_BUCKET_SECONDS = 600

# One row per minute of the window (minutes without a finished job count zero), newest last.
PER_MINUTE = text(
    """
    WITH bounds AS (
        SELECT date_trunc('minute', now()) - make_interval(mins => :minutes - 1) AS first_minute,
               date_trunc('minute', now()) AS last_minute
    ),
    finished AS (
        SELECT date_trunc('minute', j.completed_at) AS minute, j.status
        FROM jobs j, bounds b
        WHERE j.completed_at >= b.first_minute AND j.status IN (:completed, :failed, :cancelled)
    )
    SELECT m.minute,
           count(f.status) FILTER (WHERE f.status = :completed) AS completed,
           count(f.status) FILTER (WHERE f.status = :failed) AS failed,
           count(f.status) FILTER (WHERE f.status = :cancelled) AS cancelled
    FROM bounds b
    CROSS JOIN LATERAL generate_series(b.first_minute, b.last_minute, interval '1 minute') AS m(minute)
    LEFT JOIN finished f ON f.minute = m.minute
    GROUP BY m.minute
    ORDER BY m.minute
    """
)

TOTALS = text(
    """
    SELECT count(*) FILTER (WHERE status = :completed) AS completed,
           count(*) FILTER (WHERE status = :failed) AS failed,
           count(*) FILTER (WHERE status = :cancelled) AS cancelled
    FROM jobs
    WHERE completed_at >= date_trunc('minute', now()) - make_interval(mins => :minutes - 1)
      AND status IN (:completed, :failed, :cancelled)
    """
)

# Run time (started to completed) of the jobs that completed in the window, per type.
RUN_TIME_BY_TYPE = text(
    """
    SELECT type, count(*) AS count, avg(seconds) AS avg, max(seconds) AS max,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95
    FROM (
        SELECT type, extract(epoch FROM completed_at - started_at) AS seconds
        FROM jobs
        WHERE status = :completed AND started_at IS NOT NULL
          AND completed_at >= date_trunc('minute', now()) - make_interval(mins => :minutes - 1)
    ) done
    GROUP BY type
    ORDER BY type
    """
)

# The same per bucket of RUN_TIME_BUCKET_SECONDS, only for buckets where the type completed jobs.
RUN_TIME_SERIES = text(
    """
    SELECT to_timestamp(floor(extract(epoch FROM completed_at) / :bucket) * :bucket) AS bucket,
           type, count(*) AS count,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at)) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at)) AS p95
    FROM jobs
    WHERE status = :completed AND started_at IS NOT NULL
      AND completed_at >= date_trunc('minute', now()) - make_interval(mins => :minutes - 1)
    GROUP BY 1, type
    ORDER BY 1, type
    """
)


def job_stats(hours: int) -> dict:
    """Figures of the last `hours` (the current minute included), every one computed in SQL;
    times are datetimes, formatted by the response schema."""
    window = {"minutes": hours * 60, **STATUSES}
    per_minute = [
        {"minute": minute, "completed": completed, "failed": failed, "cancelled": cancelled}
        for minute, completed, failed, cancelled in db.session.execute(PER_MINUTE, window)
    ]
    run_time = [
        {
            "type": type_,
            "count": count,
            "avgSeconds": _seconds(avg),
            "p50Seconds": _seconds(p50),
            "p95Seconds": _seconds(p95),
            "maxSeconds": _seconds(longest),
        }
        for type_, count, avg, longest, p50, p95 in db.session.execute(RUN_TIME_BY_TYPE, window)
    ]
    series = [
        {"bucket": bucket, "type": type_, "count": count, "p50Seconds": _seconds(p50), "p95Seconds": _seconds(p95)}
        for bucket, type_, count, p50, p95 in db.session.execute(
            RUN_TIME_SERIES, {**window, "bucket": RUN_TIME_BUCKET_SECONDS}
        )
    ]
    totals = dict(db.session.execute(TOTALS, window).mappings().one())
    db.session.rollback()  # a read: end the transaction instead of leaving it idle
    return {
        "hours": hours,
        "from": per_minute[0]["minute"],
        "to": per_minute[-1]["minute"],
        "totals": totals,
        "perMinute": per_minute,
        "runTimeBucketSeconds": RUN_TIME_BUCKET_SECONDS,
        "runTimeByType": run_time,
        "runTimeSeries": series,
    }


def _seconds(value) -> float | None:
    """Seconds from PostgreSQL (numeric or float) as a float to the millisecond, or None."""
    return None if value is None else round(float(value), 3)
