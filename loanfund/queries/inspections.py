"""Reading inspections: an inspector's list, a loan's visits, and the fund's figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from loanfund.domain.money import MONEY_CONTEXT, round_money
from loanfund.models import Cooperative, FollowUp, Inspection, Loan, Recall


@dataclass(frozen=True, slots=True)
class VisitRow:
    inspection: Inspection
    contract_no: str
    cooperative: Cooperative
    overdue: bool


def visits(
    session: Session,
    *,
    today: dt.date,
    status: str = "planned",
    inspector_id: int | None = None,
    within_days: int | None = None,
    limit: int = 300,
) -> list[VisitRow]:
    """Visits by status, soonest due first (the done ones latest first), with the borrower's
    address and contact; ``inspector_id``: that inspector's and the unassigned ones."""
    query = (
        select(Inspection, Loan.contract_no, Cooperative)
        .join(Loan, Loan.id == Inspection.loan_id)
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .where(Inspection.status == status)
    )
    if inspector_id is not None:
        query = query.where(
            (Inspection.inspector_id == inspector_id) | Inspection.inspector_id.is_(None)
        )
    if within_days is not None:
        query = query.where(Inspection.due_on <= today + dt.timedelta(days=within_days))
    order = (
        (Inspection.visited_on.desc(), Inspection.id.desc())
        if status == "done"
        else (Inspection.due_on, Inspection.id)
    )
    return [
        VisitRow(
            inspection, contract_no, cooperative, status == "planned" and inspection.due_on < today
        )
        for inspection, contract_no, cooperative in session.execute(
            query.order_by(*order).limit(limit)
        )
    ]


def of_loan(session: Session, loan_id: int) -> list[Inspection]:
    return list(
        session.scalars(
            select(Inspection)
            .where(Inspection.loan_id == loan_id)
            .order_by(Inspection.due_on.desc(), Inspection.id.desc())
        )
    )


def recalls_of(session: Session, loan_id: int) -> list[Recall]:
    return list(
        session.scalars(select(Recall).where(Recall.loan_id == loan_id).order_by(Recall.id.desc()))
    )


def open_follow_ups(session: Session, *, loan_id: int | None = None) -> list[FollowUp]:
    query = select(FollowUp).where(FollowUp.done_on.is_(None)).order_by(FollowUp.due_on)
    if loan_id is not None:
        query = query.where(FollowUp.loan_id == loan_id)
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class InspectionFigures:
    """The fund's inspection figures (percentages to 2 decimals; None with nothing to count).

    Attributes:
        done: visits recorded; on_time_pct: of them, the share made by their due date.
        loans_inspected: loans with at least one recorded visit; purpose_verified_pct: of them,
            the share whose last visit found the funds fully used for the stated purpose.
        open_follow_ups / overdue_follow_ups: actions not done, and those past their date.
        overdue_visits: planned visits past their due date.
    """

    done: int
    on_time_pct: Decimal | None
    loans_inspected: int
    purpose_verified_pct: Decimal | None
    open_follow_ups: int
    overdue_follow_ups: int
    overdue_visits: int


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return round_money(MONEY_CONTEXT.divide(Decimal(part * 100), Decimal(whole)), 2)


def figures(session: Session, *, today: dt.date) -> InspectionFigures:
    # Counted in SQL: a large fund has done hundreds of thousands of visits.
    done, on_time = session.execute(
        select(
            func.count(Inspection.id),
            func.coalesce(
                func.sum(case((Inspection.visited_on <= Inspection.due_on, 1), else_=0)), 0
            ),
        ).where(Inspection.status == "done")
    ).one()
    # Each loan's last visit done (the latest date, then the latest recorded): was the money
    # used as stated?
    latest = (
        select(
            Inspection.funds_use,
            func.row_number()
            .over(
                partition_by=Inspection.loan_id,
                order_by=(Inspection.visited_on.desc(), Inspection.id.desc()),
            )
            .label("rank"),
        )
        .where(Inspection.status == "done")
        .subquery()
    )
    inspected, verified = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((latest.c.funds_use == "fully", 1), else_=0)), 0),
        ).where(latest.c.rank == 1)
    ).one()
    open_count = session.scalar(select(func.count(FollowUp.id)).where(FollowUp.done_on.is_(None)))
    overdue_follow = session.scalar(
        select(func.count(FollowUp.id)).where(FollowUp.done_on.is_(None), FollowUp.due_on < today)
    )
    overdue_visits = session.scalar(
        select(func.count(Inspection.id)).where(
            Inspection.status == "planned", Inspection.due_on < today
        )
    )
    return InspectionFigures(
        done=done,
        on_time_pct=_pct(int(on_time), done),
        loans_inspected=inspected,
        purpose_verified_pct=_pct(int(verified), inspected),
        open_follow_ups=open_count or 0,
        overdue_follow_ups=overdue_follow or 0,
        overdue_visits=overdue_visits or 0,
    )
