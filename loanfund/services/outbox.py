"""Email goes through the outbox: written in the business transaction, sent later."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from loanfund.models import OutboxMessage


@dataclass(frozen=True, slots=True)
class Email:
    """A message to queue: subject and plain-text body, already in the reader's language."""

    subject: str
    body_text: str


def queue_email(
    session: Session,
    *,
    kind: str,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    user_id: int | None = None,
) -> OutboxMessage:
    """Add a message to the caller's transaction (the caller commits)."""
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        subject=subject[:255],
        body_text=body_text,
        body_html=body_html,
        user_id=user_id,
    )
    session.add(message)
    return message


def record_account_email(
    session: Session,
    *,
    kind: str,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
) -> OutboxMessage:
    """Queue an account email (password reset, notices) on its own and commit it."""
    message = queue_email(
        session,
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
    )
    session.commit()
    return message
