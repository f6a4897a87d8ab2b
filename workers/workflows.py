"""Beat's dependency sweep: a thin wrapper around app.workflows.sweep."""

from __future__ import annotations

from celery import shared_task

from app.workflows import sweep


@shared_task(name="maintenance.sweep_dependencies", ignore_result=True)
def sweep_dependencies() -> int:
    return sweep.sweep_dependencies()
