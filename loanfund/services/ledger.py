"""Posting to the fund's books. Every money movement goes through :func:`post_entry`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.errors import (
    InvalidTransition,
    NotFound,
    NotPermitted,
    RuleViolation,
)
from loanfund.domain.i18n import _, fmt_date, fmt_money
from loanfund.domain.ledger import Account, EntryKind, Line, require_balanced
from loanfund.models import AccountTotal, CapitalMovement, JournalEntry, JournalLine, Loan
from loanfund.models.types import Money, money_digits
from loanfund.services.audit import record_event
from loanfund.services.guards import change_status

#: The two ways capital moves.
CAPITAL_KINDS = ("contribution", "withdrawal")

#: Longest description and reference a user may type.
DESCRIPTION_MAX = 500
REFERENCE_MAX = 120
#: PostgreSQL advisory lock between postings (shared) and a journal checkpoint (exclusive).
JOURNAL_LOCK = 0x4A4E4C  # "JNL"


def post_entry(
    session: Session,
    *,
    actor: Actor,
    kind: EntryKind,
    value_date: dt.date,
    lines: Iterable[Line],
    description: str,
    reference: str = "",
    cooperative_id: int | None = None,
    loan_id: int | None = None,
    reverses_id: int | None = None,
) -> JournalEntry:
    """Add one balanced entry to the caller's transaction (the caller commits).

    Business services call this in the same transaction as their own change, so the books and
    the business state can never disagree.

    Raises:
        RuleViolation: the lines do not balance, or an amount is not a currency amount.
    """
    checked = require_balanced(lines, money_digits())
    if session.get_bind().dialect.name == "postgresql":
        # Held to the end of the transaction: a checkpoint waits for it (:func:`record_totals`).
        session.execute(select(func.pg_advisory_xact_lock_shared(JOURNAL_LOCK)))
    entry = JournalEntry(
        kind=kind,
        value_date=value_date,
        description=description,
        reference=reference,
        cooperative_id=cooperative_id,
        loan_id=loan_id,
        reverses_id=reverses_id,
        posted_by_id=actor.user_id,
        posted_by_label=actor.label,
    )
    entry.lines = [
        JournalLine(account=line.account, debit=line.debit, credit=line.credit) for line in checked
    ]
    session.add(entry)
    session.flush()
    moved = sum(
        (line.debit - line.credit for line in checked if line.account is Account.LOANS_RECEIVABLE),
        Decimal(0),
    )
    if moved:
        _move_receivable(session, loan_id, moved)
    record_event(
        session,
        actor=actor,
        action=f"journal.{kind.value}",
        entity="journal_entry",
        entity_id=entry.id,
        cooperative_id=cooperative_id,
        after={
            "value_date": value_date,
            "reference": reference,
            "lines": [
                {"account": line.account, "debit": line.debit, "credit": line.credit}
                for line in checked
            ],
        },
    )
    return entry


def _capital_problems(
    *, kind: str, amount: Decimal, value_date: dt.date, source: str, reference: str, today: dt.date
) -> list[str]:
    problems: list[str] = []
    if kind not in CAPITAL_KINDS:
        problems.append(_("Choose a contribution or a withdrawal."))
    if amount <= 0:
        problems.append(_("The amount must be more than zero."))
    if value_date > today:
        problems.append(
            _(
                "The value date %(value_date)s is in the future; record money when the bank "
                "has moved it (today is %(today)s).",
                value_date=fmt_date(value_date),
                today=fmt_date(today),
            )
        )
    if not source:
        problems.append(_("Say who contributes or receives the capital, and under which decision."))
    elif len(source) > DESCRIPTION_MAX:
        problems.append(
            _(
                "The source is %(n)s characters long; at most %(max)s.",
                n=len(source),
                max=DESCRIPTION_MAX,
            )
        )
    if not reference:
        problems.append(_("Give the bank voucher or decision number."))
    elif len(reference) > REFERENCE_MAX:
        problems.append(
            _(
                "The reference is %(n)s characters long; at most %(max)s.",
                n=len(reference),
                max=REFERENCE_MAX,
            )
        )
    return problems


def _capital_entry(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    amount: Decimal,
    value_date: dt.date,
    source: str,
    reference: str,
) -> JournalEntry:
    if kind == "contribution":
        lines = [Line.dr(Account.CASH, amount), Line.cr(Account.FUND_CAPITAL, amount)]
        entry_kind = EntryKind.CAPITAL_CONTRIBUTION
    else:
        lines = [Line.dr(Account.FUND_CAPITAL, amount), Line.cr(Account.CASH, amount)]
        entry_kind = EntryKind.CAPITAL_WITHDRAWAL
    return post_entry(
        session,
        actor=actor,
        kind=entry_kind,
        value_date=value_date,
        lines=lines,
        description=source,
        reference=reference,
    )


def record_capital_contribution(
    session: Session,
    *,
    actor: Actor,
    amount: Decimal,
    value_date: dt.date,
    source: str,
    reference: str,
    today: dt.date,
) -> JournalEntry:
    """Post capital received without a second person: only for the system (setting a fund up,
    the demo). People go through :func:`request_capital_movement` and
    :func:`approve_capital_movement` (four-eyes).

    Raises:
        NotPermitted: a person tried to post capital alone.
        RuleViolation: every problem with the input, together.
    """
    if actor.user_id is not None:
        raise NotPermitted(
            _("Capital is recorded by one person and approved by another (four-eyes rule).")
        )
    source, reference = source.strip(), reference.strip()
    problems = _capital_problems(
        kind="contribution",
        amount=amount,
        value_date=value_date,
        source=source,
        reference=reference,
        today=today,
    )
    if problems:
        raise RuleViolation(problems)
    entry = _capital_entry(
        session,
        actor=actor,
        kind="contribution",
        amount=amount,
        value_date=value_date,
        source=source,
        reference=reference,
    )
    session.commit()
    return entry


def request_capital_movement(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    amount: Decimal,
    value_date: dt.date,
    source: str,
    reference: str,
    today: dt.date,
) -> CapitalMovement:
    """An administrator records capital paid in or to be paid out; another person posts it.

    Raises:
        NotPermitted: the actor may not record capital.
        RuleViolation: every problem with the input.
    """
    authorize(actor, Permission.RECORD_CAPITAL)
    source, reference = source.strip(), reference.strip()
    problems = _capital_problems(
        kind=kind,
        amount=amount,
        value_date=value_date,
        source=source,
        reference=reference,
        today=today,
    )
    if problems:
        raise RuleViolation(problems)
    movement = CapitalMovement(
        kind=kind,
        status="requested",
        amount=amount,
        value_date=value_date,
        source=source,
        reference=reference,
        requested_by_id=actor.user_id,
        requested_by_label=actor.label,
    )
    session.add(movement)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"capital.{kind}_request",
        entity="capital_movement",
        entity_id=movement.id,
        after={"kind": kind, "amount": amount, "value_date": value_date, "reference": reference},
    )
    session.commit()
    return movement


def _movement_status(status: str) -> str:
    return {"requested": _("recorded"), "posted": _("posted"), "cancelled": _("cancelled")}.get(
        status, status
    )


def _movement(session: Session, movement_id: int) -> CapitalMovement:
    movement = session.get(CapitalMovement, movement_id)
    if movement is None:
        raise NotFound(_("No such capital movement."))
    return movement


def _decide(
    session: Session, movement: CapitalMovement, actor: Actor, status: str, **values: object
) -> None:
    if movement.status != "requested":
        raise InvalidTransition(
            _(
                "This capital movement is already %(status)s.",
                status=_movement_status(movement.status),
            )
        )
    change_status(
        session,
        CapitalMovement,
        movement.id,
        seen="requested",
        values={
            "status": status,
            "decided_by_id": actor.user_id,
            "decided_by_label": actor.label,
            **values,
        },
        refused=_("Someone decided on this a moment ago. Please reload the page."),
    )


def approve_capital_movement(
    session: Session, *, actor: Actor, movement_id: int, today: dt.date
) -> CapitalMovement:
    """A second person checks a recorded capital movement and posts it to the books.

    Raises:
        NotPermitted: the actor recorded it (four-eyes), or may not approve capital.
        RuleViolation: a withdrawal larger than what the fund can spare today.
    """
    authorize(actor, Permission.APPROVE_CAPITAL)
    movement = _movement(session, movement_id)
    if actor.user_id is None or actor.user_id == movement.requested_by_id:
        raise NotPermitted(
            _("You recorded this capital movement: someone else must approve it (four-eyes rule).")
        )
    if movement.status != "requested":
        raise InvalidTransition(
            _(
                "This capital movement is already %(status)s.",
                status=_movement_status(movement.status),
            )
        )
    if movement.kind == "withdrawal":
        from loanfund.queries.ledger import fund_position
        from loanfund.queries.settings import fund_settings

        reserve = fund_settings(
            session, currency_digits=money_digits()
        ).policy.min_liquidity_reserve
        available = fund_position(session, as_of=today, reserve=reserve).available_to_lend
        if movement.amount > available:
            raise RuleViolation(
                _(
                    "The fund can spare %(available)s today (cash less commitments and the "
                    "reserve); the withdrawal is %(amount)s.",
                    available=fmt_money(available),
                    amount=fmt_money(movement.amount),
                )
            )
    entry = _capital_entry(
        session,
        actor=actor,
        kind=movement.kind,
        amount=movement.amount,
        value_date=movement.value_date,
        source=movement.source,
        reference=movement.reference,
    )
    _decide(session, movement, actor, "posted", journal_entry_id=entry.id)
    session.refresh(movement)
    record_event(
        session,
        actor=actor,
        action=f"capital.{movement.kind}_post",
        entity="capital_movement",
        entity_id=movement.id,
        after={"journal_entry": entry.id, "amount": movement.amount},
    )
    session.commit()
    return movement


def cancel_capital_movement(
    session: Session, *, actor: Actor, movement_id: int, reason: str
) -> CapitalMovement:
    """Drop a recorded capital movement before it is posted."""
    if not (actor.can(Permission.RECORD_CAPITAL) or actor.can(Permission.APPROVE_CAPITAL)):
        authorize(actor, Permission.RECORD_CAPITAL)
    movement = _movement(session, movement_id)
    if not reason.strip():
        raise RuleViolation(_("Say why it is cancelled."))
    _decide(session, movement, actor, "cancelled", note=reason.strip())
    session.refresh(movement)
    record_event(
        session,
        actor=actor,
        action="capital.cancel",
        entity="capital_movement",
        entity_id=movement.id,
        note=reason.strip(),
    )
    session.commit()
    return movement


def pending_capital_movements(session: Session) -> list[CapitalMovement]:
    return list(
        session.scalars(
            select(CapitalMovement)
            .where(CapitalMovement.status == "requested")
            .order_by(CapitalMovement.id)
        )
    )


def _move_receivable(session: Session, loan_id: int | None, amount: Decimal) -> None:
    """Add ``amount`` to the loan's balance on loans receivable (``Loan.receivable``)."""
    if loan_id is None:
        raise ValueError("an entry on loans receivable must name its loan")
    session.execute(
        update(Loan)
        .where(Loan.id == loan_id)
        .values(receivable=Loan.receivable + amount)
        .execution_options(synchronize_session=False)
    )
    held = session.identity_map.get(identity_key(Loan, loan_id))
    if held is not None:
        session.expire(held, ["receivable"])


def recount_receivables(session: Session) -> None:
    """Set every loan's ``receivable`` from the journal (after rows were written in bulk,
    around :func:`post_entry`: the benchmark's generator). Summed in one pass and written loan
    by loan: an UPDATE with a correlated sum makes SQLite walk every loans-receivable line once
    per loan."""
    debit = func.coalesce(func.sum(JournalLine.debit), 0, type_=Money())
    credit = func.coalesce(func.sum(JournalLine.credit), 0, type_=Money())
    sums = session.execute(
        select(JournalEntry.loan_id, debit, credit)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.account == Account.LOANS_RECEIVABLE, JournalEntry.loan_id.is_not(None))
        .group_by(JournalEntry.loan_id)
    ).all()
    session.execute(update(Loan).values(receivable=0).execution_options(synchronize_session=False))
    if sums:
        table = Loan.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_loan_id"))
            .values(receivable=bindparam("b_receivable")),
            [
                {"b_loan_id": loan_id, "b_receivable": debits - credits}
                for loan_id, debits, credits in sums
            ],
        )


def record_totals(session: Session) -> int | None:
    """Write a checkpoint of the journal (:class:`AccountTotal`): every account's debits and
    credits over the entries posted so far, from the previous checkpoint and the entries after
    it. Returns the last entry counted (``None`` when the journal is empty). The caller commits.

    Entry numbers must not be counted before every entry below them is committed: on
    PostgreSQL, concurrent transactions can commit numbers out of order, so the checkpoint
    takes :data:`JOURNAL_LOCK` exclusively, which waits for the postings under way (each holds
    it shared, :func:`post_entry`) and holds new ones until the caller commits. (A table lock
    would need a privilege the application's role must not have on the journal.) SQLite has
    one writer at a time, which gives the same guarantee.
    """
    from loanfund.queries.ledger import latest_totals, totals_through

    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(JOURNAL_LOCK)))
    through = session.scalar(select(func.max(JournalEntry.id)))
    previous, _held = latest_totals(session)
    if through is None or through == previous:
        return through
    totals = totals_through(session, through)
    session.add_all(
        AccountTotal(through_entry_id=through, account=account, debit=debits, credit=credits)
        for account, (debits, credits) in totals.items()
    )
    session.flush()
    return through
