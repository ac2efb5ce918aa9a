"""Receipts from borrowers: allocation by the fund's order, the payoff, and the books.

A loan's repayment state is never stored as running balances: it is replayed from its schedule
versions and its posted receipts, in the order recorded (``services.loan_state``). Each
receipt's allocation is recorded with it and posted as one balanced entry: debit fund cash;
credit loans receivable (principal), interest income and penalty income.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission
from loanfund.domain.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    NotPermitted,
    RuleViolation,
)
from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.ledger import Account, EntryKind, Line
from loanfund.domain.loans import LoanStatus, next_loan_status, version_reason_label
from loanfund.domain.repayments import Allocation, Component, Payoff, allocate, payoff
from loanfund.models import JournalEntry, Loan, Repayment
from loanfund.services.audit import record_event
from loanfund.services.guards import change_status, hold_row
from loanfund.services.ledger import post_entry
from loanfund.services.loan_state import (
    figures_changed,
    last_change,
    last_sequence,
    posted_receipts,
    replay,
    replay_receipts,
)
from loanfund.services.loans import load_loan

CHANNELS = ("bank", "cash")


def payoff_quote(session: Session, loan: Loan, day: dt.date) -> Payoff:
    """Everything that settles the loan on ``day``."""
    states, terms = replay(session, loan)
    return payoff(states, terms, day)


def _allocation_json(allocation: Allocation) -> dict[str, object]:
    return {
        "by_component": {key.value: str(value) for key, value in allocation.by_component.items()},
        "lines": [[n, component.value, str(value)] for n, component, value in allocation.lines],
    }


def record_repayment(
    session: Session,
    *,
    actor: Actor,
    loan_id: int,
    received_on: dt.date,
    amount: Decimal,
    channel: str,
    reference: str,
    idempotency_key: str,
    today: dt.date,
) -> Repayment:
    """Record money received: allocate it, post it, and close the loan when it is all repaid.

    Raises:
        RuleViolation: a date in the future or before the last receipt, an unknown channel, an
            amount of zero or above the payoff (with the payoff figure).
    """
    # Receipts on one loan take turns (each is allocated on the ones before it), and with the
    # daily close storing the loan's figures (see daily_close.close_day).
    hold_row(session, Loan, loan_id)
    loan = load_loan(session, actor, loan_id, Permission.MANAGE_LOANS)
    existing = session.scalar(select(Repayment).where(Repayment.idempotency_key == idempotency_key))
    if existing is not None:
        if existing.loan_id != loan.id:
            raise Conflict(_("This form was already used for another loan. Reload the page."))
        return existing
    if loan.status not in (LoanStatus.ACTIVE, LoanStatus.RECALLED):
        raise InvalidTransition(_("Repayments are recorded on active or recalled loans."))
    sequence = last_sequence(session, loan) + 1
    states, terms = replay(session, loan)
    problems: list[str] = []
    if received_on > today:
        problems.append(
            _(
                "The receipt date %(date)s is in the future (today is %(today)s).",
                date=fmt_date(received_on),
                today=fmt_date(today),
            )
        )
    receipts = posted_receipts(session, loan)
    if receipts and received_on < receipts[-1].received_on:
        problems.append(
            _(
                "Receipts are recorded in date order; the last one is dated %(date)s.",
                date=fmt_date(receipts[-1].received_on),
            )
        )
    if received_on < terms.disbursed_on:
        problems.append(_("The receipt is dated before the loan was disbursed."))
    change = last_change(loan)
    if change is not None and received_on < change.effective_from:
        problems.append(
            _(
                "The schedule was changed on %(date)s (%(why)s); receipts dated before that "
                "can no longer be recorded.",
                date=fmt_date(change.effective_from),
                why=version_reason_label(change.reason),
            )
        )
    if channel not in CHANNELS:
        problems.append(_("Choose how the money was received."))
    if problems:
        raise RuleViolation(problems)
    allocation = allocate(states, terms, received_on, amount)  # RuleViolation above the payoff
    entry = post_entry(
        session,
        actor=actor,
        kind=EntryKind.REPAYMENT,
        value_date=received_on,
        lines=_entry_lines(allocation, amount),
        description=_("Repayment under %(contract)s", contract=loan.contract_no),
        reference=reference.strip(),
        cooperative_id=loan.cooperative_id,
        loan_id=loan.id,
    )
    repayment = Repayment(
        loan_id=loan.id,
        sequence=sequence,
        received_on=received_on,
        amount=amount,
        channel=channel,
        reference=reference.strip()[:120],
        idempotency_key=idempotency_key,
        status="posted",
        allocation=_allocation_json(allocation),
        journal_entry_id=entry.id,
        recorded_by_id=actor.user_id,
        recorded_by_label=actor.label,
    )
    session.add(repayment)
    try:
        session.flush()
    except IntegrityError:  # the same form twice, or another receipt, at the same moment
        session.rollback()
        existing = session.scalar(
            select(Repayment).where(Repayment.idempotency_key == idempotency_key)
        )
        if existing is None:
            raise Conflict(
                _("Another receipt was recorded on this loan a moment ago. Please reload the page.")
            ) from None
        return existing
    figures_changed(session, loan, received_on)
    record_event(
        session,
        actor=actor,
        action="loan.repayment",
        entity="loan",
        entity_id=loan.id,
        cooperative_id=loan.cooperative_id,
        after={
            "repayment": repayment.id,
            "amount": amount,
            "received_on": received_on,
            **{key: value for key, value in repayment.allocation["by_component"].items()},
        },
    )
    if payoff(states, terms, received_on).total == 0:  # nothing left, penalty included
        previous = loan.status
        next_loan_status(previous, "close")
        change_status(
            session,
            Loan,
            loan.id,
            seen=previous,
            values={"status": LoanStatus.CLOSED, "closed_on": received_on},
            refused=_("Someone changed this loan a moment ago. Please reload the page."),
        )
        record_event(
            session,
            actor=actor,
            action="loan.close",
            entity="loan",
            entity_id=loan.id,
            cooperative_id=loan.cooperative_id,
            before={"status": previous},
            after={"status": LoanStatus.CLOSED},
        )
    session.commit()
    session.refresh(loan)
    return repayment


def _entry_lines(allocation: Allocation, amount: Decimal) -> list[Line]:
    lines = [Line.dr(Account.CASH, amount)]
    for account, value in (
        (Account.LOANS_RECEIVABLE, allocation.principal),
        (Account.INTEREST_INCOME, allocation.interest),
        (Account.PENALTY_INCOME, allocation.penalty),
    ):
        if value > 0:
            lines.append(Line.cr(account, value))
    return lines


def _reversing_entry(session: Session, *, actor: Actor, loan: Loan, entry_id: int, reason: str):  # type: ignore[no-untyped-def]
    """The mirror of an entry (every debit a credit and back), pointing at it."""
    original = session.get(JournalEntry, entry_id)
    assert original is not None
    entry = post_entry(
        session,
        actor=actor,
        kind=EntryKind.REVERSAL,
        value_date=original.value_date,
        lines=[Line(line.account, debit=line.credit, credit=line.debit) for line in original.lines],
        description=_("Reversal of entry %(id)s: %(reason)s", id=original.id, reason=reason),
        reference=original.reference,
        cooperative_id=loan.cooperative_id,
        loan_id=loan.id,
        reverses_id=original.id,
    )
    return entry


def _refuse_if_settled(loan: Loan, repayment: Repayment) -> None:
    """A schedule change was built on the receipts recorded before it: those stay."""
    change = last_change(loan)
    if change is not None and repayment.sequence <= change.after_sequence:
        raise RuleViolation(
            _(
                "This receipt was recorded before the schedule change of %(date)s (%(why)s), "
                "which was built on it, so it can no longer be reversed.",
                date=fmt_date(change.effective_from),
                why=version_reason_label(change.reason),
            )
        )


def request_reversal(
    session: Session, *, actor: Actor, repayment_id: int, reason: str
) -> Repayment:
    """An officer asks for a mistaken receipt to be reversed (a second person approves)."""
    repayment = session.get(Repayment, repayment_id)
    if repayment is None:
        raise NotFound(_("No such receipt."))
    loan = load_loan(session, actor, repayment.loan_id, Permission.MANAGE_LOANS)
    if repayment.status != "posted" or repayment.reversal_requested_by_id is not None:
        raise InvalidTransition(_("This receipt is already reversed or awaiting reversal."))
    reason = reason.strip()
    if not reason:
        raise RuleViolation(_("Say why the receipt is reversed."))
    _refuse_if_settled(loan, repayment)
    repayment.reversal_reason = reason[:1000]
    repayment.reversal_requested_by_id = actor.user_id
    record_event(
        session,
        actor=actor,
        action="loan.repayment_reversal_request",
        entity="loan",
        entity_id=repayment.loan_id,
        after={"repayment": repayment.id, "amount": repayment.amount},
        note=reason,
    )
    session.commit()
    return repayment


def approve_reversal(session: Session, *, actor: Actor, repayment_id: int) -> Repayment:
    """A second person approves the reversal: the receipt's entry is mirrored, and every later
    receipt is allocated again in date order (its old entry mirrored, a new one posted) so the
    books follow the fund's order as if the mistaken receipt had never been recorded.

    Raises:
        NotPermitted: the actor asked for the reversal (four-eyes), or may not approve.
    """
    repayment = session.get(Repayment, repayment_id)
    if repayment is None:
        raise NotFound(_("No such receipt."))
    loan = load_loan(session, actor, repayment.loan_id, Permission.APPROVE_DISBURSEMENT)
    if repayment.status != "posted" or repayment.reversal_requested_by_id is None:
        raise InvalidTransition(_("No reversal of this receipt is awaiting approval."))
    if actor.user_id is None or actor.user_id == repayment.reversal_requested_by_id:
        raise NotPermitted(
            _("You asked for this reversal: someone else must approve it (four-eyes rule).")
        )
    _refuse_if_settled(loan, repayment)
    change_status(
        session,
        Repayment,
        repayment.id,
        seen="posted",
        values={"status": "reversed", "reversed_by_id": actor.user_id},
        refused=_("Someone changed this receipt a moment ago. Please reload the page."),
    )
    assert repayment.journal_entry_id is not None
    _reversing_entry(
        session,
        actor=actor,
        loan=loan,
        entry_id=repayment.journal_entry_id,
        reason=repayment.reversal_reason,
    )
    session.expire(repayment)
    figures_changed(session, loan, repayment.received_on)
    # Allocate again every receipt still posted, in order; re-post those that change.
    states, terms, allocations = replay_receipts(session, loan)
    for receipt, allocation in allocations:
        new = _allocation_json(allocation)
        if new == receipt.allocation:
            continue
        assert receipt.journal_entry_id is not None
        _reversing_entry(
            session,
            actor=actor,
            loan=loan,
            entry_id=receipt.journal_entry_id,
            reason=_("allocated again after a reversal"),
        )
        entry = post_entry(
            session,
            actor=actor,
            kind=EntryKind.REPAYMENT,
            value_date=receipt.received_on,
            lines=_entry_lines(allocation, receipt.amount),
            description=_("Repayment under %(contract)s", contract=loan.contract_no),
            reference=receipt.reference,
            cooperative_id=loan.cooperative_id,
            loan_id=loan.id,
        )
        receipt.allocation = new
        receipt.journal_entry_id = entry.id
    if (
        loan.status is LoanStatus.CLOSED
        and payoff(
            states,
            terms,
            max(
                (r.received_on for r in posted_receipts(session, loan)), default=terms.disbursed_on
            ),
        ).total
        > 0
    ):
        next_loan_status(loan.status, "reopen")
        loan.status = LoanStatus.ACTIVE
        loan.closed_on = None
    record_event(
        session,
        actor=actor,
        action="loan.repayment_reverse",
        entity="loan",
        entity_id=loan.id,
        cooperative_id=loan.cooperative_id,
        after={"repayment": repayment_id},
    )
    session.commit()
    session.refresh(loan)
    return repayment


__all__ = [
    "CHANNELS",
    "Component",
    "approve_reversal",
    "payoff_quote",
    "record_repayment",
    "replay",
    "request_reversal",
]
