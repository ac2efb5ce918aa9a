"""The figures of the fund's dashboard (issue: Excel ledgers, reports and the dashboard).

One function gathers them for the page, for ``loanfund report position --json`` and for the
tests, so the three can never disagree. Every figure comes from the books, the daily close's
snapshots or the business tables; nothing is estimated here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from loanfund.domain.applications import ApplicationStatus
from loanfund.domain.ledger import FundPosition
from loanfund.domain.loans import LoanStatus, TrancheStatus
from loanfund.domain.policy import Policy
from loanfund.models import Cooperative, LoanApplication, PortfolioSnapshot, Repayment, Tranche
from loanfund.models import Loan as LoanModel
from loanfund.queries.applications import count_by_status as applications_by_status
from loanfund.queries.applications import queue
from loanfund.queries.inspections import InspectionFigures
from loanfund.queries.inspections import figures as inspection_figures
from loanfund.queries.ledger import fund_position
from loanfund.queries.loans import MonthInflow, expected_inflows

#: Applications whose amount is asked for but not yet decided: the pipeline behind the
#: approved-undisbursed commitments.
APPLIED_FOR = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.IN_APPRAISAL,
    ApplicationStatus.INFO_REQUESTED,
    ApplicationStatus.APPRAISED,
)

#: Loans whose borrowers count as financed (money out, not yet repaid or written off).
FINANCED = (LoanStatus.ACTIVE, LoanStatus.RECALLED)


@dataclass(frozen=True, slots=True)
class MonthFlow:
    year: int
    month: int
    disbursed: Decimal
    collected: Decimal


@dataclass(frozen=True, slots=True)
class QualityPoint:
    """The portfolio at the last close of a month."""

    business_date: dt.date
    outstanding: Decimal
    par30_pct: Decimal
    par90_pct: Decimal
    bad_debt_pct: Decimal


@dataclass(frozen=True, slots=True)
class Impact:
    cooperatives: int
    members: int
    women_members: int
    ethnic_minority_members: int
    jobs_created: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    as_of: dt.date
    position: FundPosition
    inflows: list[MonthInflow]
    applied_for: Decimal
    applied_for_count: int
    snapshot: PortfolioSnapshot | None
    quality: list[QualityPoint]
    flows: list[MonthFlow]
    applications: dict[str, int]
    decisions_overdue: int
    inspections: InspectionFigures
    impact: Impact

    @property
    def inflows_total(self) -> Decimal:
        return sum((month.total for month in self.inflows), Decimal(0))

    @property
    def pipeline(self) -> Decimal:
        """What the fund may be asked to pay out: approved-undisbursed plus applied-for."""
        return self.position.commitments + self.applied_for

    @property
    def revolving_gap(self) -> Decimal:
        """Cash plus the next twelve months' expected inflows, less the pipeline and the
        reserve: what would be left if every pending request were granted (negative: short)."""
        return self.position.cash + self.inflows_total - self.pipeline - self.position.reserve


def _months_back(as_of: dt.date, months: int) -> list[tuple[int, int]]:
    """The ``months`` calendar months ending with ``as_of``'s, oldest first."""
    year, month = as_of.year, as_of.month
    slots = []
    for _ in range(months):
        slots.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return slots[::-1]


def month_flows(session: Session, *, as_of: dt.date, months: int = 12) -> list[MonthFlow]:
    """Money paid out in tranches and received from borrowers (receipts that stand), by
    calendar month, for the ``months`` months ending with ``as_of``'s month (up to ``as_of``)."""
    slots = _months_back(as_of, months)
    start = dt.date(slots[0][0], slots[0][1], 1)

    def by_month(amount: Any, day: Any, *conditions: Any) -> dict[tuple[int, int], Decimal]:
        year, month = extract("year", day), extract("month", day)
        rows = session.execute(
            select(year, month, func.sum(amount))
            .where(day >= start, day <= as_of, *conditions)
            .group_by(year, month)
        ).all()
        # The sum comes back in minor units typed by the column: read it through the type.
        return {(int(y), int(m)): Decimal(total or 0) for y, m, total in rows}

    paid = by_month(Tranche.amount, Tranche.value_date, Tranche.status == TrancheStatus.PAID)
    received = by_month(Repayment.amount, Repayment.received_on, Repayment.status == "posted")
    return [
        MonthFlow(y, m, paid.get((y, m), Decimal(0)), received.get((y, m), Decimal(0)))
        for y, m in slots
    ]


def quality_series(session: Session, *, as_of: dt.date, months: int = 12) -> list[QualityPoint]:
    """PAR30, PAR90 and the bad-debt share at each month's last close, for ``months`` months."""
    slots = _months_back(as_of, months)
    start = dt.date(slots[0][0], slots[0][1], 1)
    last_of_month = (
        select(func.max(PortfolioSnapshot.business_date))
        .where(PortfolioSnapshot.business_date >= start, PortfolioSnapshot.business_date <= as_of)
        .group_by(
            extract("year", PortfolioSnapshot.business_date),
            extract("month", PortfolioSnapshot.business_date),
        )
    )
    snapshots = session.scalars(
        select(PortfolioSnapshot)
        .where(PortfolioSnapshot.business_date.in_(last_of_month))
        .order_by(PortfolioSnapshot.business_date)
    )
    return [
        QualityPoint(s.business_date, s.outstanding, s.par30_pct, s.par90_pct, s.bad_debt_pct)
        for s in snapshots
    ]


def impact(session: Session) -> Impact:
    """The cooperatives the fund finances now (a loan out), each counted once, their members,
    and the jobs their financed projects create."""
    financed = (
        select(LoanApplication.cooperative_id)
        .join(LoanModel, LoanModel.application_id == LoanApplication.id)
        .where(LoanModel.status.in_(FINANCED))
    )
    members = session.execute(
        select(
            func.count(Cooperative.id),
            func.coalesce(func.sum(Cooperative.members_count), 0),
            func.coalesce(func.sum(Cooperative.women_members), 0),
            func.coalesce(func.sum(Cooperative.ethnic_minority_members), 0),
        ).where(Cooperative.id.in_(financed))
    ).one()
    jobs = session.scalar(
        select(func.coalesce(func.sum(LoanApplication.jobs_created), 0))
        .join(LoanModel, LoanModel.application_id == LoanApplication.id)
        .where(LoanModel.status.in_(FINANCED))
    )
    return Impact(int(members[0]), int(members[1]), int(members[2]), int(members[3]), int(jobs))


def dashboard(session: Session, *, as_of: dt.date, policy: Policy) -> Dashboard:
    applied = session.execute(
        select(func.count(LoanApplication.id), func.sum(LoanApplication.amount)).where(
            LoanApplication.status.in_(APPLIED_FOR)
        )
    ).one()
    snapshot = session.scalar(
        select(PortfolioSnapshot)
        .where(PortfolioSnapshot.business_date <= as_of)
        .order_by(PortfolioSnapshot.business_date.desc())
        .limit(1)
    )
    return Dashboard(
        as_of=as_of,
        position=fund_position(session, as_of=as_of, reserve=policy.min_liquidity_reserve),
        inflows=expected_inflows(session, today=as_of),
        applied_for=Decimal(applied[1] or 0),
        applied_for_count=int(applied[0]),
        snapshot=snapshot,
        quality=quality_series(session, as_of=as_of),
        flows=month_flows(session, as_of=as_of),
        applications=applications_by_status(session),
        # Only the late ones: the decision times of every application ever decided are the
        # report's (``loanfund report``), not a figure to work out on every page view.
        decisions_overdue=len(
            queue(session, name="overdue", user_id=None, today=as_of, policy=policy)
        ),
        inspections=inspection_figures(session, today=as_of),
        impact=impact(session),
    )


def as_json(board: Dashboard) -> dict[str, Any]:
    """The dashboard as plain JSON values (amounts as strings of whole units)."""

    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    position = board.position
    snapshot = board.snapshot
    return {
        "position": {
            "cash": text(position.cash),
            "outstanding": text(position.loans_outstanding),
            "committed": text(position.commitments),
            "reserve": text(position.reserve),
            "available_to_lend": text(position.available_to_lend),
            "capital_turnover": text(position.capital_turnover),
            "expected_inflows_12_months": text(board.inflows_total),
            "applied_for": text(board.applied_for),
            "applied_for_count": board.applied_for_count,
            "pipeline": text(board.pipeline),
            "revolving_gap": text(board.revolving_gap),
        },
        "inflows": [
            {
                "month": f"{m.year}-{m.month:02d}",
                "principal": text(m.principal),
                "interest": text(m.interest),
            }
            for m in board.inflows
        ],
        "quality": None
        if snapshot is None
        else {
            "closed_on": snapshot.business_date.isoformat(),
            "outstanding_by_group": {g: text(v) for g, v in snapshot.outstanding_by_group.items()},
            "loans_by_group": dict(snapshot.count_by_group),
            "par30_pct": text(snapshot.par30_pct),
            "par90_pct": text(snapshot.par90_pct),
            "bad_debt_pct": text(snapshot.bad_debt_pct),
            "provisions": text(snapshot.specific_provision + snapshot.general_provision),
        },
        "quality_by_month": [
            {
                "closed_on": point.business_date.isoformat(),
                "par30_pct": text(point.par30_pct),
                "par90_pct": text(point.par90_pct),
                "bad_debt_pct": text(point.bad_debt_pct),
            }
            for point in board.quality
        ],
        "activity": {
            "by_month": [
                {
                    "month": f"{f.year}-{f.month:02d}",
                    "disbursed": text(f.disbursed),
                    "collected": text(f.collected),
                }
                for f in board.flows
            ],
            "applications_by_status": board.applications,
            "decisions_overdue": board.decisions_overdue,
            "inspections_done": board.inspections.done,
            "inspections_overdue": board.inspections.overdue_visits,
            "inspections_on_time_pct": text(board.inspections.on_time_pct),
            "purpose_verified_pct": text(board.inspections.purpose_verified_pct),
        },
        "impact": {
            "cooperatives": board.impact.cooperatives,
            "members": board.impact.members,
            "women_members": board.impact.women_members,
            "ethnic_minority_members": board.impact.ethnic_minority_members,
            "jobs_created": board.impact.jobs_created,
        },
    }


@dataclass(frozen=True, slots=True)
class CooperativeFigures:
    """A cooperative's own figures, for its representatives' home page."""

    loans: int
    outstanding: Decimal
    next_due_on: dt.date | None
    next_due_amount: Decimal
    applications_in_progress: int


def cooperative_figures(
    session: Session, cooperative_id: int, *, as_of: dt.date
) -> CooperativeFigures:
    """The cooperative's loans out, the principal it owes, its next scheduled installment (as
    scheduled; the loan page shows what is left of it after payments) and its applications
    awaiting a decision."""
    from loanfund.models import ScheduleVersion
    from loanfund.queries.loans import loans_money

    loans = list(
        session.scalars(
            select(LoanModel)
            .join(LoanApplication, LoanModel.application_id == LoanApplication.id)
            .where(LoanApplication.cooperative_id == cooperative_id, LoanModel.status.in_(FINANCED))
        )
    )
    money = loans_money(session, loans)
    latest = (
        select(ScheduleVersion.loan_id, func.max(ScheduleVersion.version).label("version"))
        .where(ScheduleVersion.loan_id.in_([loan.id for loan in loans]))
        .group_by(ScheduleVersion.loan_id)
        .subquery()
    )
    versions = session.scalars(
        select(ScheduleVersion).join(
            latest,
            (ScheduleVersion.loan_id == latest.c.loan_id)
            & (ScheduleVersion.version == latest.c.version),
        )
    )
    next_on: dt.date | None = None
    next_amount = Decimal(0)
    for version in versions:  # one query for all the cooperative's loans
        for row in version.installments["installments"]:
            due_on = dt.date.fromisoformat(row["due_on"])
            if due_on < as_of:
                continue
            amount = Decimal(row["principal"]) + Decimal(row["interest"])
            if next_on is None or due_on < next_on:
                next_on, next_amount = due_on, amount
            elif due_on == next_on:
                next_amount += amount
            break
    in_progress = session.scalar(
        select(func.count(LoanApplication.id)).where(
            LoanApplication.cooperative_id == cooperative_id,
            LoanApplication.status.in_(APPLIED_FOR),
        )
    )
    return CooperativeFigures(
        loans=len(loans),
        outstanding=sum((m.outstanding for m in money.values()), Decimal(0)),
        next_due_on=next_on,
        next_due_amount=next_amount,
        applications_in_progress=int(in_progress or 0),
    )
