"""Planning inspections: the first after each disbursement, then periodic ones while a loan is
active (DESIGN §3; the intervals are fund settings). Called in the transaction that pays a
tranche, and by the daily close, which re-plans a loan whose debt group or last verdict
changed its interval. Idempotent: a loan has at most one planned periodic inspection."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
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
    longer active. Returns how many were planned, moved and cancelled."""
    counts = {"planned": 0, "moved": 0, "cancelled": 0}
    gaps = intervals(policy)
    loans = session.execute(
        select(Loan, ScheduleVersion.effective_from)
        .join(
            ScheduleVersion, (ScheduleVersion.loan_id == Loan.id) & (ScheduleVersion.version == 1)
        )
        .order_by(Loan.id)
    ).all()
    for loan, first_disbursed_on in loans:
        planned = session.scalar(
            select(Inspection).where(
                Inspection.loan_id == loan.id,
                Inspection.kind == InspectionKind.PERIODIC,
                Inspection.status == InspectionStatus.PLANNED,
            )
        )
        if loan.status not in (LoanStatus.ACTIVE, LoanStatus.RECALLED):
            if planned is not None:
                planned.status = InspectionStatus.CANCELLED
                counts["cancelled"] += 1
            continue
        last = session.execute(
            select(Inspection.visited_on, Inspection.verdict)
            .where(Inspection.loan_id == loan.id, Inspection.status == InspectionStatus.DONE)
            .order_by(Inspection.visited_on.desc(), Inspection.id.desc())
            .limit(1)
        ).first()
        due = periodic_due(
            first_disbursed_on=first_disbursed_on,
            last_visit_on=last[0] if last else None,
            debt_group=loan.debt_group,
            last_verdict=last[1] if last else None,
            intervals=gaps,
        )
        if planned is None:
            session.add(
                Inspection(
                    loan_id=loan.id,
                    kind=InspectionKind.PERIODIC,
                    status=InspectionStatus.PLANNED,
                    due_on=due,
                    inspector_id=_inspector_of(session, loan.id),
                    draft={},
                )
            )
            counts["planned"] += 1
        elif planned.due_on != due and not planned.draft:
            planned.due_on = due
            counts["moved"] += 1
    return counts


def open_visits_due_by(session: Session, day: dt.date) -> list[Inspection]:
    return list(
        session.scalars(
            select(Inspection)
            .where(Inspection.status == InspectionStatus.PLANNED, Inspection.due_on <= day)
            .order_by(Inspection.due_on, Inspection.id)
        )
    )
