"""SQLAlchemy models, one module per aggregate; imported here so Alembic sees them all."""

from app.models.artifact import Artifact
from app.models.audit import AuditEntry
from app.models.connection import Connection, SchemaCache
from app.models.job import DeadLetter, IdempotencyKey, Job, JobExecution
from app.models.job_event import JobEvent
from app.models.notification import EmailDelivery, Notification
from app.models.user import NotificationPreference, User

__all__ = [
    "Artifact",
    "AuditEntry",
    "Connection",
    "DeadLetter",
    "EmailDelivery",
    "IdempotencyKey",
    "Job",
    "JobEvent",
    "JobExecution",
    "Notification",
    "NotificationPreference",
    "SchemaCache",
    "User",
]
