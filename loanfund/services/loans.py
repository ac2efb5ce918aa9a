"""Loans: the contract, and disbursement in tranches (DESIGN §2–4).

Money leaves the fund only through :func:`pay_tranche`: it re-checks every rule with today's
figures, moves the tranche ``approved → paid`` with a guarded UPDATE (so two clicks, a replayed
POST or two people at once pay it once; a unique constraint on the tranche's journal entry
backs this up), and posts the balanced entry (debit loans receivable, credit fund cash) in the
same transaction. A tranche request carries a one-time key, so a double-submitted request form
makes one tranche.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.applications import ApplicationStatus
from loanfund.domain.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    NotPermitted,
    RuleViolation,
)
from loanfund.domain.i18n import _, fmt_date, fmt_money
from loanfund.domain.ledger import Account, EntryKind, Line
from loanfund.domain.loans import (
    DISBURSING_STATUSES,
    LoanStatus,
    TrancheFacts,
    TrancheStatus,
    contract_number,
    next_loan_status,
    next_tranche_status,
    tranche_problems,
)
from loanfund.models import Appraisal, Loan, LoanApplication, Repayment, Tranche
from loanfund.models.types import Money
from loanfund.queries.applications import related_cooperative_ids
from loanfund.queries.ledger import account_balances
from loanfund.queries.loans import commitments, exposure, paid_by_loan
from loanfund.services import inspection_planning, loan_state
from loanfund.services.applications import fund_policy
from loanfund.services.audit import record_event
from loanfund.services.guards import change_status, hold_row
from loanfund.services.ledger import post_entry


def load_loan(session: Session, actor: Actor, loan_id: int, permission: Permission) -> Loan:
    """The loan if the actor may act on it: 404 for another cooperative's, 403 for the role."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFound(_("No such loan."))
    authorize(actor, permission, cooperative_id=loan.cooperative_id)
    return loan


def _guarded(
    session: Session, model: type, row_id: int, current: object, values: dict[str, object]
) -> None:
    change_status(
        session,
        model,
        row_id,
        seen=current,
        values=values,
        refused=_("Someone changed this a moment ago. Please reload the page."),
    )


def _audit(session: Session, actor: Actor, loan: Loan, action: str, **kwargs: object) -> None:
    record_event(
        session,
        actor=actor,
        action=action,
        entity="loan",
        entity_id=loan.id,
        cooperative_id=loan.cooperative_id,
        **kwargs,  # type: ignore[arg-type]
    )


# --- the contract ----------------------------------------------------------------------------


def make_loan(session: Session, *, actor: Actor, application_id: int, today: dt.date) -> Loan:
    """Turn an approved application into a loan on the approved terms, with a contract number.

    Raises:
        InvalidTransition: the application is not approved.
        Conflict: it already has its loan.
    """
    authorize(actor, Permission.MANAGE_LOANS)
    application = session.get(LoanApplication, application_id)
    if application is None:
        raise NotFound(_("No such application."))
    if application.status is not ApplicationStatus.APPROVED:
        raise InvalidTransition(_("Only an approved application becomes a loan."))
    if session.scalar(select(Loan.id).where(Loan.application_id == application.id)):
        raise Conflict(_("This application already has its loan."))
    prefix = contract_number(today.year, 0)[:-4]
    last = session.scalar(
        select(func.max(Loan.contract_no)).where(Loan.contract_no.like(prefix + "%"))
    )
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    assert application.approved_amount is not None and application.approved_term_months
    policy = fund_policy(session)
    loan = Loan(
        application_id=application.id,
        cooperative_id=application.cooperative_id,
        product_id=application.product_id,
        contract_no=contract_number(today.year, sequence),
        status=LoanStatus.APPROVED,
        amount=application.approved_amount,
        term_months=application.approved_term_months,
        annual_rate_pct=application.product.annual_rate_pct,
        overdue_rate_pct_of_rate=application.product.overdue_rate_pct_of_rate,
        late_interest_rate_pct=policy.late_interest_rate_pct,
        allocation_order=policy.allocation_order,
        prepayment_mode=policy.prepayment_mode,
        schedule_options=dict(application.approved_schedule or {}),
        conditions=application.approved_conditions,
        created_by_id=actor.user_id,
    )
    session.add(loan)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_("This application already has its loan.")) from None
    _audit(
        session,
        actor,
        loan,
        "loan.create",
        after={
            "contract_no": loan.contract_no,
            "amount": loan.amount,
            "application": application.number,
        },
    )
    session.commit()
    return loan


def sign_contract(
    session: Session, *, actor: Actor, loan_id: int, signed_on: dt.date, today: dt.date
) -> Loan:
    """Record the day both parties signed the contract: the loan becomes ``contracted``."""
    loan = load_loan(session, actor, loan_id, Permission.MANAGE_LOANS)
    next_loan_status(loan.status, "sign")
    if signed_on > today:
        raise RuleViolation(
            _(
                "The signing date %(date)s is in the future (today is %(today)s).",
                date=fmt_date(signed_on),
                today=fmt_date(today),
            )
        )
    _guarded(
        session,
        Loan,
        loan.id,
        loan.status,
        {"status": LoanStatus.CONTRACTED, "signed_on": signed_on},
    )
    session.refresh(loan)
    _audit(
        session,
        actor,
        loan,
        "loan.sign",
        before={"status": LoanStatus.APPROVED},
        after={"status": LoanStatus.CONTRACTED, "signed_on": signed_on},
    )
    session.commit()
    return loan


# --- tranches --------------------------------------------------------------------------------


def _pending(session: Session, loan: Loan) -> Decimal:
    """Requested or approved tranches not yet paid."""
    return session.scalar(
        select(func.coalesce(func.sum(Tranche.amount), 0, type_=Money())).where(
            Tranche.loan_id == loan.id,
            Tranche.status.in_((TrancheStatus.REQUESTED, TrancheStatus.APPROVED)),
        )
    ) or Decimal(0)


def request_tranche(
    session: Session,
    *,
    actor: Actor,
    loan_id: int,
    amount: Decimal,
    value_date: dt.date,
    payee: str,
    account: str,
    reference: str,
    idempotency_key: str,
) -> Tranche:
    """An officer asks for a tranche to be paid. The same form sent twice makes one tranche.

    Raises:
        RuleViolation: every problem with the request, with the figures.
    """
    # Requests on one loan take turns, so that what is left to request counts them all.
    hold_row(session, Loan, loan_id)
    loan = load_loan(session, actor, loan_id, Permission.MANAGE_LOANS)
    existing = session.scalar(select(Tranche).where(Tranche.idempotency_key == idempotency_key))
    if existing is not None:
        if existing.loan_id != loan.id:
            raise Conflict(_("This form was already used for another loan. Reload the page."))
        return existing
    if loan.status not in DISBURSING_STATUSES:
        raise InvalidTransition(_("Tranches are requested once the contract is signed."))
    payee, account, reference = payee.strip(), account.strip(), reference.strip()
    paid = paid_by_loan(session, [loan.id]).get(loan.id, Decimal(0))
    pending = Decimal(_pending(session, loan))
    remaining = loan.amount - paid - pending
    problems: list[str] = []
    if amount <= 0:
        problems.append(_("The tranche must be more than zero."))
    elif amount > remaining:
        problems.append(
            _(
                "At most %(remaining)s can still be requested (approved %(approved)s, paid "
                "%(paid)s, awaiting payment %(pending)s); %(amount)s was asked.",
                remaining=fmt_money(remaining),
                approved=fmt_money(loan.amount),
                paid=fmt_money(paid),
                pending=fmt_money(pending),
                amount=fmt_money(amount),
            )
        )
    if not payee:
        problems.append(_("Give the payee (the cooperative or its supplier)."))
    if not account:
        problems.append(_("Give the payee's bank account."))
    if len(payee) > 200 or len(account) > 60 or len(reference) > 120:
        problems.append(_("The payee, account or reference is too long."))
    if problems:
        raise RuleViolation(problems)
    tranche = Tranche(
        loan_id=loan.id,
        status=TrancheStatus.REQUESTED,
        amount=amount,
        value_date=value_date,
        payee=payee,
        account=account,
        reference=reference,
        idempotency_key=idempotency_key,
        requested_by_id=actor.user_id,
    )
    session.add(tranche)
    try:
        session.flush()
    except IntegrityError:  # the same form, sent twice at the same moment
        session.rollback()
        existing = session.scalar(select(Tranche).where(Tranche.idempotency_key == idempotency_key))
        if existing is None:
            raise
        return existing
    _audit(
        session,
        actor,
        loan,
        "loan.tranche_request",
        after={"tranche": tranche.id, "amount": amount, "value_date": value_date, "payee": payee},
    )
    session.commit()
    return tranche


def _tranche(session: Session, actor: Actor, tranche_id: int, permission: Permission) -> Tranche:
    tranche = session.get(Tranche, tranche_id)
    if tranche is None:
        raise NotFound(_("No such tranche."))
    load_loan(session, actor, tranche.loan_id, permission)
    return tranche


def approve_tranche(session: Session, *, actor: Actor, tranche_id: int) -> Tranche:
    """A person with the approver role, other than the requester, approves the tranche."""
    tranche = _tranche(session, actor, tranche_id, Permission.APPROVE_DISBURSEMENT)
    next_tranche_status(tranche.status, "approve")
    if actor.user_id is None or actor.user_id == tranche.requested_by_id:
        raise NotPermitted(
            _("You requested this tranche: someone else must approve it (four-eyes rule).")
        )
    _guarded(
        session,
        Tranche,
        tranche.id,
        TrancheStatus.REQUESTED,
        {"status": TrancheStatus.APPROVED, "approved_by_id": actor.user_id},
    )
    session.refresh(tranche)
    _audit(
        session,
        actor,
        tranche.loan,
        "loan.tranche_approve",
        after={"tranche": tranche.id, "amount": tranche.amount},
    )
    session.commit()
    return tranche


def cancel_tranche(session: Session, *, actor: Actor, tranche_id: int, reason: str) -> Tranche:
    """Withdraw a tranche request before it is paid."""
    tranche = _tranche(session, actor, tranche_id, Permission.MANAGE_LOANS)
    current = tranche.status
    next_tranche_status(current, "cancel")
    if not reason.strip():
        raise RuleViolation(_("Say why the tranche is cancelled."))
    _guarded(
        session,
        Tranche,
        tranche.id,
        current,
        {"status": TrancheStatus.CANCELLED, "note": reason.strip()},
    )
    session.refresh(tranche)
    _audit(
        session,
        actor,
        tranche.loan,
        "loan.tranche_cancel",
        after={"tranche": tranche.id},
        note=reason.strip(),
    )
    session.commit()
    return tranche


def _settled_until(session: Session, loan: Loan) -> dt.date | None:
    """The last receipt's date or the last schedule change's, whichever is later: a schedule
    change must come after everything it is built on."""
    receipt = session.scalar(
        select(func.max(Repayment.received_on)).where(
            Repayment.loan_id == loan.id, Repayment.status == "posted"
        )
    )
    change = loan_state.last_change(loan)
    days = [day for day in (receipt, change.effective_from if change else None) if day]
    return max(days) if days else None


def pay_tranche(session: Session, *, actor: Actor, tranche_id: int, today: dt.date) -> Tranche:
    """Post an approved tranche: the money leaves the fund's account.

    Raises:
        RuleViolation: a rule fails with today's figures (every reason, with the numbers).
        Conflict: it was paid (or cancelled) a moment ago.
    """
    tranche = _tranche(session, actor, tranche_id, Permission.MANAGE_LOANS)
    next_tranche_status(tranche.status, "pay")
    loan = tranche.loan
    if loan.status not in DISBURSING_STATUSES:
        raise InvalidTransition(_("Tranches are paid once the contract is signed."))
    policy = fund_policy(session)
    balances = account_balances(session)
    paid = paid_by_loan(session, [loan.id]).get(loan.id, Decimal(0))
    appraisal = session.scalar(
        select(Appraisal).where(Appraisal.application_id == loan.application_id)
    )
    related = related_cooperative_ids(session, loan.cooperative_id)
    facts = TrancheFacts(
        amount=tranche.amount,
        approved_amount=loan.amount,
        disbursed=paid,
        available_to_lend=balances[Account.CASH]
        - commitments(session, exclude_loan_id=loan.id)
        - policy.min_liquidity_reserve,
        borrower_exposure=exposure(session, {loan.cooperative_id}, exclude_loan_id=loan.id),
        related_exposure=exposure(session, related),
        fund_capital=balances[Account.FUND_CAPITAL],
        credit_check_on=appraisal.credit_check_on if appraisal else None,
        first_tranche=paid == 0,
        value_date=tranche.value_date,
        today=today,
    )
    problems = tranche_problems(
        facts,
        single_borrower_max_pct=policy.single_borrower_max_pct,
        related_borrowers_max_pct=policy.related_borrowers_max_pct,
    )
    settled = _settled_until(session, loan)
    if settled is not None and tranche.value_date < settled:
        problems.append(
            _(
                "The value date %(date)s is before %(settled)s, the date of the loan's last "
                "receipt or schedule change; pay the tranche with a later value date.",
                date=fmt_date(tranche.value_date),
                settled=fmt_date(settled),
            )
        )
    if problems:
        raise RuleViolation(problems)
    _guarded(
        session,
        Tranche,
        tranche.id,
        TrancheStatus.APPROVED,
        {"status": TrancheStatus.PAID, "paid_by_id": actor.user_id},
    )
    entry = post_entry(
        session,
        actor=actor,
        kind=EntryKind.DISBURSEMENT,
        value_date=tranche.value_date,
        lines=[
            Line.dr(Account.LOANS_RECEIVABLE, tranche.amount),
            Line.cr(Account.CASH, tranche.amount),
        ],
        description=_(
            "Disbursement to %(payee)s under %(contract)s",
            payee=tranche.payee,
            contract=loan.contract_no,
        ),
        reference=tranche.reference,
        cooperative_id=loan.cooperative_id,
        loan_id=loan.id,
    )
    session.execute(
        update(Tranche)
        .where(Tranche.id == tranche.id)
        .values(journal_entry_id=entry.id)
        .execution_options(synchronize_session=False)
    )
    if loan.status is LoanStatus.CONTRACTED:
        next_loan_status(loan.status, "activate")
        _guarded(session, Loan, loan.id, LoanStatus.CONTRACTED, {"status": LoanStatus.ACTIVE})
        _audit(
            session,
            actor,
            loan,
            "loan.activate",
            before={"status": LoanStatus.CONTRACTED},
            after={"status": LoanStatus.ACTIVE, "tranche": tranche.id},
        )
    session.refresh(loan)
    session.refresh(tranche)
    if loan_state.versions_of(loan):
        loan_state.tranche_version(session, loan, amount=tranche.amount, day=tranche.value_date)
    else:
        loan_state.first_version(session, loan, principal=tranche.amount, day=tranche.value_date)
    inspection_planning.plan_first(session, tranche, policy)
    _audit(
        session,
        actor,
        loan,
        "loan.tranche_pay",
        after={"tranche": tranche.id, "amount": tranche.amount, "journal_entry": entry.id},
    )
    session.commit()
    return tranche
