"""Loan applications and everything that belongs to one: cash flows, collateral, guarantors,
the dossier, messages with the applicant, the appraisal and the approvers' decisions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanfund.domain.applications import ApplicationStatus, PriorityCategory
from loanfund.domain.appraisal_checklist import AppraisalArea, FindingResult
from loanfund.domain.documents import DocumentKind
from loanfund.domain.products import PurposeCategory
from loanfund.models.base import Base
from loanfund.models.enums import enum_column_type
from loanfund.models.types import Money, RatePct, UTCDateTime, utcnow

if TYPE_CHECKING:
    from loanfund.models.cooperative import Cooperative
    from loanfund.models.product import LoanProduct


class LoanApplication(Base):
    """A cooperative's request for a loan under a product; its status changes only through
    ``services.applications`` (one guarded transition each)."""

    __tablename__ = "loan_application"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("term_months >= 1", name="term_positive"),
        CheckConstraint("project_cost >= 0 AND own_equity >= 0", name="project_not_negative"),
        CheckConstraint("members_benefiting >= 0 AND jobs_created >= 0", name="people_counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Shown to people: ``HS-2026-0007``.
    number: Mapped[str] = mapped_column(String(20), unique=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("loan_product.id"), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_column_type(ApplicationStatus, "application_status"),
        default=ApplicationStatus.DRAFT,
        index=True,
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    term_months: Mapped[int] = mapped_column()
    #: The schedule terms asked for, in the engine's JSON form (the product's options).
    schedule_options: Mapped[dict[str, Any]] = mapped_column(JSON)
    purpose: Mapped[PurposeCategory] = mapped_column(enum_column_type(PurposeCategory, "purpose"))
    #: The priority category the applicant claims (the fund's reports count loans by it).
    priority: Mapped[PriorityCategory] = mapped_column(
        enum_column_type(PriorityCategory, "priority_category"),
        default=PriorityCategory.NONE,
        server_default=PriorityCategory.NONE.value,
    )
    purpose_description: Mapped[str] = mapped_column(Text, default="")
    project_description: Mapped[str] = mapped_column(Text, default="")
    project_cost: Mapped[Decimal] = mapped_column(Money)
    own_equity: Mapped[Decimal] = mapped_column(Money)
    members_benefiting: Mapped[int] = mapped_column(default=0)
    jobs_created: Mapped[int] = mapped_column(default=0)
    #: The cooperative asks to borrow without collateral.
    unsecured_requested: Mapped[bool] = mapped_column(default=False)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    submitted_on: Mapped[Optional[dt.date]] = mapped_column()
    #: The business day the dossier became complete (the decision clock starts).
    complete_on: Mapped[Optional[dt.date]] = mapped_column()
    decided_on: Mapped[Optional[dt.date]] = mapped_column()
    #: The officer responsible; the appraiser is whoever completes the appraisal.
    officer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    appraiser_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    #: Why it was rejected or withdrawn, in the deciding person's words.
    closing_reason: Mapped[str] = mapped_column(Text, default="")
    #: The terms granted (set on approval; the loan is made on them).
    approved_amount: Mapped[Optional[Decimal]] = mapped_column(Money)
    approved_term_months: Mapped[Optional[int]] = mapped_column()
    approved_schedule: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    approved_conditions: Mapped[str] = mapped_column(Text, default="")
    #: Counts the times the application went to the approvers; an approval counts only in the
    #: round it was given (returning it to appraisal starts a new round).
    decision_round: Mapped[int] = mapped_column(default=1)

    cooperative: Mapped[Cooperative] = relationship()
    product: Mapped[LoanProduct] = relationship()
    cash_flows: Mapped[list[ApplicationCashFlow]] = relationship(
        order_by="ApplicationCashFlow.year", cascade="all, delete-orphan"
    )
    collateral: Mapped[list[Collateral]] = relationship(
        order_by="Collateral.id", cascade="all, delete-orphan"
    )
    guarantors: Mapped[list[Guarantor]] = relationship(
        order_by="Guarantor.id", cascade="all, delete-orphan"
    )
    documents: Mapped[list[ApplicationDocument]] = relationship(
        order_by="ApplicationDocument.id", back_populates="application"
    )

    def __repr__(self) -> str:
        return f"<LoanApplication {self.number} {self.status.value}>"


class ApplicationCashFlow(Base):
    """One projected year of the project (year 1: the twelve months after disbursement)."""

    __tablename__ = "application_cash_flow"
    __table_args__ = (
        UniqueConstraint("application_id", "year"),
        CheckConstraint("year >= 1", name="year_positive"),
        CheckConstraint("revenue >= 0 AND operating_costs >= 0", name="not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_application.id"), index=True)
    year: Mapped[int] = mapped_column()
    revenue: Mapped[Decimal] = mapped_column(Money)
    operating_costs: Mapped[Decimal] = mapped_column(Money)


class Collateral(Base):
    """An asset offered as security."""

    __tablename__ = "collateral"
    __table_args__ = (CheckConstraint("estimated_value >= 0", name="value_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_application.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    estimated_value: Mapped[Decimal] = mapped_column(Money)
    #: The officer's valuation during appraisal (``None`` until valued).
    appraised_value: Mapped[Optional[Decimal]] = mapped_column(Money)


class Guarantor(Base):
    """A person or organisation that guarantees the loan."""

    __tablename__ = "guarantor"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_application.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relationship_to_borrower: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")


class ApplicationDocument(Base):
    """A file of the dossier, stored outside the web root under a random key."""

    __tablename__ = "application_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_application.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column_type(DocumentKind, "document_kind"))
    #: The name it had on the uploader's computer (shown, never used as a path).
    original_name: Mapped[str] = mapped_column(String(255))
    store_key: Mapped[str] = mapped_column(String(80), unique=True)
    mime: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    #: Uploaded in answer to this message (a request for information), if any.
    message_id: Mapped[Optional[int]] = mapped_column(ForeignKey("application_message.id"))

    application: Mapped[LoanApplication] = relationship(back_populates="documents")


class ApplicationMessage(Base):
    """A line of the conversation between the fund and the applicant.

    ``internal`` notes are staff-only and never shown to the applicant.
    """

    __tablename__ = "application_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_application.id"), index=True)
    #: ``request`` (fund asks), ``answer`` (applicant replies), ``note`` (staff only),
    #: ``decision`` (the decision's reason or conditions).
    kind: Mapped[str] = mapped_column(String(16))
    internal: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    author_label: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Appraisal(Base):
    """The officer's appraisal: findings, credit-bureau check, analysis and recommendation."""

    __tablename__ = "appraisal"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_application.id"), unique=True)
    credit_check_on: Mapped[Optional[dt.date]] = mapped_column()
    credit_check_reference: Mapped[str] = mapped_column(String(120), default="")
    #: ``clean``, ``minor`` or ``bad``.
    credit_check_result: Mapped[str] = mapped_column(String(16), default="")
    recommended_amount: Mapped[Optional[Decimal]] = mapped_column(Money)
    recommended_term_months: Mapped[Optional[int]] = mapped_column()
    recommended_rate_pct: Mapped[Optional[Decimal]] = mapped_column(RatePct)
    recommended_schedule: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    conditions: Mapped[str] = mapped_column(Text, default="")
    #: ``approve`` or ``reject``: what the officer recommends.
    recommendation: Mapped[str] = mapped_column(String(16), default="")
    #: The financial analysis and scorecard as computed when the appraisal was completed.
    analysis: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    risk_grade: Mapped[str] = mapped_column(String(2), default="")
    completed_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)

    findings: Mapped[list[AppraisalFinding]] = relationship(
        order_by="AppraisalFinding.id", cascade="all, delete-orphan"
    )


class AppraisalFinding(Base):
    """One line of the appraisal checklist."""

    __tablename__ = "appraisal_finding"
    __table_args__ = (UniqueConstraint("appraisal_id", "area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("appraisal.id"), index=True)
    area: Mapped[AppraisalArea] = mapped_column(enum_column_type(AppraisalArea, "appraisal_area"))
    result: Mapped[FindingResult] = mapped_column(enum_column_type(FindingResult, "finding_result"))
    note: Mapped[str] = mapped_column(Text, default="")


class ApplicationDecision(Base):
    """An approver's verdict. Above the credit-council amount two different approvers must
    approve; nobody decides twice on one application (unique constraint)."""

    __tablename__ = "application_decision"
    __table_args__ = (UniqueConstraint("application_id", "round", "approver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("loan_application.id"), index=True)
    round: Mapped[int] = mapped_column(default=1)
    approver_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    approver_label: Mapped[str] = mapped_column(String(255))
    #: ``approve``, ``reject`` or ``return`` (sent back to appraisal).
    verdict: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Optional[Decimal]] = mapped_column(Money)
    term_months: Mapped[Optional[int]] = mapped_column()
    schedule_options: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    conditions: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RelatedBorrowers(Base):
    """Two cooperatives an officer linked as related (common owners, management or cash):
    their exposures count together against the related-borrowers limit."""

    __tablename__ = "related_borrowers"
    __table_args__ = (
        UniqueConstraint("cooperative_id", "related_id"),
        CheckConstraint("cooperative_id < related_id", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id"), index=True)
    related_id: Mapped[int] = mapped_column(ForeignKey("cooperative.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """An in-app message to one user (who must act next, or what changed)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: What happened (``domain.notifications.NoticeKind``); the text is made in the reader's
    #: language when shown, from ``params``.
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: A path inside the app (``/applications/7``).
    link: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
