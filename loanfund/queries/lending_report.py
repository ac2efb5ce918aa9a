"""What the lending report reads besides the portfolio ledger's rows: whom each loan
finances, the borrowers' profiles, and the visits made in a period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanfund.models import Cooperative, Inspection, Loan, LoanApplication


def loan_profiles(session: Session, loan_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Per loan: its borrower, the borrower's sector and the jobs its project creates."""
    if not loan_ids:
        return {}
    query = (
        select(
            Loan.id,
            Loan.cooperative_id,
            Cooperative.sector,
            LoanApplication.jobs_created,
        )
        .join(LoanApplication, LoanApplication.id == Loan.application_id)
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .where(Loan.id.in_(list(loan_ids)))
    )
    return {
        loan_id: {
            "cooperative_id": cooperative_id,
            "sector": sector.strip(),
            "jobs_created": jobs_created,
        }
        for loan_id, cooperative_id, sector, jobs_created in session.execute(query)
    }


def cooperative_profiles(
    session: Session, cooperative_ids: Collection[int]
) -> dict[int, dict[str, Any]]:
    """Per cooperative: its name, legal type, sector, district and members (as its profile
    says today: the profile keeps no history)."""
    if not cooperative_ids:
        return {}
    query = select(Cooperative).where(Cooperative.id.in_(list(cooperative_ids)))
    return {
        cooperative.id: {
            "name": cooperative.name,
            "legal_type": cooperative.legal_type.value,
            "sector": cooperative.sector.strip(),
            "district": cooperative.district,
            "members": cooperative.members_count,
            "women_members": cooperative.women_members,
            "ethnic_minority_members": cooperative.ethnic_minority_members,
        }
        for cooperative in session.scalars(query)
    }


def visit_rows(session: Session, *, date_from: dt.date, date_to: dt.date) -> list[dict[str, Any]]:
    """Visits made in the period (by visit date), as the inspection register counts them."""
    query = (
        select(
            Inspection.kind,
            Inspection.due_on,
            Inspection.visited_on,
            Inspection.funds_use,
            Inspection.verdict,
            Inspection.amount_verified,
        )
        .where(
            Inspection.status == "done",
            Inspection.visited_on >= date_from,
            Inspection.visited_on <= date_to,
        )
        .order_by(Inspection.visited_on, Inspection.id)
    )
    return [dict(row._mapping) for row in session.execute(query)]
