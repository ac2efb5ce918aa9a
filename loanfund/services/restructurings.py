"""Restructuring a loan (ND45 §27): rescheduling within the term, or an extension beyond it.

An officer proposes it on the borrower's written request, with a reason and the new
installments (how many, and the first due date); another person with the approver role
decides. Approval makes a new schedule version from the decision date (``services.loan_state``
moves every unpaid principal and the interest owed into the new installments; penalty accrued
so far stays owed) and counts the restructuring, which pushes the loan's debt group. No money
moves, so nothing is posted to the journal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission
from loanfund.domain.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.loans import LoanStatus, restructuring_problems
from loanfund.domain.notifications import NoticeKind
from loanfund.domain.repayments import ChangeBasis
from loanfund.models import Loan, Restructuring, User
from loanfund.services import loan_state
from loanfund.services.audit import record_event
from loanfund.services.guards import change_status
from loanfund.services.loans import load_loan
from loanfund.services.notifications import notify, users_with_role

KINDS = ("reschedule", "extension")


def _audit(session: Session, actor: Actor, loan: Loan, action: str, **kwargs: Any) -> None:
    record_event(
        session,
        actor=actor,
        action=action,
        entity="loan",
        entity_id=loan.id,
        cooperative_id=loan.cooperative_id,
        **kwargs,
    )


def _check(
    session: Session,
    loan: Loan,
    *,
    kind: str,
    installments: int,
    first_due_on: dt.date,
    day: dt.date,
) -> tuple[ChangeBasis, dict[str, Any]]:
    """What the loan owes and its new schedule if the restructuring were decided on ``day``,
    or every problem."""
    if loan.status is not LoanStatus.ACTIVE:
        raise InvalidTransition(_("Only an active loan can be restructured."))
    problems: list[str] = []
    if kind not in KINDS:
        problems.append(_("Choose a rescheduling or an extension."))
    if not 1 <= installments <= 600:
        problems.append(_("The new schedule needs between 1 and 600 installments."))
    if first_due_on <= day:
        problems.append(
            _(
                "The first new installment must fall after %(day)s; %(date)s was given.",
                day=fmt_date(day),
                date=fmt_date(first_due_on),
            )
        )
    if problems:
        raise RuleViolation(problems)
    basis, merged = loan_state.restructure_preview(
        session, loan, installments=installments, first_due_on=first_due_on, day=day
    )
    rows = merged["installments"]
    problems = restructuring_problems(
        kind=kind,
        owed=basis.principal,
        original_maturity=loan_state.maturity(loan, original=True),
        new_maturity=dt.date.fromisoformat(rows[-1]["due_on"]),
        term_months=loan.term_months,
    )
    if problems:
        raise RuleViolation(problems)
    return basis, merged


def preview(
    session: Session,
    *,
    actor: Actor,
    loan_id: int,
    kind: str,
    installments: int,
    first_due_on: dt.date,
    today: dt.date,
) -> tuple[ChangeBasis, dict[str, Any]]:
    """What the loan owes today and the schedule a restructuring would give it.

    Raises:
        RuleViolation: every reason it could not be made today.
    """
    loan = load_loan(session, actor, loan_id, Permission.VIEW_LOAN)
    return _check(
        session, loan, kind=kind, installments=installments, first_due_on=first_due_on, day=today
    )


def propose_restructuring(
    session: Session,
    *,
    actor: Actor,
    loan_id: int,
    kind: str,
    request_on: dt.date,
    request_reference: str,
    reason: str,
    installments: int,
    first_due_on: dt.date,
    today: dt.date,
) -> Restructuring:
    """An officer proposes a restructuring on the borrower's request.

    Raises:
        RuleViolation: every problem (dates, the borrower's request, the reason, the new
            schedule against the contract's maturity), with the figures.
        Conflict: another proposal on the loan awaits its decision.
    """
    loan = load_loan(session, actor, loan_id, Permission.MANAGE_LOANS)
    if session.scalar(
        select(Restructuring.id).where(
            Restructuring.loan_id == loan.id, Restructuring.status == "proposed"
        )
    ):
        raise InvalidTransition(
            _("A restructuring of this loan already awaits a decision: decide or withdraw it.")
        )
    request_reference, reason = request_reference.strip(), reason.strip()
    problems: list[str] = []
    if request_on > today:
        problems.append(
            _(
                "The borrower's request is dated %(date)s, in the future (today is %(today)s).",
                date=fmt_date(request_on),
                today=fmt_date(today),
            )
        )
    if not request_reference:
        problems.append(_("Give the reference of the borrower's written request."))
    if not reason:
        problems.append(_("Say why the loan should be restructured."))
    if len(request_reference) > 120 or len(reason) > 4000:
        problems.append(_("The request reference or the reason is too long."))
    try:
        _check(
            session,
            loan,
            kind=kind,
            installments=installments,
            first_due_on=first_due_on,
            day=today,
        )
    except RuleViolation as error:
        problems.extend(error.problems)
    if problems:
        raise RuleViolation(problems)
    proposal = Restructuring(
        loan_id=loan.id,
        status="proposed",
        kind=kind,
        request_on=request_on,
        request_reference=request_reference,
        reason=reason,
        installments=installments,
        first_due_on=first_due_on,
        proposed_by_id=actor.user_id,
    )
    session.add(proposal)
    session.flush()
    _audit(
        session,
        actor,
        loan,
        "loan.restructure_propose",
        after={
            "restructuring": proposal.id,
            "kind": kind,
            "installments": installments,
            "first_due_on": first_due_on,
            "request": request_reference,
        },
        note=reason,
    )
    notify(
        session,
        recipients=users_with_role(session, "approver"),
        kind=NoticeKind.RESTRUCTURING_PROPOSED,
        params={"number": loan.contract_no, "cooperative": loan.cooperative.name},
        link=f"/loans/{loan.id}",
        skip=actor,
    )
    session.commit()
    return proposal


def _proposal(
    session: Session, actor: Actor, restructuring_id: int, permission: Permission
) -> tuple[Restructuring, Loan]:
    proposal = session.get(Restructuring, restructuring_id)
    if proposal is None:
        raise NotFound(_("No such restructuring."))
    loan = load_loan(session, actor, proposal.loan_id, permission)
    if proposal.status != "proposed":
        raise InvalidTransition(_("This restructuring was already decided or withdrawn."))
    return proposal, loan


def decide_restructuring(
    session: Session,
    *,
    actor: Actor,
    restructuring_id: int,
    verdict: str,
    note: str,
    today: dt.date,
) -> Restructuring:
    """Approve (the new schedule runs from ``today``) or reject a proposed restructuring.

    Raises:
        NotPermitted: the actor proposed it (four-eyes rule) or may not decide.
        RuleViolation: a rejection without a reason, or the proposal no longer fits today.
    """
    proposal, loan = _proposal(session, actor, restructuring_id, Permission.APPROVE_DISBURSEMENT)
    if actor.user_id is None or actor.user_id == proposal.proposed_by_id:
        raise NotPermitted(
            _("You proposed this restructuring: someone else must decide it (four-eyes rule).")
        )
    note = note.strip()
    if verdict not in ("approve", "reject"):
        raise RuleViolation(_("Approve or reject the restructuring."))
    if verdict == "reject" and not note:
        raise RuleViolation(_("Say why the restructuring is rejected."))
    version_id = None
    if verdict == "approve":
        _check(
            session,
            loan,
            kind=proposal.kind,
            installments=proposal.installments,
            first_due_on=proposal.first_due_on,
            day=today,
        )
        version = loan_state.restructure_version(
            session,
            loan,
            installments=proposal.installments,
            first_due_on=proposal.first_due_on,
            day=today,
        )
        version_id = version.id
        session.execute(
            update(Loan)
            .where(Loan.id == loan.id)
            .values(restructure_count=Loan.restructure_count + 1)
            .execution_options(synchronize_session=False)
        )
    change_status(
        session,
        Restructuring,
        proposal.id,
        seen="proposed",
        values={
            "status": "approved" if verdict == "approve" else "rejected",
            "decided_by_id": actor.user_id,
            "decided_on": today,
            "decision_note": note[:4000],
            "schedule_version_id": version_id,
        },
        refused=_("Someone decided this restructuring a moment ago. Please reload the page."),
    )
    session.refresh(loan)
    _audit(
        session,
        actor,
        loan,
        "loan.restructure_approve" if verdict == "approve" else "loan.restructure_reject",
        after={
            "restructuring": proposal.id,
            "schedule_version": version_id,
            "restructure_count": loan.restructure_count,
        },
        note=note,
    )
    notify(
        session,
        recipients=[
            *session.scalars(select(User).where(User.cooperative_id == loan.cooperative_id)),
            *[user for user in [session.get(User, proposal.proposed_by_id)] if user],
        ],
        kind=NoticeKind.RESTRUCTURING_APPROVED
        if verdict == "approve"
        else NoticeKind.RESTRUCTURING_REJECTED,
        params={"number": loan.contract_no, "cooperative": loan.cooperative.name},
        link=f"/loans/{loan.id}",
        skip=actor,
    )
    session.commit()
    session.refresh(proposal)
    return proposal


def withdraw_restructuring(
    session: Session, *, actor: Actor, restructuring_id: int, note: str
) -> Restructuring:
    """The officer withdraws a proposal before it is decided."""
    proposal, loan = _proposal(session, actor, restructuring_id, Permission.MANAGE_LOANS)
    change_status(
        session,
        Restructuring,
        proposal.id,
        seen="proposed",
        values={"status": "withdrawn", "decision_note": note.strip()[:4000]},
        refused=_("Someone decided this restructuring a moment ago. Please reload the page."),
    )
    _audit(
        session,
        actor,
        loan,
        "loan.restructure_withdraw",
        after={"restructuring": proposal.id},
        note=note.strip(),
    )
    session.commit()
    session.refresh(proposal)
    return proposal
