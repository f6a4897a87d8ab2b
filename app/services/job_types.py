"""The one place where job types are registered.

Each type is a payload schema, retry defaults (DESIGN.md's JOB_RETRY_CONFIG), wording for its
notifications, and the dotted path of the worker function that runs it (imported lazily by the
worker, so the web never imports `workers/`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from marshmallow import EXCLUDE, Schema, fields, validate

from app.schemas.common import StrictBoolean, StrictFloat
from app.schemas.payloads import analytics_report, backup_connection, bulk_import, data_export


class SchemaRebuildPayload(Schema):
    class Meta:
        unknown = EXCLUDE  # a `userId` sent by a client is ignored: the owner is the caller

    connectionId = fields.UUID(required=True)
    force = StrictBoolean(load_default=False)


class NoopPayload(Schema):
    """The canary: does nothing, optionally for a while. Used by health checks and benchmarks."""

    class Meta:
        unknown = EXCLUDE

    sleepSeconds = StrictFloat(load_default=0, validate=validate.Range(min=0, max=60))


class TestProbePayload(Schema):
    """Fault-injection job for the test suites (registered only with ENABLE_TEST_JOB_TYPES)."""

    class Meta:
        unknown = EXCLUDE

    steps = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=10_000))
    stepSeconds = StrictFloat(load_default=0, validate=validate.Range(min=0, max=60))
    failAttempts = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=100))
    failWith = fields.String(load_default="retryable", validate=validate.OneOf(["retryable", "permanent", "crash"]))


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


def _rebuild_summary(result: dict) -> str:
    return f"Schema rebuild completed successfully with {result.get('totalTables', 0)} tables"


JOB_TYPES: dict[str, JobType] = {
    job_type.name: job_type
    for job_type in (
        JobType(
            name="schema-rebuild",
            label="Schema rebuild",
            payload_schema=SchemaRebuildPayload,
            handler="workers.schema_rebuild:run",
            retry_limit=3,
            retry_delay=60,
            retry_backoff=True,
            expire_in_seconds=24 * 3600,
            describe_result=_rebuild_summary,
        ),
        JobType(
            name="data-export",
            label="Data export",
            payload_schema=data_export.DataExportPayload,
            handler="workers.data_export:run",
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
            handler="workers.bulk_import:run",
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
            handler="workers.backup_connection:run",
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
            handler="workers.analytics_report:run",
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
            payload_schema=NoopPayload,
            handler="workers.noop:run",
            retry_limit=0,
            retry_delay=0,
            retry_backoff=False,
            expire_in_seconds=120,
        ),
        JobType(
            name="test-probe",
            label="Test probe",
            payload_schema=TestProbePayload,
            handler="workers.noop:run_probe",
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
