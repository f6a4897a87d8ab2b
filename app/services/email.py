"""Email delivery over SMTP_URL (plain, STARTTLS or SSL), with text and HTML bodies from
templates. Without SMTP_URL the message is logged instead of sent."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template
from sqlalchemy import func, update

from app.extensions import db
from app.models import EmailDelivery

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 15


def build_message(delivery: EmailDelivery, title: str, message: str | None, data: dict) -> EmailMessage:
    context = {"title": title, "message": message or title, "data": data or {}, "link": (data or {}).get("url")}
    email = EmailMessage()
    email["Subject"] = title
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = delivery.recipient
    email["Message-ID"] = f"<{delivery.id}@jobsvc>"
    email.set_content(render_template("email/notification.txt", **context))
    email.add_alternative(render_template("email/notification.html", **context), subtype="html")
    return email


def send_via_smtp(email: EmailMessage, smtp_url: str) -> None:
    """smtp://user:pass@host:port (STARTTLS when ?starttls=true), smtps:// for implicit TLS."""
    parts = urlsplit(smtp_url)
    options = parse_qs(parts.query)
    context = ssl.create_default_context()
    if options.get("verify", ["true"])[0].lower() == "false":
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=SMTP_TIMEOUT, context=context)
    else:
        client = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=SMTP_TIMEOUT)
    with client:
        if parts.scheme == "smtp" and options.get("starttls", ["false"])[0].lower() == "true":
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(email)


def deliver(delivery_id: uuid.UUID, title: str | None, message: str | None, data: dict, attempt: int) -> str:
    """Send one recorded email. Returns its new status; raises on a failure worth retrying."""
    delivery = db.session.get(EmailDelivery, delivery_id)
    if delivery is None or delivery.status == "sent":
        return "skipped"
    email = build_message(delivery, title or delivery.subject, message, data)
    delivery.attempts = attempt
    db.session.commit()
    smtp_url = current_app.config["SMTP_URL"]
    if smtp_url is None:
        log.info("email (SMTP_URL unset, not sent) to=%s subject=%r", delivery.recipient, email["Subject"])
        status = "logged"
    else:
        send_via_smtp(email, smtp_url)
        status = "sent"
    db.session.execute(
        update(EmailDelivery)
        .where(EmailDelivery.id == delivery_id)
        .values(status=status, sent_at=func.now(), error=None)
    )
    db.session.commit()
    return status


def record_failure(delivery_id: uuid.UUID, error: str) -> None:
    """After the last retry: the failure is on record, never lost silently."""
    db.session.rollback()
    db.session.execute(
        update(EmailDelivery).where(EmailDelivery.id == delivery_id).values(status="failed", error=error[:1000])
    )
    db.session.commit()
    log.error("email %s failed for good: %s", delivery_id, error)
