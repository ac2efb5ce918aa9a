"""Loan products: the fund's offers, each with its limits, rate and proposed schedule terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import JSON, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loanfund.domain.products import ProductStatus
from loanfund.models.base import Base
from loanfund.models.enums import enum_column_type
from loanfund.models.types import Money, RatePct, UTCDateTime, utcnow


class LoanProduct(Base):
    """A product; changed only by ``services.products``. Retired, never deleted: loans keep
    pointing at the product they were made under."""

    __tablename__ = "loan_product"
    __table_args__ = (
        CheckConstraint("min_amount > 0 AND min_amount <= max_amount", name="amount_range"),
        CheckConstraint(
            "min_term_months >= 1 AND min_term_months <= default_term_months "
            "AND default_term_months <= max_term_months",
            name="term_range",
        ),
        CheckConstraint("annual_rate_pct >= 0", name="rate_not_negative"),
        CheckConstraint("overdue_rate_pct_of_rate >= 0", name="overdue_rate_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: ``PurposeCategory`` values, sorted.
    purposes: Mapped[list[str]] = mapped_column(JSON)
    min_amount: Mapped[Decimal] = mapped_column(Money)
    max_amount: Mapped[Decimal] = mapped_column(Money)
    min_term_months: Mapped[int] = mapped_column()
    max_term_months: Mapped[int] = mapped_column()
    default_term_months: Mapped[int] = mapped_column()
    annual_rate_pct: Mapped[Decimal] = mapped_column(RatePct)
    overdue_rate_pct_of_rate: Mapped[Decimal] = mapped_column(RatePct)
    #: The proposed schedule terms, in the engine's JSON form (``SCHEDULE_OPTIONS`` keys).
    schedule_options: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: ``DocumentKind`` values every application needs (collateral papers are added when
    #: collateral is offered); ``None`` for the fund's default list.
    required_documents: Mapped[Optional[list[str]]] = mapped_column(JSON)
    status: Mapped[ProductStatus] = mapped_column(
        enum_column_type(ProductStatus, "product_status"), default=ProductStatus.ACTIVE
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<LoanProduct {self.code}>"
