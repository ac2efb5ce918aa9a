"""Loans, their disbursement tranches and their schedule versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanfund.domain.loans import LoanStatus, TrancheStatus
from loanfund.models.base import Base
from loanfund.models.enums import enum_column_type
from loanfund.models.types import Money, RatePct, UTCDateTime, utcnow

if TYPE_CHECKING:
    from loanfund.models.application import LoanApplication
    from loanfund.models.cooperative import Cooperative
    from loanfund.models.product import LoanProduct


class Loan(Base):
    """A loan made from an approved application, on the terms approved. Its money is in the
    journal (``journal_entry.loan_id``); its status changes only through ``services.loans``."""

    __tablename__ = "loan"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_loan_status_inflow_version_id", "status", "inflow_version_id"),
        # The loans list by status, largest balance first: a page is read from the index.
        Index("ix_loan_status_receivable", "status", "receivable"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One loan per application.
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_application.id"), unique=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("loan_product.id"))
    contract_no: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[LoanStatus] = mapped_column(
        enum_column_type(LoanStatus, "loan_status"), default=LoanStatus.APPROVED, index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    term_months: Mapped[int] = mapped_column()
    annual_rate_pct: Mapped[Decimal] = mapped_column(RatePct)
    overdue_rate_pct_of_rate: Mapped[Decimal] = mapped_column(RatePct)
    #: Interest on overdue interest, % a year, and how receipts are allocated and prepayments
    #: applied: the fund's settings when the loan was made, fixed for its life so that a
    #: replay of its receipts always gives what was posted.
    late_interest_rate_pct: Mapped[Decimal] = mapped_column(RatePct, default=Decimal(0))
    allocation_order: Mapped[str] = mapped_column(String(20), default="principal_first")
    prepayment_mode: Mapped[str] = mapped_column(String(20), default="keep_term")
    #: Approved restructurings (ND45 §27); each one pushes the debt group.
    restructure_count: Mapped[int] = mapped_column(default=0)
    #: The day the last receipt repaid everything.
    closed_on: Mapped[Optional[dt.date]] = mapped_column()
    #: As of the last daily close (``closed_through``): days past due, the loan's own debt
    #: group and its group once the borrower's worst applies, interest earned and not paid,
    #: penalty interest owed, the provisions held for it, the interest fallen due and paid
    #: and the maturity. A receipt, tranche or schedule change dated on or before that day
    #: clears ``closed_through`` (the figures no longer hold for it) until the next close.
    closed_through: Mapped[Optional[dt.date]] = mapped_column(index=True)
    days_past_due: Mapped[int] = mapped_column(default=0)
    own_group: Mapped[int] = mapped_column(default=1)
    debt_group: Mapped[int] = mapped_column(default=1, index=True)
    principal_outstanding: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    interest_accrued: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    penalty_accrued: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    specific_provision: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    general_provision: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    interest_fallen_due: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    interest_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    matures_on: Mapped[Optional[dt.date]] = mapped_column()
    #: The schedule version whose installments the latest inflow forecast counted for this
    #: loan (``None``: not counted). Written by the daily close (``services.forecast``).
    inflow_version_id: Mapped[Optional[int]] = mapped_column()
    #: The loan's balance on loans receivable in the journal (its principal outstanding as the
    #: books hold it now), moved by ``services.ledger.post_entry`` in the same transaction as
    #: each entry that debits or credits it, so that lists sort and filter on a column instead
    #: of summing millions of journal lines.
    receivable: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    schedule_options: Mapped[dict[str, Any]] = mapped_column(JSON)
    conditions: Mapped[str] = mapped_column(Text, default="")
    signed_on: Mapped[Optional[dt.date]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))

    application: Mapped[LoanApplication] = relationship()
    cooperative: Mapped[Cooperative] = relationship()
    product: Mapped[LoanProduct] = relationship()
    tranches: Mapped[list[Tranche]] = relationship(order_by="Tranche.id", back_populates="loan")
    schedules: Mapped[list[ScheduleVersion]] = relationship(
        order_by="ScheduleVersion.version", back_populates="loan"
    )

    def __repr__(self) -> str:
        return f"<Loan {self.contract_no} {self.status.value}>"


class Tranche(Base):
    """One disbursement: requested by an officer, approved by another person, then paid."""

    __tablename__ = "tranche"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_tranche_value_date_status_amount", "value_date", "status", "amount"),
        Index("ix_tranche_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    status: Mapped[TrancheStatus] = mapped_column(
        enum_column_type(TrancheStatus, "tranche_status"), default=TrancheStatus.REQUESTED
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    value_date: Mapped[dt.date] = mapped_column()
    payee: Mapped[str] = mapped_column(String(200))
    account: Mapped[str] = mapped_column(String(60))
    reference: Mapped[str] = mapped_column(String(120), default="")
    #: The request form's one-time key: a replayed or double-clicked request makes one tranche.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    paid_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    #: The journal entry that paid it (unique: a tranche is paid once).
    journal_entry_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("journal_entry.id"), unique=True
    )
    note: Mapped[str] = mapped_column(Text, default="")

    loan: Mapped[Loan] = relationship(back_populates="tranches")


class ScheduleVersion(Base):
    """The loan's repayment schedule as the engine built it; a new version for each later
    tranche (and, later, each restructuring). Earlier versions are kept."""

    __tablename__ = "schedule_version"
    __table_args__ = (UniqueConstraint("loan_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    version: Mapped[int] = mapped_column()
    #: Why this version exists: ``first_tranche``, ``tranche``…
    reason: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[dt.date] = mapped_column()
    #: How the replay of receipts moves onto this version: receipts numbered up to
    #: ``after_sequence`` come before it; the first ``kept`` installments stay (with what was
    #: paid on them; ``settles``: their unpaid principal and interest moved into the new ones);
    #: the first new installment's interest runs from ``accrues_from``.
    after_sequence: Mapped[int] = mapped_column(default=0)
    kept: Mapped[int] = mapped_column(default=0)
    settles: Mapped[bool] = mapped_column(default=False)
    accrues_from: Mapped[Optional[dt.date]] = mapped_column()
    #: The engine's terms, in its JSON form, and the schedule it built (``to_json_dict``).
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    installments: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    loan: Mapped[Loan] = relationship(back_populates="schedules")


class Restructuring(Base):
    """A rescheduling or extension of a loan (ND45 §27): proposed by an officer on the
    borrower's written request, decided by another person with the approver role. Approval
    makes a new schedule version from the decision date."""

    __tablename__ = "restructuring"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected', 'withdrawn')", name="status"
        ),
        CheckConstraint("kind IN ('reschedule', 'extension')", name="kind"),
        CheckConstraint("installments > 0", name="installments_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    #: ``reschedule`` (within the term) or ``extension`` (beyond it).
    kind: Mapped[str] = mapped_column(String(16))
    request_on: Mapped[dt.date] = mapped_column()
    request_reference: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    installments: Mapped[int] = mapped_column()
    first_due_on: Mapped[dt.date] = mapped_column()
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_on: Mapped[Optional[dt.date]] = mapped_column()
    decision_note: Mapped[str] = mapped_column(Text, default="")
    schedule_version_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("schedule_version.id"), unique=True
    )

    loan: Mapped[Loan] = relationship()


class Repayment(Base):
    """Money received from the borrower, allocated by the fund's order and posted to the books.
    Never deleted: a mistake is reversed by a reversing entry."""

    __tablename__ = "repayment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('posted', 'reversed')", name="status"),
        # Two receipts allocated at the same moment against the same state would both claim
        # the same installments: the second one to commit hits this and is refused.
        UniqueConstraint("loan_id", "sequence"),
        # The money received by month (dashboard) and the receipts newest first, read from the
        # index alone.
        Index("ix_repayment_received_on_status_amount", "received_on", "status", "amount"),
        # The receipts waiting for a reversal's approval, found among millions: a partial
        # index holds only those ever asked to be reversed (without it SQLite scans them all).
        Index(
            "ix_repayment_reversal_requested",
            "id",
            sqlite_where=text("reversal_requested_by_id IS NOT NULL"),
            postgresql_where=text("reversal_requested_by_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    #: 1, 2, 3… per loan, in the order receipts were recorded.
    sequence: Mapped[int] = mapped_column()
    received_on: Mapped[dt.date] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(Money)
    #: ``bank`` or ``cash``.
    channel: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(120), default="")
    #: The form's one-time key: the same receipt sent twice is recorded once.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="posted")
    #: ``{"by_component": {...}, "lines": [[n, component, amount], ...]}`` as allocated.
    allocation: Mapped[dict[str, Any]] = mapped_column(JSON)
    journal_entry_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("journal_entry.id"), unique=True
    )
    recorded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    recorded_by_label: Mapped[str] = mapped_column(String(255))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A reversal is asked for by one person (with the reason) and approved by another.
    reversal_reason: Mapped[str] = mapped_column(Text, default="")
    reversal_requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    reversed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
