"""Post-disbursement inspections, their photos and follow-ups, and recalls of loans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loanfund.models.base import Base
from loanfund.models.types import Money, UTCDateTime, utcnow


class Inspection(Base):
    """A visit to a borrower: planned (with its due date and inspector), then done (the
    minutes) or cancelled. What the inspector typed before submitting is kept as a draft."""

    __tablename__ = "inspection"
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'done', 'cancelled')", name="status"),
        CheckConstraint("kind IN ('first', 'periodic', 'ad_hoc')", name="kind"),
        CheckConstraint(
            "verdict IS NULL OR verdict IN ('compliant', 'concerns', 'misuse')", name="verdict"
        ),
        CheckConstraint("funds_use IS NULL OR funds_use IN ('fully', 'partly', 'not')", name="use"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="planned", index=True)
    due_on: Mapped[dt.date] = mapped_column(index=True)
    #: The disbursement a first inspection follows.
    tranche_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tranche.id"), unique=True)
    inspector_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    planned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The typed form before it is submitted (field → text), so nothing is lost.
    draft: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    visited_on: Mapped[Optional[dt.date]] = mapped_column()
    people_met: Mapped[str] = mapped_column(Text, default="")
    signatory: Mapped[str] = mapped_column(String(200), default="")
    funds_use: Mapped[Optional[str]] = mapped_column(String(16))
    amount_verified: Mapped[Optional[Decimal]] = mapped_column(Money)
    progress_pct: Mapped[Optional[int]] = mapped_column()
    business_status: Mapped[str] = mapped_column(Text, default="")
    collateral_condition: Mapped[str] = mapped_column(Text, default="")
    risks: Mapped[str] = mapped_column(Text, default="")
    #: For staff only; not on the minutes the cooperative sees.
    internal_note: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[Optional[str]] = mapped_column(String(16))
    submitted_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)

    photos: Mapped[list[InspectionPhoto]] = relationship(
        order_by="InspectionPhoto.id", back_populates="inspection"
    )
    follow_ups: Mapped[list[FollowUp]] = relationship(
        order_by="FollowUp.id", back_populates="inspection"
    )


class InspectionPhoto(Base):
    """A photo taken at a visit, stored re-encoded without its metadata; the time and place
    the camera recorded are kept here as evidence."""

    __tablename__ = "inspection_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    store_key: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    size_bytes: Mapped[int] = mapped_column()
    original_name: Mapped[str] = mapped_column(String(200), default="")
    taken_at: Mapped[str] = mapped_column(String(40), default="")
    gps_latitude: Mapped[str] = mapped_column(String(32), default="")
    gps_longitude: Mapped[str] = mapped_column(String(32), default="")
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="photos")


class FollowUp(Base):
    """An action a visit asked for: what, by whom, by when; done or open."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    action: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(index=True)
    done_on: Mapped[Optional[dt.date]] = mapped_column()
    done_note: Mapped[str] = mapped_column(Text, default="")

    inspection: Mapped[Inspection] = relationship(back_populates="follow_ups")


class Recall(Base):
    """Recalling a loan (misuse): proposed by the loan's officer, decided by an approver. On
    approval all outstanding principal falls due on the recall date."""

    __tablename__ = "recall"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected', 'withdrawn')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    inspection_id: Mapped[Optional[int]] = mapped_column(ForeignKey("inspection.id"))
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    reason: Mapped[str] = mapped_column(Text)
    proposed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_on: Mapped[Optional[dt.date]] = mapped_column()
    decision_note: Mapped[str] = mapped_column(Text, default="")
    recall_on: Mapped[Optional[dt.date]] = mapped_column()
    deadline_on: Mapped[Optional[dt.date]] = mapped_column()
    principal_recalled: Mapped[Optional[Decimal]] = mapped_column(Money)
    interest_recalled: Mapped[Optional[Decimal]] = mapped_column(Money)
    schedule_version_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("schedule_version.id"), unique=True
    )
