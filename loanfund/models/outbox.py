"""The email outbox: messages written in the business transaction, sent later."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loanfund.models.base import Base
from loanfund.models.enums import enum_column_type
from loanfund.models.types import UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """An email to send. With no SMTP server configured it stays queued and readable by admins."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: What the message is for, e.g. ``reset_instructions``, ``cooperative_verified``.
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(255), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column_type(OutboxStatus, "outbox_status"), default=OutboxStatus.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not before this time (a failed send waits longer after each attempt).
    next_attempt_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    sent_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} to {self.recipient} {self.status.value}>"
