"""`analytics-report`: the user's job history (admins: everyone's) as JSON and CSV."""

import uuid

from marshmallow import EXCLUDE, Schema, fields, validate

from app.errors import Forbidden
from app.schemas.common import StrictBoolean
from app.users.service import get_user


class AnalyticsReportPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    days = fields.Integer(
        strict=True,
        load_default=30,
        validate=validate.Range(min=1, max=366),
        metadata={"description": "How far back to look"},
    )
    allUsers = StrictBoolean(load_default=False, metadata={"description": "Every user's jobs (administrators only)"})


def describe_result(result: dict) -> str:
    return f"Report ready: {result.get('totalJobs', 0):,} jobs over {result.get('days', 0)} days"


def check_access(user_id: uuid.UUID, payload: dict) -> None:
    """`allUsers` reports on everyone's jobs: administrators only (403 for anyone else)."""
    if not payload.get("allUsers"):
        return

    user = get_user(user_id)
    if user is None or user.role != "admin":
        raise Forbidden("Only administrators can report on every user's jobs")
