"""Cooperatives: the fund's borrowers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanfund.domain.cooperatives import CooperativeStatus, LegalType
from loanfund.models.base import Base
from loanfund.models.enums import enum_column_type
from loanfund.models.types import Money, UTCDateTime, utcnow

if TYPE_CHECKING:
    from loanfund.models.user import User


class Cooperative(Base):
    """A cooperative, cooperative union or member of a cooperative group that may borrow."""

    __tablename__ = "cooperative"
    __table_args__ = (
        CheckConstraint("members_count >= 1", name="members_positive"),
        CheckConstraint(
            "women_members >= 0 AND women_members <= members_count", name="women_within_members"
        ),
        CheckConstraint(
            "ethnic_minority_members >= 0 AND ethnic_minority_members <= members_count",
            name="ethnic_minority_within_members",
        ),
        CheckConstraint("charter_capital >= 0", name="charter_capital_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: ``domain.text.fold(name)``: lower case without diacritics, for search.
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    legal_type: Mapped[LegalType] = mapped_column(enum_column_type(LegalType, "legal_type"))
    #: Number of the cooperative registration certificate.
    registration_no: Mapped[str] = mapped_column(String(30), unique=True)
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)
    province: Mapped[str] = mapped_column(String(80))
    #: Indexed: the lists' district filter offers every district, read from the index.
    district: Mapped[str] = mapped_column(String(80), index=True)
    address: Mapped[str] = mapped_column(String(255))
    sector: Mapped[str] = mapped_column(String(200))
    founded_on: Mapped[dt.date] = mapped_column()
    members_count: Mapped[int] = mapped_column()
    women_members: Mapped[int] = mapped_column(default=0)
    ethnic_minority_members: Mapped[int] = mapped_column(default=0)
    charter_capital: Mapped[Decimal] = mapped_column(Money)
    contact_name: Mapped[str] = mapped_column(String(120))
    contact_phone: Mapped[str] = mapped_column(String(20))
    contact_email: Mapped[str] = mapped_column(String(255))
    #: Verification status; changed only by ``services.cooperatives``.
    status: Mapped[CooperativeStatus] = mapped_column(
        enum_column_type(CooperativeStatus, "cooperative_status"),
        default=CooperativeStatus.PENDING,
        index=True,
    )
    #: Why staff rejected or suspended it (shown to the representative).
    status_reason: Mapped[Optional[str]] = mapped_column(Text)
    verified_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", use_alter=True))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    representatives: Mapped[list[User]] = relationship(
        back_populates="cooperative", foreign_keys="User.cooperative_id"
    )

    def __repr__(self) -> str:
        return f"<Cooperative {self.id} {self.name!r} {self.status.value}>"
