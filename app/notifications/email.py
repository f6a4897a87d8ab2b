"""Email delivery over SMTP, with text and HTML bodies from app/templates/email/.

SMTP_URL forms (credentials percent-encoded):
    smtp://host:25                              plain SMTP, no AUTH
    smtp://user:pass@host:587?starttls=true     STARTTLS, then AUTH (fails rather than fall back to plain)
    smtps://user:pass@host:465                  implicit TLS
    ...&verify=false                            accept a self-signed or mismatched certificate
Without SMTP_URL the message is logged, not sent, and the delivery says `logged`.

Every delivery is a row in `email_deliveries` whose status tells its fate:
    pending -> retrying -> sent | logged | failed | disabled
`failed` carries the error: an email is never lost silently.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template
from sqlalchemy import func, update
from sqlalchemy.exc import InterfaceError, OperationalError

from app.extensions import db
from app.models import EmailDelivery
from app.platform import metrics

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 15
SETTLED_STATUSES = ("sent", "logged", "failed", "disabled")
MAX_RETRY_DELAY = 600  # seconds; far below the broker's visibility timeout (Celery ETA trap)
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    verify: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read SMTP_URL; a malformed one raises ValueError without echoing the URL (it holds a password)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:pass@host:port or smtps://...")
    options = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    unknown = set(options) - {"starttls", "verify"}
    if unknown:
        raise ValueError(f"SMTP_URL: unknown option(s) {', '.join(sorted(unknown))} (use starttls, verify)")

    def flag(name: str, default: bool) -> bool:
        value = options.get(name)
        if value is None:
            return default
        if value not in _TRUE + _FALSE:
            raise ValueError(f"SMTP_URL: {name} must be true or false")
        return value in _TRUE

    implicit_tls = parts.scheme == "smtps"
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or (465 if implicit_tls else 25),
        implicit_tls=implicit_tls,
        starttls=flag("starttls", False) and not implicit_tls,
        verify=flag("verify", True),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def build_message(delivery: EmailDelivery, title: str, message: str | None, data: dict) -> EmailMessage:
    """The email for one delivery: plain text and HTML alternatives, with a link when there is one."""
    data = data or {}
    link = data.get("url")
    context = {
        "title": title,
        "message": message or title,
        "link": link,
        "link_label": "View the job" if data.get("jobId") else "View details",
    }
    email = EmailMessage()
    email["Subject"] = _one_line(title)
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = delivery.recipient
    email["Date"] = formatdate(usegmt=True)
    # Stable per delivery: a retried or re-sent email can be recognised as the same one.
    email["Message-ID"] = f"<{delivery.id}@jobsvc>"
    # RFC 3834: tells auto-responders (out-of-office) not to answer a machine.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(render_template("email/notification.txt", **context))
    email.add_alternative(render_template("email/notification.html", **context), subtype="html")
    return email


def _one_line(text: str) -> str:
    """Header values must not contain line breaks (header injection); keep them short too."""
    return " ".join(text.split())[:255]


def send_via_smtp(email: EmailMessage, smtp_url: str) -> None:
    """Open a connection as SMTP_URL says, authenticate if it names a user, send one message."""
    settings = parse_smtp_url(smtp_url)
    context = ssl.create_default_context()
    if not settings.verify:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    # A fixed EHLO name: socket.getfqdn() can block on reverse DNS for seconds.
    local_hostname = "localhost"
    if settings.implicit_tls:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, local_hostname, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, local_hostname, timeout=SMTP_TIMEOUT)
    with client:
        if settings.starttls:
            client.starttls(context=context)
        if settings.username:
            _explain_missing_auth(client, settings)
            client.login(settings.username, settings.password or "")
        client.send_message(email)


def _explain_missing_auth(client: smtplib.SMTP, settings: SmtpSettings) -> None:
    """Many servers offer AUTH only after STARTTLS: say so instead of smtplib's bare complaint."""
    client.ehlo_or_helo_if_needed()
    if not client.has_extn("auth") and client.has_extn("starttls") and not settings.starttls:
        raise smtplib.SMTPNotSupportedError(
            "the server offers AUTH only after STARTTLS: add ?starttls=true to SMTP_URL"
        )


def deliver(delivery_id: uuid.UUID, title: str | None, message: str | None, data: dict | None) -> str:
    """Send one recorded email and record the outcome; returns the new status.

    Raises on failure; the caller (the email task) decides between retrying and `record_failure`."""
    delivery = db.session.get(EmailDelivery, delivery_id)
    if delivery is None or delivery.status in SETTLED_STATUSES:
        return "skipped"  # a duplicate delivery of the task, or the user is gone
    config = current_app.config
    if not config["EMAIL_NOTIFICATIONS_ENABLED"]:
        # The switch was turned off after this email was queued: the operator wants silence.
        return _finish(delivery_id, "disabled")
    # A batch or the sweep hands over ids only: the row keeps what the email says.
    message = message if message is not None else delivery.message
    email = build_message(delivery, title or delivery.subject, message, data or delivery.data or {})
    recipient, kind = delivery.recipient, delivery.notification_type  # read before the commit expires them
    if config["SMTP_URL"] is None:
        log.info("email not sent (SMTP_URL unset) to=%s subject=%r", recipient, email["Subject"])
        return _finish(delivery_id, "logged", attempted=True)
    # Counted before the attempt: a worker that dies while sending still leaves the attempt on record.
    db.session.execute(
        update(EmailDelivery).where(EmailDelivery.id == delivery_id).values(attempts=EmailDelivery.attempts + 1)
    )
    db.session.commit()
    send_via_smtp(email, config["SMTP_URL"])
    metrics.incr("notifications_sent_total", {"channel": "email", "type": kind})
    return _finish(delivery_id, "sent")


def _finish(delivery_id: uuid.UUID, status: str, attempted: bool = False) -> str:
    """Record the outcome; `attempted` also counts the attempt (when nothing was sent, one statement does both)."""
    values = {"status": status, "sent_at": func.now() if status in ("sent", "logged") else None, "error": None}
    if attempted:
        values["attempts"] = EmailDelivery.attempts + 1
    db.session.execute(update(EmailDelivery).where(EmailDelivery.id == delivery_id).values(**values))
    db.session.commit()
    return status


def is_transient(exc: BaseException) -> bool:
    """Whether trying again later could succeed: 4xx replies, dropped or refused connections and
    timeouts are; 5xx replies, a bad certificate, a missing extension or a bad SMTP_URL are not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):  # AUTH, sender, data, connect, helo replies
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError):
        return False
    # smtplib.SMTPServerDisconnected, ConnectionRefusedError, socket timeouts, TLS hiccups.
    return isinstance(exc, OSError | OperationalError | InterfaceError)


def describe_delivery_error(exc: BaseException) -> str:
    """One line for the delivery row and the logs; never the SMTP_URL (smtplib does not print it)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        text = f"{exc.smtp_code} {detail}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{address}: {code} {reply.decode(errors='replace')}" for address, (code, reply) in exc.recipients.items()
        )
    else:
        text = str(exc)
    first_line = " ".join(text.split())
    return f"{type(exc).__name__}: {first_line}"[:1000]


def record_retry(delivery_id: uuid.UUID, error: str) -> None:
    """A transient failure: another attempt is scheduled. `retrying` also keeps the pending-email
    sweep, which re-sends only `pending` rows, from starting a second chain of attempts."""
    _record(delivery_id, "retrying", error)
    log.warning("email %s will be retried: %s", delivery_id, error)


def record_failure(delivery_id: uuid.UUID, error: str) -> None:
    """A permanent failure or retries exhausted: the failure is on record, never lost silently."""
    _record(delivery_id, "failed", error)
    metrics.incr("notifications_failed_total", {"channel": "email"})
    log.error("email %s failed for good: %s", delivery_id, error)


def _record(delivery_id: uuid.UUID, status: str, error: str) -> None:
    db.session.rollback()
    db.session.execute(
        update(EmailDelivery)
        .where(EmailDelivery.id == delivery_id, EmailDelivery.status.not_in(SETTLED_STATUSES))
        .values(status=status, error=error[:1000])
    )
    db.session.commit()


def retry_policy() -> tuple[int, float]:
    """(retries after the first attempt, first delay in seconds), doubling up to MAX_RETRY_DELAY:
    EMAIL_MAX_RETRIES and EMAIL_RETRY_DELAY_SECONDS."""
    config = current_app.config
    return int(config["EMAIL_MAX_RETRIES"]), float(config["EMAIL_RETRY_DELAY_SECONDS"])


def retry_delay(retries_so_far: int, first_delay: float) -> float:
    return min(MAX_RETRY_DELAY, first_delay * 2**retries_so_far)
