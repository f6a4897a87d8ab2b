"""The one place where job types are registered.

Each type lives in its own folder of `app/jobtypes/`: a payload schema with its access checks and
result wording (`payload.py`) and the handler that does the work (`handler.py`). The registry pairs
them with retry defaults (DESIGN.md's JOB_RETRY_CONFIG); the handler is named by its dotted path
and imported by the worker that runs it, so the web never loads what only workers need.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from marshmallow import Schema

from app.jobtypes.analytics_report import payload as analytics_report
from app.jobtypes.backup_connection import payload as backup_connection
from app.jobtypes.bulk_import import payload as bulk_import
from app.jobtypes.data_export import payload as data_export
from app.jobtypes.noop import payload as noop
from app.jobtypes.schema_rebuild import payload as schema_rebuild
from app.jobtypes.test_probe import payload as test_probe


@dataclass(frozen=True)
class JobType:
    name: str
    label: str
    payload_schema: type[Schema]
    handler: str
    retry_limit: int
    retry_delay: int
    retry_backoff: bool
    expire_in_seconds: int
    describe_result: Callable[[dict], str] | None = None
    # Checks beyond the payload's shape that need the caller (e.g. admin-only options); raises an ApiError.
    check_access: Callable[[uuid.UUID, dict], None] | None = None
    test_only: bool = False


JOB_TYPES: dict[str, JobType] = {
    job_type.name: job_type
    for job_type in (
        JobType(
            name="schema-rebuild",
            label="Schema rebuild",
            payload_schema=schema_rebuild.SchemaRebuildPayload,
            handler="app.jobtypes.schema_rebuild.handler:run",
            retry_limit=3,
            retry_delay=60,
            retry_backoff=True,
            expire_in_seconds=24 * 3600,
            describe_result=schema_rebuild.describe_result,
        ),
        JobType(
            name="data-export",
            label="Data export",
            payload_schema=data_export.DataExportPayload,
            handler="app.jobtypes.data_export.handler:run",
            retry_limit=2,
            retry_delay=30,
            retry_backoff=True,
            expire_in_seconds=12 * 3600,
            describe_result=data_export.describe_result,
            check_access=data_export.check_access,
        ),
        JobType(
            name="bulk-import",
            label="Bulk import",
            payload_schema=bulk_import.BulkImportPayload,
            handler="app.jobtypes.bulk_import.handler:run",
            retry_limit=2,
            retry_delay=30,
            retry_backoff=True,
            expire_in_seconds=12 * 3600,
            describe_result=bulk_import.describe_result,
            check_access=bulk_import.check_access,
        ),
        JobType(
            name="backup-connection",
            label="Connection backup",
            payload_schema=backup_connection.BackupConnectionPayload,
            handler="app.jobtypes.backup_connection.handler:run",
            retry_limit=3,
            retry_delay=60,
            retry_backoff=True,
            expire_in_seconds=24 * 3600,
            describe_result=backup_connection.describe_result,
            check_access=backup_connection.check_tables_exist,
        ),
        JobType(
            name="analytics-report",
            label="Analytics report",
            payload_schema=analytics_report.AnalyticsReportPayload,
            handler="app.jobtypes.analytics_report.handler:run",
            retry_limit=2,
            retry_delay=30,
            retry_backoff=True,
            expire_in_seconds=3600,
            describe_result=analytics_report.describe_result,
            check_access=analytics_report.check_access,
        ),
        JobType(
            name="noop",
            label="No-op",
            payload_schema=noop.NoopPayload,
            handler="app.jobtypes.noop.handler:run",
            retry_limit=0,
            retry_delay=0,
            retry_backoff=False,
            expire_in_seconds=120,
        ),
        JobType(
            name="test-probe",
            label="Test probe",
            payload_schema=test_probe.TestProbePayload,
            handler="app.jobtypes.test_probe.handler:run",
            retry_limit=2,
            retry_delay=1,
            retry_backoff=True,
            expire_in_seconds=3600,
            test_only=True,
        ),
    )
}


def enabled_types() -> dict[str, JobType]:
    """The types this deployment accepts."""
    allow_test = current_app.config.get("ENABLE_TEST_JOB_TYPES", False)
    return {name: jt for name, jt in JOB_TYPES.items() if allow_test or not jt.test_only}


def get_job_type(name: str) -> JobType:
    """Look up a type by name (the worker runs whatever was accepted, even if disabled since)."""
    return JOB_TYPES[name]
