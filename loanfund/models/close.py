"""The nightly work: business days closed, debt-group changes, portfolio snapshots, job runs,
the scheduler's lease and the keys of reminders already written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loanfund.models.base import Base
from loanfund.models.types import Money, RatePct, UTCDateTime, utcnow


class BusinessDay(Base):
    """A business date and how far its close got (``running`` → ``done``)."""

    __tablename__ = "business_day"
    __table_args__ = (CheckConstraint("status IN ('running', 'done')", name="status"),)

    business_date: Mapped[dt.date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    #: What the close did: loans aged, group changes, entries posted…
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DebtGroupChange(Base):
    """A loan moved from one debt group to another at the close of a business date."""

    __tablename__ = "debt_group_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    business_date: Mapped[dt.date] = mapped_column(index=True)
    from_group: Mapped[int] = mapped_column()
    to_group: Mapped[int] = mapped_column()
    days_past_due: Mapped[int] = mapped_column()
    #: ``days`` (its own days past due), ``restructuring`` (the floor) or ``borrower`` (another
    #: loan of the same borrower is in a worse group).
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortfolioSnapshot(Base):
    """The portfolio at the close of a business date, for the dashboard and the reports."""

    __tablename__ = "portfolio_snapshot"

    business_date: Mapped[dt.date] = mapped_column(primary_key=True)
    loans: Mapped[int] = mapped_column()
    outstanding: Mapped[Decimal] = mapped_column(Money)
    #: ``{"1": "…", …, "5": "…"}`` outstanding principal and ``{"1": n, …}`` loan counts.
    by_group: Mapped[dict[str, str]] = mapped_column(JSON)
    count_by_group: Mapped[dict[str, int]] = mapped_column(JSON)
    par30_pct: Mapped[Decimal] = mapped_column(RatePct)
    par90_pct: Mapped[Decimal] = mapped_column(RatePct)
    bad_debt_pct: Mapped[Decimal] = mapped_column(RatePct)
    specific_provision: Mapped[Decimal] = mapped_column(Money)
    general_provision: Mapped[Decimal] = mapped_column(Money)
    interest_accrued: Mapped[Decimal] = mapped_column(Money)
    interest_off_books: Mapped[Decimal] = mapped_column(Money)

    @property
    def outstanding_by_group(self) -> dict[str, Decimal]:
        return {group: Decimal(value) for group, value in self.by_group.items()}


class InflowForecast(Base):
    """What the open schedules bring back, day by day, as counted at the close of a business
    date: every installment falling due from that date on, of every active loan's schedule
    version named by ``Loan.inflow_version_id``. Only the latest forecast is read, together
    with the loans whose schedule or status changed since (``queries.loans.inflow_days``)."""

    __tablename__ = "inflow_forecast"

    business_date: Mapped[dt.date] = mapped_column(primary_key=True)
    #: The newest schedule version when it was counted: a loan with a newer one has changed.
    through_version_id: Mapped[int] = mapped_column()
    #: ``{"2026-11-24": ["principal", "interest"], …}`` in whole currency units, as text.
    days: Mapped[dict[str, list[str]]] = mapped_column(JSON)


class LoanReplay(Base):
    """A loan's installments as its replay left them at a daily close (what each receipt paid,
    the penalty accrued at each receipt), with what the replay read: its posted receipts (how
    many, the last one's sequence) and its schedule versions. The next close starts from it
    when the loan still has exactly those (``services.daily_close``), instead of allocating
    every receipt again; otherwise it replays the loan and writes a new one. Only a replay
    that used every receipt and version (none dated after its day) is kept, so it holds for
    any later day. A cache: deleting it costs a full replay, nothing else."""

    __tablename__ = "loan_replay"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), primary_key=True)
    #: The business date replayed.
    through: Mapped[dt.date] = mapped_column()
    receipts: Mapped[int] = mapped_column()
    last_sequence: Mapped[int] = mapped_column()
    versions: Mapped[int] = mapped_column()
    #: ``{"disbursed_on", "days_in_year", "installments": [domain.repayments.state_row…]}``.
    state: Mapped[dict[str, Any]] = mapped_column(JSON)


class JobRun(Base):
    """One run of a scheduled job (or its operator command), for the job history page."""

    __tablename__ = "job_run"
    __table_args__ = (CheckConstraint("status IN ('running', 'ok', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40), index=True)
    business_date: Mapped[Optional[dt.date]] = mapped_column()
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    #: Who ran it: ``scheduler`` or an operator's command.
    trigger: Mapped[str] = mapped_column(String(20), default="scheduler")


class SchedulerLease(Base):
    """Who leads the schedulers (SQLite; PostgreSQL uses an advisory lock): the holder renews
    the lease while it runs, and another process may take it only once it has expired."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReminderKey(Base):
    """A reminder already written: what, for whom, for which date. Unique, so each is written
    once however often the job runs."""

    __tablename__ = "reminder_key"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
