"""Fund settings kept in the database: the fund's name, time zone and policy parameters."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loanfund.models.base import Base
from loanfund.models.types import UTCDateTime, utcnow


class Setting(Base):
    """One setting: a key and its value as exact text (parsed by ``domain.policy``)."""

    __tablename__ = "setting"

    #: ``fund_name``, ``fund_timezone``, ``fund_currency`` or a ``domain.policy`` key.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))

    def __repr__(self) -> str:
        return f"<Setting {self.key}={self.value!r}>"
