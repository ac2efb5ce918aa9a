"""Reading loans: their money from the journal, tranches, schedules, exposure, commitments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from loanfund.domain.applications import ApplicationStatus
from loanfund.domain.ledger import Account
from loanfund.domain.loans import LoanStatus, TrancheStatus
from loanfund.models import (
    Cooperative,
    DebtGroupChange,
    JournalEntry,
    JournalLine,
    LoanApplication,
    PortfolioSnapshot,
    Recall,
    Repayment,
    Restructuring,
    Tranche,
)
from loanfund.models import Loan as LoanModel
from loanfund.models.types import Money

#: Loans whose approved amount still counts against the fund (until closed or written off).
OPEN_LOANS = (LoanStatus.APPROVED, LoanStatus.CONTRACTED, LoanStatus.ACTIVE, LoanStatus.RECALLED)


def _zero_sum(column):  # type: ignore[no-untyped-def]
    return func.coalesce(func.sum(column), 0, type_=Money())


def principal_by_loan(session: Session, loan_ids: list[int] | None = None) -> dict[int, Decimal]:
    """Each loan's principal outstanding: its loans-receivable debits less credits."""
    query = (
        select(JournalEntry.loan_id, _zero_sum(JournalLine.debit), _zero_sum(JournalLine.credit))
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.account == Account.LOANS_RECEIVABLE, JournalEntry.loan_id.is_not(None))
        .group_by(JournalEntry.loan_id)
    )
    if loan_ids is not None:
        query = query.where(JournalEntry.loan_id.in_(loan_ids))
    return {loan_id: debit - credit for loan_id, debit, credit in session.execute(query)}


def paid_by_loan(session: Session, loan_ids: list[int] | None = None) -> dict[int, Decimal]:
    """What each loan has had disbursed (its paid tranches)."""
    query = (
        select(Tranche.loan_id, _zero_sum(Tranche.amount))
        .where(Tranche.status == TrancheStatus.PAID)
        .group_by(Tranche.loan_id)
    )
    if loan_ids is not None:
        query = query.where(Tranche.loan_id.in_(loan_ids))
    return dict(session.execute(query).all())


@dataclass(frozen=True, slots=True)
class LoanMoney:
    disbursed: Decimal
    outstanding: Decimal
    undisbursed: Decimal


def loans_money(session: Session, loans: list[LoanModel]) -> dict[int, LoanMoney]:
    """Each loan's money, in one query whatever the number of loans. The principal
    outstanding is the loan's balance on loans receivable, which every posting keeps on the
    loan (``Loan.receivable``): summing its journal lines would read millions of them."""
    paid = paid_by_loan(session, [loan.id for loan in loans])
    money = {}
    for loan in loans:
        disbursed = paid.get(loan.id, Decimal(0))
        undisbursed = loan.amount - disbursed if loan.status in OPEN_LOANS else Decimal(0)
        money[loan.id] = LoanMoney(disbursed, loan.receivable, undisbursed)
    return money


def loan_money(session: Session, loan: LoanModel) -> LoanMoney:
    return loans_money(session, [loan])[loan.id]


def _approved_without_loan(session: Session, cooperative_ids: set[int] | None) -> Decimal:
    query = select(_zero_sum(LoanApplication.approved_amount)).where(
        LoanApplication.status == ApplicationStatus.APPROVED,
        ~select(LoanModel.id).where(LoanModel.application_id == LoanApplication.id).exists(),
    )
    if cooperative_ids is not None:
        query = query.where(LoanApplication.cooperative_id.in_(cooperative_ids))
    return session.scalar(query) or Decimal(0)


def _open_loans(session: Session, cooperative_ids: set[int] | None) -> list[LoanModel]:
    query = select(LoanModel).where(LoanModel.status.in_(OPEN_LOANS))
    if cooperative_ids is not None:
        query = query.where(LoanModel.cooperative_id.in_(cooperative_ids))
    return list(session.scalars(query))


def exposure(
    session: Session,
    cooperative_ids: set[int],
    *,
    exclude_application_id: int | None = None,
    exclude_loan_id: int | None = None,
) -> Decimal:
    """What these cooperatives owe the fund or have been promised: principal outstanding,
    approved amounts not yet disbursed, and approved applications not yet made into loans."""
    if not cooperative_ids:
        return Decimal(0)
    total = Decimal(0)
    query = select(_zero_sum(LoanApplication.approved_amount)).where(
        LoanApplication.status == ApplicationStatus.APPROVED,
        LoanApplication.cooperative_id.in_(cooperative_ids),
        ~select(LoanModel.id).where(LoanModel.application_id == LoanApplication.id).exists(),
    )
    if exclude_application_id is not None:
        query = query.where(LoanApplication.id != exclude_application_id)
    total += session.scalar(query) or Decimal(0)
    loans = [
        loan
        for loan in _open_loans(session, cooperative_ids)
        if loan.id != exclude_loan_id and loan.application_id != exclude_application_id
    ]
    paid = paid_by_loan(session, [loan.id for loan in loans])
    for loan in loans:
        total += loan.receivable + loan.amount - paid.get(loan.id, Decimal(0))
    return total


def commitments(session: Session, *, exclude_loan_id: int | None = None) -> Decimal:
    """Approved but not yet disbursed, over all borrowers (DESIGN §4)."""
    # Summed in SQL (the open loans' amounts less their paid tranches): a large book is not
    # read loan by loan.
    open_loans = LoanModel.status.in_(OPEN_LOANS)
    if exclude_loan_id is not None:
        open_loans = open_loans & (LoanModel.id != exclude_loan_id)
    approved = session.scalar(select(_zero_sum(LoanModel.amount)).where(open_loans))
    paid = session.scalar(
        select(_zero_sum(Tranche.amount))
        .join(LoanModel, LoanModel.id == Tranche.loan_id)
        .where(Tranche.status == TrancheStatus.PAID, open_loans)
    )
    undisbursed = (approved or Decimal(0)) - (paid or Decimal(0))
    return undisbursed + _approved_without_loan(session, None)


def count_by_status(session: Session) -> dict[str, int]:
    counts = dict(
        session.execute(select(LoanModel.status, func.count()).group_by(LoanModel.status)).all()
    )
    return {status.value: counts.get(status, 0) for status in LoanStatus}


def list_loans(session: Session, *, cooperative_id: int | None = None) -> list[LoanModel]:
    query = select(LoanModel).order_by(LoanModel.id.desc())
    if cooperative_id is not None:
        query = query.where(LoanModel.cooperative_id == cooperative_id)
    return list(session.scalars(query))


def loan_of_application(session: Session, application_id: int) -> LoanModel | None:
    return session.scalar(select(LoanModel).where(LoanModel.application_id == application_id))


def entries_of(session: Session, loan_id: int) -> list[JournalEntry]:
    return list(
        session.scalars(
            select(JournalEntry)
            .where(JournalEntry.loan_id == loan_id)
            .order_by(JournalEntry.value_date, JournalEntry.id)
        )
    )


@dataclass(frozen=True, slots=True)
class MonthInflow:
    year: int
    month: int
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


DayInflows = dict[str, list[Decimal]]


def add_installments(
    days: DayInflows, installments: dict[str, Any], first: str, until: str, sign: int = 1
) -> None:
    """Add (``sign`` 1) or take away (-1) the principal and interest of a schedule version's
    installments due from ``first`` to ``until`` (excluded; ISO dates) into ``days``.

    ISO dates compare as text: only the installments inside the window are read as numbers
    (a book of 100,000 loans holds millions of installments, most of them outside it)."""
    for row in installments["installments"]:
        due_on = row["due_on"]
        if first <= due_on < until:
            held = days.setdefault(due_on, [Decimal(0), Decimal(0)])
            held[0] += sign * Decimal(row["principal"])
            held[1] += sign * Decimal(row["interest"])


def latest_versions(session: Session, *conditions: Any) -> Any:
    """``(loan id, schedule version id, installments)`` of each loan's current schedule
    version, for the loans that meet ``conditions``."""
    from loanfund.models import ScheduleVersion

    # The version no other of the same loan is newer than: one probe of the (loan, version)
    # index per loan read, not every loan's newest worked out before the loans are chosen.
    newer = aliased(ScheduleVersion)
    return session.execute(
        select(ScheduleVersion.loan_id, ScheduleVersion.id, ScheduleVersion.installments)
        .join(LoanModel, LoanModel.id == ScheduleVersion.loan_id)
        .where(
            *conditions,
            ~select(newer.id)
            .where(
                newer.loan_id == ScheduleVersion.loan_id, newer.version > ScheduleVersion.version
            )
            .exists(),
        )
    )


#: Ids named in one statement (PostgreSQL takes at most 65,535 parameters).
_IDS_PER_STATEMENT = 10_000


def _slices(ids: list[int]) -> Iterator[list[int]]:
    """``ids`` a statement's worth at a time; one (empty) slice when there are none, so the
    statements run do not depend on the data."""
    for start in range(0, max(len(ids), 1), _IDS_PER_STATEMENT):
        yield ids[start : start + _IDS_PER_STATEMENT]


def changed_since_forecast(
    session: Session, through_version_id: int
) -> list[tuple[int, int | None, int | None, dict[str, Any] | None, dict[str, Any] | None]]:
    """The loans the latest forecast no longer counts right: a schedule version newer than it,
    active and not counted, or counted and no longer active. For each: its id, the version
    counted and the one to count now (``None``: none), and both versions' installments."""
    from loanfund.models import ScheduleVersion

    newer = select(ScheduleVersion.loan_id).where(ScheduleVersion.id > through_version_id)
    others = [status for status in LoanStatus if status is not LoanStatus.ACTIVE]
    changed_loans = (
        LoanModel.id.in_(newer)
        | ((LoanModel.status == LoanStatus.ACTIVE) & LoanModel.inflow_version_id.is_(None))
        | (LoanModel.status.in_(others) & LoanModel.inflow_version_id.is_not(None))
    )
    loans = session.execute(
        select(LoanModel.id, LoanModel.status, LoanModel.inflow_version_id).where(changed_loans)
    ).all()
    # Their versions are read by id, a slice at a time: after a bulk load every active loan may
    # have changed, more than one statement may carry as parameters. One statement each when
    # none or few changed, so a page's statement count does not depend on the data.
    ids = [loan_id for loan_id, _status, _counted in loans]
    counted_ids = [counted for _id, _status, counted in loans if counted is not None]
    current: dict[int, tuple[int, Any]] = {}
    counted: dict[int, Any] = {}
    for some in _slices(ids):
        for loan_id, version_id, installments in latest_versions(
            session, LoanModel.id.in_(some), LoanModel.status == LoanStatus.ACTIVE
        ):
            current[loan_id] = (version_id, installments)
    for some in _slices(counted_ids):
        counted.update(
            session.execute(
                select(ScheduleVersion.id, ScheduleVersion.installments).where(
                    ScheduleVersion.id.in_(some)
                )
            ).all()
        )
    changed = []
    for loan_id, _status, counted_id in loans:
        now_id, now = current.get(loan_id, (None, None))
        if now_id != counted_id:
            changed.append(
                (loan_id, counted_id, now_id, counted.get(counted_id) if counted_id else None, now)
            )
    return changed


def latest_forecast(session: Session) -> Any:
    """The daily close's latest inflow forecast (``None`` before the first)."""
    from loanfund.models import InflowForecast

    return session.scalar(
        select(InflowForecast).order_by(InflowForecast.business_date.desc()).limit(1)
    )


def forecast_brought_up(
    session: Session, forecast: Any, start: str, end: str
) -> tuple[DayInflows, list[tuple[int, int | None, int | None, Any, Any]]]:
    """A forecast's days from ``start`` to ``end`` (ISO dates, end excluded) with the loans
    changed since it recounted on top: each one's counted version taken away, its current one
    added. Returns the days and those loans (see :func:`changed_since_forecast`)."""
    days: DayInflows = {}
    for day, (principal, interest) in forecast.days.items():
        if start <= day < end:
            days[day] = [Decimal(principal), Decimal(interest)]
    changed = changed_since_forecast(session, forecast.through_version_id)
    for _loan_id, _was, _now, counted, current in changed:
        if counted is not None:
            add_installments(days, counted, start, end, sign=-1)
        if current is not None:
            add_installments(days, current, start, end)
    return days, changed


def inflow_days(session: Session, *, first: dt.date, until: dt.date) -> DayInflows:
    """Principal and interest of the active loans' current schedules falling due each day
    from ``first`` to ``until`` (excluded): the latest forecast of the daily close with the
    loans changed since on top, or, without a forecast from that day or before, every active
    loan's schedule."""
    start, end = first.isoformat(), until.isoformat()
    forecast = latest_forecast(session)
    if forecast is not None and forecast.business_date <= first:
        return forecast_brought_up(session, forecast, start, end)[0]
    days: DayInflows = {}
    for _loan_id, _version_id, installments in latest_versions(
        session, LoanModel.status == LoanStatus.ACTIVE
    ):
        add_installments(days, installments, start, end)
    return days


def month_after(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def expected_inflows(session: Session, *, today: dt.date, months: int = 12) -> list[MonthInflow]:
    """What the open schedules bring back, month by month, from this month on (the liquidity
    forecast of DESIGN §4): the installments of each active loan's current schedule version
    that fall due from today. Repayments are not recorded yet, so nothing is deducted."""
    totals = {
        (start.year, start.month): [Decimal(0), Decimal(0)]
        for start in (month_after(today, step) for step in range(months))
    }
    for day, (principal, interest) in inflow_days(
        session, first=today, until=month_after(today, months)
    ).items():
        slot = totals[(int(day[:4]), int(day[5:7]))]
        slot[0] += principal
        slot[1] += interest
    return [MonthInflow(y, m, p, i) for (y, m), (p, i) in totals.items()]


@dataclass(frozen=True, slots=True)
class Awaiting:
    """Something on a loan that waits for a second person's decision."""

    loan_id: int
    contract_no: str
    cooperative: str
    what: str  # ``tranche``, ``reversal`` or ``restructuring``
    item_id: int
    amount: Decimal | None
    requested_by_id: int | None


def awaiting_decision(session: Session) -> list[Awaiting]:
    """Tranches to approve, reversals to approve and restructurings to decide, oldest first."""

    def rows(model, what, amount, who, where):  # type: ignore[no-untyped-def]
        query = (
            select(LoanModel.id, LoanModel.contract_no, Cooperative.name, model.id, amount, who)
            .join(LoanModel, LoanModel.id == model.loan_id)
            .join(Cooperative, Cooperative.id == LoanModel.cooperative_id)
            .where(where)
            .order_by(model.id)
        )
        return [
            Awaiting(row[0], row[1], row[2], what, row[3], row[4], row[5])
            for row in session.execute(query)
        ]

    return [
        *rows(
            Tranche,
            "tranche",
            Tranche.amount,
            Tranche.requested_by_id,
            Tranche.status == TrancheStatus.REQUESTED,
        ),
        *rows(
            Repayment,
            "reversal",
            Repayment.amount,
            Repayment.reversal_requested_by_id,
            (Repayment.status == "posted") & Repayment.reversal_requested_by_id.is_not(None),
        ),
        *rows(
            Recall,
            "recall",
            None,
            Recall.proposed_by_id,
            Recall.status == "proposed",
        ),
        *rows(
            Restructuring,
            "restructuring",
            None,
            Restructuring.proposed_by_id,
            Restructuring.status == "proposed",
        ),
    ]


def latest_snapshot(session: Session) -> PortfolioSnapshot | None:
    """The portfolio at the last daily close (None before the first)."""
    return session.scalar(
        select(PortfolioSnapshot).order_by(PortfolioSnapshot.business_date.desc()).limit(1)
    )


def group_changes(session: Session, loan_id: int) -> list[DebtGroupChange]:
    """The loan's debt-group changes, oldest first."""
    return list(
        session.scalars(
            select(DebtGroupChange)
            .where(DebtGroupChange.loan_id == loan_id)
            .order_by(DebtGroupChange.business_date, DebtGroupChange.id)
        )
    )
