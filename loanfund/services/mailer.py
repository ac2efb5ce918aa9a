"""Sending the outbox over SMTP: each message claimed before it is sent, retried with a
growing wait after a failure, and given up (``failed``, with the error) after the last try.

A message is claimed by a guarded UPDATE of its attempt count and next-attempt time, so two
senders never send it at the same moment; a sender killed between sending and recording may
send it once more after the claim expires (at least once, never lost).
"""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from loanfund.models import OutboxMessage, OutboxStatus

#: How long a claimed message is held before another sender may try it.
CLAIM = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 8

Transport = Callable[[OutboxMessage], None]


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most 6 hours."""
    return min(dt.timedelta(minutes=2 ** (attempts - 1)), dt.timedelta(hours=6))


def smtp_transport(settings: Mapping[str, Any], *, timeout: float = 30) -> Transport | None:
    """A sender over the configured SMTP server, or None when no server is configured."""
    host = str(settings.get("MAIL_SERVER") or "")
    if not host:
        return None

    def send(message: OutboxMessage) -> None:
        email = EmailMessage()
        email["From"] = settings["MAIL_DEFAULT_SENDER"]
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
        email.set_content(message.body_text)
        if message.body_html:
            email.add_alternative(message.body_html, subtype="html")
        with smtplib.SMTP(host, int(settings["MAIL_PORT"]), timeout=timeout) as smtp:
            if settings.get("MAIL_USE_TLS"):
                smtp.starttls()
            if settings.get("MAIL_USERNAME"):
                smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"])
            smtp.send_message(email)

    return send


def send_outbox(
    session: Session, *, now: dt.datetime, transport: Transport, batch: int = 100
) -> dict[str, int]:
    """Send the queued messages that are due, oldest first. Returns how many were sent, failed
    for now (retried later) and given up."""
    counts = {"sent": 0, "retry": 0, "given_up": 0}
    candidates = session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.QUEUED,
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(batch)
    ).all()
    for message_id in candidates:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            continue
        seen = message.attempts
        claimed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == OutboxStatus.QUEUED,
                OutboxMessage.attempts == seen,
            )
            .values(attempts=seen + 1, next_attempt_at=now + CLAIM)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if claimed.rowcount != 1:
            continue  # another sender has it
        session.refresh(message)
        try:
            transport(message)
        except Exception as error:  # SMTP and network errors alike: record and retry later
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
                counts["given_up"] += 1
            else:
                message.next_attempt_at = now + backoff(message.attempts)
                counts["retry"] += 1
        else:
            message.status = OutboxStatus.SENT
            message.sent_at = now
            message.last_error = None
            counts["sent"] += 1
        session.commit()
    return counts
