"""Operator commands: `flask --app app:create_app <group> <command>`.

jobs list [--status S] [--limit N]     jobs of every user, newest first
jobs retry ID / jobs cancel ID         the same transitions as the API (audited, as "cli")
jobs release                           hand every due queued job to the broker now
dead-letter list / dead-letter redrive [ID ...] [--all]
users create-admin EMAIL               prompts for the password
purge                                  retention now: expired notifications, old jobs
"""

from __future__ import annotations

import uuid

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from app.errors import ApiError
from app.extensions import db
from app.jobs import dead_letters, listing
from app.jobs import service as jobs
from app.jobs.sweeps import purge_old_jobs, release_due_jobs
from app.models import Job
from app.notifications.sweeps import purge_expired_notifications
from app.users.service import create_user

jobs_cli = AppGroup("jobs", help="List, retry, cancel and release jobs.")
dead_letter_cli = AppGroup("dead-letter", help="Inspect and redrive dead letters.")
users_cli = AppGroup("users", help="Manage accounts.")


def register_cli(app: Flask) -> None:
    for group in (jobs_cli, dead_letter_cli, users_cli):
        app.cli.add_command(group)
    app.cli.add_command(purge)


def _fail(message: str) -> None:
    raise click.ClickException(message)


@jobs_cli.command("list")
@click.option("--status", help="Comma-separated statuses, e.g. queued,active")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def list_jobs(status: str | None, limit: int) -> None:
    """Jobs of every user, newest first."""
    rows, total = listing.list_jobs(1, limit, None, status.split(",") if status else None)
    click.echo(f"{'id':36}  {'type':16}  {'status':9}  {'attempts':8}  created")
    for job in rows:
        attempts = f"{job.attempts}/{job.max_attempts}"
        click.echo(f"{job.id!s:36}  {job.type:16}  {job.status:9}  {attempts:8}  {job.created_at:%Y-%m-%d %H:%M:%S}")
    click.echo(f"{len(rows)} of {total}")


@jobs_cli.command("retry")
@click.argument("job_id", type=click.UUID)
def retry_job(job_id: uuid.UUID) -> None:
    """Queue a failed or cancelled job again."""
    try:
        job = jobs.retry_job(None, job_id, action="job.retried.cli")
    except ApiError as exc:
        _fail(exc.message)
    click.echo(f"job {job.id} is {job.status}")


@jobs_cli.command("cancel")
@click.argument("job_id", type=click.UUID)
def cancel_job(job_id: uuid.UUID) -> None:
    """Cancel a queued or running job."""
    job = db.session.get(Job, job_id)
    if job is None:
        _fail(f"job {job_id} not found")
    try:
        jobs.cancel_job(job.user_id, job_id, action="job.cancelled.cli")
    except ApiError as exc:
        _fail(exc.message)
    click.echo(f"job {job_id} cancelled")


@jobs_cli.command("release")
def release_jobs() -> None:
    """Hand every due queued job to the broker now (what beat does every few seconds)."""
    click.echo(f"released {release_due_jobs()} jobs")


@dead_letter_cli.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def list_dead_letters(limit: int) -> None:
    rows, total = dead_letters.list_dead_letters(1, limit)
    for letter in rows:
        click.echo(f"{letter.id}  job {letter.job_id}  {letter.job_type}  attempts={letter.attempts}  {letter.error}")
    click.echo(f"{len(rows)} of {total} waiting")


@dead_letter_cli.command("redrive")
@click.argument("ids", nargs=-1, type=click.UUID)
@click.option("--all", "redrive_all", is_flag=True, help="Redrive every dead letter not yet redriven.")
def redrive(ids: tuple[uuid.UUID, ...], redrive_all: bool) -> None:
    """Queue dead-lettered jobs again, with a progress bar."""
    if redrive_all:
        rows, _ = dead_letters.list_dead_letters(1, 100_000)
        ids = tuple(letter.id for letter in rows)
    if not ids:
        _fail("name dead-letter ids or use --all")
    failed = 0
    with click.progressbar(ids, label="Redriving", show_pos=True) as bar:
        for letter_id in bar:
            try:
                dead_letters.redrive(None, letter_id)
            except ApiError:
                failed += 1
    click.echo(f"redrove {len(ids) - failed}, skipped {failed}")


@users_cli.command("create-admin")
@click.argument("email")
@click.password_option()
@click.option("--name", default=None)
def create_admin(email: str, password: str, name: str | None) -> None:
    """Create an administrator account."""
    try:
        user = create_user(email, password, name, role="admin")
    except ApiError as exc:
        _fail(exc.message)
    click.echo(f"admin {user.email} created ({user.id})")


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Apply retention now: expired notifications and finished jobs past JOB_RETENTION_DAYS."""
    steps = (("notifications", purge_expired_notifications), ("jobs", purge_old_jobs))
    results = {}
    with click.progressbar(steps, label="Purging", item_show_func=lambda step: step[0] if step else "") as bar:
        for name, run in bar:
            results[name] = run()
    click.echo(f"deleted {results['notifications']} notifications, {results['jobs']} jobs")
