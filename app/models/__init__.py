"""SQLAlchemy models, one module per aggregate; imported here so Alembic sees them all."""

from app.batches.models import Batch  # the batches domain's table (jobs.batch_id points at it)
from app.models.artifact import Artifact
from app.models.audit import AuditEntry
from app.models.connection import Connection, SchemaCache
from app.models.job import DeadLetter, IdempotencyKey, Job, JobExecution
from app.models.job_event import JobEvent
from app.models.notification import EmailDelivery, EmailDigest, Notification
from app.models.user import NotificationPreference, User
from app.schedules.models import Schedule  # the schedules domain's table
from app.workflows.models import Workflow  # registered here so that Alembic and jobs.workflow_id see it

__all__ = [
    "Artifact",
    "AuditEntry",
    "Batch",
    "Connection",
    "DeadLetter",
    "EmailDelivery",
    "EmailDigest",
    "IdempotencyKey",
    "Job",
    "JobEvent",
    "JobExecution",
    "Notification",
    "NotificationPreference",
    "Schedule",
    "SchemaCache",
    "User",
    "Workflow",
]
