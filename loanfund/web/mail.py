"""Flask-Security's emails (password reset, notices) go to the outbox, not straight to SMTP."""

from __future__ import annotations

from typing import Any

from flask_security import MailUtil

from loanfund.models import db
from loanfund.services.outbox import record_account_email


class OutboxMailUtil(MailUtil):
    """Writes each account email to the outbox; the scheduler sends it."""

    def send_mail(
        self,
        template: str,
        subject: str,
        recipient: Any,
        sender: Any,
        body: str | None,
        html: str | None,
        **kwargs: Any,
    ) -> None:
        address = recipient[1] if isinstance(recipient, tuple) else recipient
        record_account_email(
            db.session,
            kind=template,
            recipient=str(address),
            subject=str(subject),
            body_text=body or "",
            body_html=html,
        )
