"""Planning inspections: the first after each disbursement, then periodic ones while a loan is
active (DESIGN §3; the intervals are fund settings). Called in the transaction that pays a
tranche, and by the daily close, which re-plans a loan whose debt group or last verdict
changed its interval. Idempotent: a loan has at most one planned periodic inspection."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from loanfund.domain.inspections import (
    InspectionKind,
    InspectionStatus,
    Intervals,
    first_due,
    periodic_due,
)
from loanfund.domain.loans import LoanStatus
from loanfund.domain.policy import Policy
from loanfund.models import Inspection, Loan, ScheduleVersion, Tranche


def intervals(policy: Policy) -> Intervals:
    return Intervals(
        first=policy.first_inspection_days,
        periodic=policy.inspection_interval_days,
        watch=policy.watch_inspection_interval_days,
    )


def _inspector_of(session: Session, loan_id: int) -> int | None:
    """The inspector who visited the loan last, to keep the same person on it."""
    return session.scalar(
        select(Inspection.inspector_id)
        .where(Inspection.loan_id == loan_id, Inspection.inspector_id.is_not(None))
        .order_by(Inspection.id.desc())
        .limit(1)
    )


def plan_first(session: Session, tranche: Tranche, policy: Policy) -> Inspection:
    """The first inspection after ``tranche`` (the caller commits)."""
    inspection = Inspection(
        loan_id=tranche.loan_id,
        kind=InspectionKind.FIRST,
        status=InspectionStatus.PLANNED,
        due_on=first_due(tranche.value_date, intervals(policy)),
        tranche_id=tranche.id,
        inspector_id=_inspector_of(session, tranche.loan_id),
        draft={},
    )
    session.add(inspection)
    return inspection


def plan_periodic(session: Session, policy: Policy) -> dict[str, int]:
    """Plan (or move) each active loan's next periodic inspection; cancel those of loans no
    longer active. Returns how many were planned, moved and cancelled.

    Set-wise, whatever the size of the book: one read of the loans, of the planned periodic
    inspections, of the last visits and of the last inspectors, then the changes written in
    bulk (the daily close runs it over every loan)."""
    counts = {"planned": 0, "moved": 0, "cancelled": 0}
    gaps = intervals(policy)
    loans = session.execute(
        select(Loan.id, Loan.status, Loan.debt_group, ScheduleVersion.effective_from)
        .join(
            ScheduleVersion, (ScheduleVersion.loan_id == Loan.id) & (ScheduleVersion.version == 1)
        )
        .order_by(Loan.id)
    ).all()
    planned = {
        row.loan_id: row
        for row in session.execute(
            select(Inspection.id, Inspection.loan_id, Inspection.due_on, Inspection.draft)
            .where(
                Inspection.kind == InspectionKind.PERIODIC,
                Inspection.status == InspectionStatus.PLANNED,
            )
            .order_by(Inspection.id)
        )
    }
    last_visits: dict[int, tuple[dt.date, str | None]] = {}
    for loan_id, visited_on, verdict in session.execute(
        select(Inspection.loan_id, Inspection.visited_on, Inspection.verdict)
        .where(Inspection.status == InspectionStatus.DONE)
        .order_by(Inspection.loan_id, Inspection.visited_on, Inspection.id)
    ):
        last_visits[loan_id] = (visited_on, verdict)
    inspectors: dict[int, int] = dict(
        session.execute(
            select(Inspection.loan_id, Inspection.inspector_id)
            .where(Inspection.inspector_id.is_not(None))
            .order_by(Inspection.loan_id, Inspection.id)
        ).all()
    )  # the last inspector of each loan (later rows win)
    new: list[dict[str, object]] = []
    moved: list[dict[str, object]] = []
    cancelled: list[dict[str, object]] = []
    for loan in loans:
        plan = planned.get(loan.id)
        if loan.status not in (LoanStatus.ACTIVE, LoanStatus.RECALLED):
            if plan is not None:
                cancelled.append({"id": plan.id, "status": InspectionStatus.CANCELLED})
            continue
        last = last_visits.get(loan.id)
        due = periodic_due(
            first_disbursed_on=loan.effective_from,
            last_visit_on=last[0] if last else None,
            debt_group=loan.debt_group,
            last_verdict=last[1] if last else None,
            intervals=gaps,
        )
        if plan is None:
            new.append(
                {
                    "loan_id": loan.id,
                    "kind": InspectionKind.PERIODIC,
                    "status": InspectionStatus.PLANNED,
                    "due_on": due,
                    "inspector_id": inspectors.get(loan.id),
                    "draft": {},
                }
            )
        elif plan.due_on != due and not plan.draft:
            moved.append({"id": plan.id, "due_on": due})
    session.flush()
    if new:
        session.execute(insert(Inspection), new)
    if moved:
        session.execute(update(Inspection), moved)
    if cancelled:
        session.execute(update(Inspection), cancelled)
    counts.update(planned=len(new), moved=len(moved), cancelled=len(cancelled))
    return counts


def open_visits_due_by(session: Session, day: dt.date) -> list[Inspection]:
    return list(
        session.scalars(
            select(Inspection)
            .where(Inspection.status == InspectionStatus.PLANNED, Inspection.due_on <= day)
            .order_by(Inspection.due_on, Inspection.id)
        )
    )
