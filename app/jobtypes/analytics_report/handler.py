"""The analytics-report job: a user's (or, for admins, everyone's) job history as figures.

Every figure is an SQL aggregate over the `jobs` table (counts, averages, percentiles), so the
report costs a handful of grouped scans whatever the number of jobs; no job row is loaded.
The job producing the report is left out of its own figures.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import distinct, func, select

from app.extensions import db
from app.files.artifacts import describe, write_artifact
from app.jobs.errors import JobError
from app.jobs.state import JobStatus
from app.models import Job, User

TOP_FAILURES = 10
# Failure messages are grouped on their first characters: long tracebacks of one cause group.
ERROR_PREFIX_CHARS = 500
NO_MESSAGE = "(no error message)"
STEPS = 5


def run(ctx) -> dict:
    """The registered handler: the report over the payload's window."""
    return run_report(ctx, days=int(ctx.payload.get("days", 30)), all_users=bool(ctx.payload.get("allUsers", False)))


def run_report(ctx, days: int, all_users: bool) -> dict:
    if all_users:
        user = db.session.get(User, ctx.user_id)
        if user is None or user.role != "admin":  # the role may have changed since creation
            raise JobError("Only administrators can report on every user's jobs", retryable=False)
    scope = _scope(ctx.user_id, ctx.job_id, days, all_users)

    ctx.progress(1, STEPS, "Counting jobs by type and status...")
    counts = _counts_by_type_and_status(scope)
    ctx.progress(2, STEPS, "Measuring durations...")
    durations = _durations_by_type(scope)
    ctx.progress(3, STEPS, "Grouping failures...")
    failures = _top_failures(scope)
    ctx.progress(4, STEPS, "Counting jobs per day...")
    per_day = _per_day(scope)
    users = db.session.scalar(select(func.count(distinct(Job.user_id))).where(*scope)) if all_users else None
    db.session.rollback()  # end the read; the artifacts' rows join a fresh transaction

    now = datetime.now(UTC)
    by_status: dict[str, int] = {}
    by_type: dict[str, dict] = {}
    for type_, status, count in counts:
        by_status[status] = by_status.get(status, 0) + count
        entry = by_type.setdefault(type_, {"total": 0, "byStatus": {}})
        entry["total"] += count
        entry["byStatus"][status] = count
    total = sum(by_status.values())
    report = {
        "generatedAt": now.isoformat(),
        "from": (now - timedelta(days=days)).isoformat(),
        "to": now.isoformat(),
        "days": days,
        "allUsers": all_users,
        "excludes": "the job that produced this report",
        "totalJobs": total,
        "byStatus": by_status,
        "byType": by_type,
        "durations": durations,
        "topFailures": failures,
        "perDay": per_day,
    }
    if users is not None:
        report["users"] = users

    ctx.progress(5, STEPS, "Writing the report...")
    stamp = f"{now:%Y%m%d-%H%M%S}"
    with _report_artifact(ctx, f"job-report-{stamp}.json", "application/json") as json_file:
        json_file.write(json.dumps(report, indent=2, ensure_ascii=False).encode("utf-8") + b"\n")
    with _report_artifact(ctx, f"job-report-{stamp}-per-day.csv", "text/csv") as csv_file:
        csv_file.write(_per_day_csv(per_day).encode("utf-8"))
    return {
        "totalJobs": total,
        "days": days,
        "allUsers": all_users,
        "byStatus": by_status,
        "artifacts": [describe(json_file.artifact), describe(csv_file.artifact)],
    }


def _scope(user_id: uuid.UUID, report_job_id: uuid.UUID, days: int, all_users: bool) -> list:
    conditions = [Job.created_at >= func.now() - timedelta(days=days), Job.id != report_job_id]
    if not all_users:
        conditions.append(Job.user_id == user_id)
    return conditions


def _counts_by_type_and_status(scope: list) -> list[tuple[str, str, int]]:
    query = select(Job.type, Job.status, func.count()).where(*scope).group_by(Job.type, Job.status)
    return [tuple(row) for row in db.session.execute(query.order_by(Job.type, Job.status))]


def _durations_by_type(scope: list) -> dict[str, dict]:
    """Run time (started to completed) of completed jobs: count, average, median, p95, max."""
    seconds = func.extract("epoch", Job.completed_at - Job.started_at)
    query = (
        select(
            Job.type,
            func.count(),
            func.avg(seconds),
            func.percentile_cont(0.5).within_group(seconds),
            func.percentile_cont(0.95).within_group(seconds),
            func.max(seconds),
        )
        .where(*scope, Job.status == JobStatus.COMPLETED, Job.started_at.is_not(None), Job.completed_at.is_not(None))
        .group_by(Job.type)
        .order_by(Job.type)
    )
    return {
        type_: {
            "count": count,
            "avgSeconds": _seconds(avg),
            "p50Seconds": _seconds(p50),
            "p95Seconds": _seconds(p95),
            "maxSeconds": _seconds(longest),
        }
        for type_, count, avg, p50, p95, longest in db.session.execute(query)
    }


def _top_failures(scope: list) -> list[dict]:
    message = func.coalesce(func.left(Job.error, ERROR_PREFIX_CHARS), NO_MESSAGE)
    count = func.count()
    query = (
        select(message, count, func.array_agg(distinct(Job.type)), func.max(Job.completed_at))
        .where(*scope, Job.status == JobStatus.FAILED)
        .group_by(message)
        .order_by(count.desc(), message)
        .limit(TOP_FAILURES)
    )
    return [
        {"error": error, "count": n, "types": sorted(types), "lastSeen": last.isoformat() if last else None}
        for error, n, types, last in db.session.execute(query)
    ]


def _per_day(scope: list) -> list[dict]:
    day = func.date(func.timezone("UTC", Job.created_at))  # calendar days in UTC
    query = (
        select(day, Job.type, Job.status, func.count())
        .where(*scope)
        .group_by(day, Job.type, Job.status)
        .order_by(day, Job.type, Job.status)
    )
    return [
        {"date": date.isoformat(), "type": type_, "status": status, "count": count}
        for date, type_, status, count in db.session.execute(query)
    ]


def _per_day_csv(per_day: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", "type", "status", "count"])
    for row in per_day:
        writer.writerow([row["date"], row["type"], row["status"], row["count"]])
    return buffer.getvalue()


def _report_artifact(ctx, filename: str, content_type: str):
    return write_artifact(
        user_id=ctx.user_id, job_id=ctx.job_id, kind="report", filename=filename, content_type=content_type
    )


def _seconds(value) -> float | None:
    return None if value is None else round(float(value), 3)
