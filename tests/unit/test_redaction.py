"""Credential redaction (app.platform.redaction) and the one-line job error built on it."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from app.jobs.errors import PERMANENT, RETRYABLE, JobError, classify, describe_error
from app.platform.redaction import REDACTED, redact, redact_text


def test_a_url_password_goes_and_the_rest_stays_readable():
    text = "could not reach postgresql+psycopg2://reader:s3cr3t@db.internal:5432/shop"
    assert redact_text(text) == f"could not reach postgresql+psycopg2://reader:{REDACTED}@db.internal:5432/shop"


def test_a_password_without_a_user_is_redacted_too():
    assert "hunter2" not in redact_text("redis://:hunter2@cache:6379/0")


def test_text_without_credentials_is_unchanged():
    assert redact_text("postgresql://db.internal/shop has no table t") == "postgresql://db.internal/shop has no table t"


def test_secret_named_fields_are_hidden_at_any_depth():
    data = {"connectionId": "c1", "password": "pw", "nested": [{"apiKey": "k", "url": "mysql://u:pw@h/d"}]}
    assert redact(data) == {
        "connectionId": "c1",
        "password": REDACTED,
        "nested": [{"apiKey": REDACTED, "url": f"mysql://u:{REDACTED}@h/d"}],
    }


def test_a_job_error_is_one_redacted_line():
    error = describe_error(RuntimeError("connect to postgresql://admin:topsecret@h/db failed\ntraceback line"))
    assert error == f"connect to postgresql://admin:{REDACTED}@h/db failed"


def test_driver_errors_say_whether_waiting_could_help():
    refused = OperationalError("SELECT 1", {}, Exception('password authentication failed for user "x"'))
    unreachable = OperationalError("SELECT 1", {}, Exception("could not connect to server: Connection refused"))
    assert classify(refused) == PERMANENT
    assert classify(unreachable) == RETRYABLE
    assert classify(JobError("bad input", retryable=False)) == PERMANENT
