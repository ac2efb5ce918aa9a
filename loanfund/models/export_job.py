"""Excel exports asked for on a page and written in the background."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loanfund.domain.exports import ExportKind, ExportStatus
from loanfund.models.base import Base
from loanfund.models.enums import enum_column_type
from loanfund.models.types import UTCDateTime, utcnow


class ExportJob(Base):
    """One workbook asked for by one person: queued, written by a background thread (its rows
    counted as they go), then downloaded until the daily clean-up removes the file."""

    __tablename__ = "export_job"
    __table_args__ = (CheckConstraint("rows_done >= 0 AND rows_total >= 0", name="rows"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ExportKind] = mapped_column(enum_column_type(ExportKind, "export_kind"))
    #: What was asked, as text: ``{"as_of": "2026-11-23"}``, ``{"from": …, "to": …}``,
    #: ``{"period": …}``, or for a list its name, query string, tab, scope, day, title and
    #: description (``domain.exports.ListExport``); and ``"locale"``, the language the workbook
    #: is written in.
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: Who asked (``None``: the system). Only they and administrators see the job.
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    status: Mapped[ExportStatus] = mapped_column(
        enum_column_type(ExportStatus, "export_status"), default=ExportStatus.QUEUED, index=True
    )
    rows_done: Mapped[int] = mapped_column(default=0)
    #: Rows to write, counted before writing (0 while unknown); the rows written once done.
    rows_total: Mapped[int] = mapped_column(default=0)
    #: The name the workbook is downloaded as (``portfolio-2026-11-23.xlsx``).
    file_name: Mapped[str] = mapped_column(String(120), default="")
    #: The workbook's random name in the exports folder (``<key>.xlsx``): set once it is
    #: complete, cleared when the clean-up removes it. Never chosen by a user.
    store_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    #: Why it failed (for administrators); empty otherwise.
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    #: The writer's last sign of life: a job silent for long is taken to have died.
    progress_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)

    @property
    def last_sign_of_life(self) -> dt.datetime:
        return self.progress_at or self.started_at or self.created_at

    def __repr__(self) -> str:
        return f"<ExportJob {self.id} {self.kind} {self.status} {self.rows_done}/{self.rows_total}>"
