"""Reminders, written once per key (what, for whom, for which date) however often the job runs.

* An installment due in 7 days and in 1 day → the cooperative's representatives (an email
  they may turn off; the in-app notice stays).
* A loan overdue for 1 day, then every 7 days while it stays overdue → the representatives
  and the loan's officer.
* An application whose decision date is 2 working days away or less, and again once it is
  passed → the approvers.
* A tranche, a receipt reversal or a restructuring waiting for a second person → the
  approvers (other than the one who asked), each day while it waits.

* A planned inspection due within 3 days, and overdue (day 1, then weekly) → its inspector,
  or every inspector while it is not assigned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loanfund.domain.applications import ApplicationStatus
from loanfund.domain.calendar import working_days_between
from loanfund.domain.classification import days_past_due
from loanfund.domain.loans import LoanStatus
from loanfund.domain.notifications import NON_CRITICAL, NoticeKind
from loanfund.domain.repayments import Component, payoff
from loanfund.models import Cooperative, Inspection, Loan, LoanApplication, ReminderKey, User
from loanfund.queries.applications import decision_due_on
from loanfund.queries.loans import awaiting_decision
from loanfund.services.applications import fund_policy
from loanfund.services.loan_state import replay
from loanfund.services.notifications import EmailRenderer, notify, users_with_role

DUE_SOON_DAYS = (7, 1)
DECISION_SOON_WORKING_DAYS = 2


def _remind(
    session: Session,
    *,
    key: str,
    user: User,
    kind: NoticeKind,
    params: Mapping[str, Any],
    link: str,
    render_email: EmailRenderer | None,
) -> bool:
    """Write the reminder unless its key was written before. Returns whether it was."""
    if not user.active:
        return False
    savepoint = session.begin_nested()
    session.add(ReminderKey(key=key[:200]))
    try:
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        return False
    quiet = user.quiet_emails and kind in NON_CRITICAL
    notify(
        session,
        recipients=[user],
        kind=kind,
        params=params,
        link=link,
        render_email=None if quiet else render_email,
    )
    return True


def _representatives(session: Session, cooperative_id: int) -> list[User]:
    return list(
        session.scalars(select(User).where(User.cooperative_id == cooperative_id).order_by(User.id))
    )


def _loan_reminders(session: Session, today: dt.date, render_email: EmailRenderer | None) -> int:
    written = 0
    loans = session.scalars(
        select(Loan)
        .where(Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.RECALLED)))
        .order_by(Loan.id)
    )
    for loan in loans:
        if not loan.schedules:
            continue
        states, terms = replay(session, loan)
        base = {"number": loan.contract_no, "cooperative": loan.cooperative.name}
        link = f"/loans/{loan.id}"
        reps = _representatives(session, loan.cooperative_id)
        for state in states:
            if state.due.due_on < today or (state.principal_left <= 0 and state.interest_left <= 0):
                continue
            ahead = (state.due.due_on - today).days
            if ahead in DUE_SOON_DAYS:
                left = max(state.principal_left, Decimal(0)) + max(state.interest_left, Decimal(0))
                for user in reps:
                    written += _remind(
                        session,
                        key=f"due{ahead}:{loan.id}:{state.due.due_on}:{user.id}",
                        user=user,
                        kind=NoticeKind.INSTALLMENT_DUE_SOON,
                        params={**base, "amount": str(left), "date": state.due.due_on.isoformat()},
                        link=link,
                        render_email=render_email,
                    )
            break  # only the next installment
        dpd = days_past_due(states, today)
        if dpd >= 1 and (dpd - 1) % 7 == 0:
            owed = payoff(states, terms, today).by_component
            amount = (
                owed[Component.OVERDUE_PRINCIPAL]
                + owed[Component.OVERDUE_INTEREST]
                + owed[Component.PENALTY]
            )
            officer = session.get(User, loan.application.officer_id or loan.created_by_id or 0)
            for user in [*reps, *([officer] if officer else [])]:
                written += _remind(
                    session,
                    key=f"overdue:{loan.id}:{today}:{user.id}",
                    user=user,
                    kind=NoticeKind.INSTALLMENT_OVERDUE,
                    params={**base, "amount": str(amount), "days": dpd},
                    link=link,
                    render_email=render_email,
                )
    return written


def _decision_reminders(
    session: Session, today: dt.date, approvers: Iterable[User], render_email: EmailRenderer | None
) -> int:
    policy = fund_policy(session)
    written = 0
    pending = session.execute(
        select(LoanApplication, Cooperative.name)
        .join(Cooperative, Cooperative.id == LoanApplication.cooperative_id)
        .where(
            LoanApplication.status.in_(
                (
                    ApplicationStatus.SUBMITTED,
                    ApplicationStatus.IN_APPRAISAL,
                    ApplicationStatus.APPRAISED,
                )
            )
        )
        .order_by(LoanApplication.id)
    ).all()
    approvers = list(approvers)
    for application, cooperative in pending:
        due = decision_due_on(application, policy)
        if due is None:
            continue
        if today > due:
            state, kind = "late", NoticeKind.DECISION_LATE
        elif working_days_between(today, due) <= DECISION_SOON_WORKING_DAYS:
            state, kind = "soon", NoticeKind.DECISION_DUE_SOON
        else:
            continue
        for user in approvers:
            written += _remind(
                session,
                key=f"decision-{state}:{application.id}:{user.id}",
                user=user,
                kind=kind,
                params={
                    "number": application.number,
                    "cooperative": cooperative,
                    "date": due.isoformat(),
                },
                link=f"/applications/{application.id}",
                render_email=render_email,
            )
    return written


def _approval_reminders(
    session: Session, today: dt.date, approvers: Iterable[User], render_email: EmailRenderer | None
) -> int:
    written = 0
    approvers = list(approvers)
    for item in awaiting_decision(session):
        for user in approvers:
            if user.id == item.requested_by_id:
                continue
            written += _remind(
                session,
                key=f"approve-{item.what}:{item.item_id}:{today}:{user.id}",
                user=user,
                kind=NoticeKind.AWAITING_APPROVAL,
                params={
                    "number": item.contract_no,
                    "cooperative": item.cooperative,
                    "what": item.what,
                },
                link=f"/loans/{item.loan_id}",
                render_email=render_email,
            )
    return written


INSPECTION_SOON_DAYS = 3


def _inspection_reminders(
    session: Session, today: dt.date, render_email: EmailRenderer | None
) -> int:
    written = 0
    inspectors = users_with_role(session, "inspector")
    planned = session.execute(
        select(Inspection, Loan)
        .join(Loan, Loan.id == Inspection.loan_id)
        .where(
            Inspection.status == "planned",
            Inspection.due_on <= today + dt.timedelta(days=INSPECTION_SOON_DAYS),
        )
        .order_by(Inspection.due_on, Inspection.id)
    ).all()
    for inspection, loan in planned:
        late = (today - inspection.due_on).days
        if late >= 1:
            if (late - 1) % 7:
                continue
            kind, key = NoticeKind.INSPECTION_OVERDUE, f"inspection-late:{inspection.id}:{today}"
        else:
            kind, key = NoticeKind.INSPECTION_DUE, f"inspection-soon:{inspection.id}"
        assigned = session.get(User, inspection.inspector_id) if inspection.inspector_id else None
        for user in [assigned] if assigned else inspectors:
            written += _remind(
                session,
                key=f"{key}:{user.id}",
                user=user,
                kind=kind,
                params={
                    "number": loan.contract_no,
                    "cooperative": loan.cooperative.name,
                    "date": inspection.due_on.isoformat(),
                },
                link=f"/inspections/{inspection.id}/visit",
                render_email=render_email,
            )
    return written


def write_reminders(
    session: Session, *, today: dt.date, render_email: EmailRenderer | None = None
) -> dict[str, Any]:
    """Write every reminder due on ``today`` not written before, and commit. Returns counts."""
    approvers = users_with_role(session, "approver")
    counts = {
        "business_date": today.isoformat(),
        "loans": _loan_reminders(session, today, render_email),
        "decisions": _decision_reminders(session, today, approvers, render_email),
        "approvals": _approval_reminders(session, today, approvers, render_email),
        "inspections": _inspection_reminders(session, today, render_email),
    }
    session.commit()
    return counts
