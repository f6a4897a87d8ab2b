"""Operator commands: `flask --app app:create_app <command>`."""

from __future__ import annotations

import uuid

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.argument("email")
    @click.password_option()
    @click.option("--name", default=None)
    def create_admin(email: str, password: str, name: str | None) -> None:
        """Create an administrator account."""
        from app.services.users import create_user

        user = create_user(email, password, name, role="admin")
        click.echo(f"admin {user.email} created ({user.id})")

    @app.cli.command("retry-job")
    @click.argument("job_id", type=click.UUID)
    def retry_job(job_id: uuid.UUID) -> None:
        """Queue a failed or cancelled job again."""
        from app.services.jobs import retry_job as retry

        job = retry(None, job_id, action="job.retried.cli")
        click.echo(f"job {job.id} is {job.status}")

    @app.cli.command("release-jobs")
    def release_jobs() -> None:
        """Hand every due queued job to the broker now (what beat does every few seconds)."""
        from app.services.maintenance import release_due_jobs

        click.echo(f"released {release_due_jobs()} jobs")

    @app.cli.command("purge")
    def purge() -> None:
        """Delete expired notifications and finished jobs past their retention."""
        from app.services.maintenance import purge_expired_notifications, purge_old_jobs

        click.echo(f"deleted {purge_expired_notifications()} notifications, {purge_old_jobs()} jobs")
