"""Posting to the fund's books. Every money movement goes through :func:`post_entry`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.ledger import Account, EntryKind, Line, require_balanced
from loanfund.models import JournalEntry, JournalLine
from loanfund.models.types import money_digits
from loanfund.services.audit import record_event

#: Longest description and reference a user may type.
DESCRIPTION_MAX = 500
REFERENCE_MAX = 120


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
) -> JournalEntry:
    """Add one balanced entry to the caller's transaction (the caller commits).

    Business services call this in the same transaction as their own change, so the books and
    the business state can never disagree.

    Raises:
        RuleViolation: the lines do not balance, or an amount is not a currency amount.
    """
    checked = require_balanced(lines, money_digits())
    entry = JournalEntry(
        kind=kind,
        value_date=value_date,
        description=description,
        reference=reference,
        cooperative_id=cooperative_id,
        loan_id=loan_id,
        posted_by_id=actor.user_id,
        posted_by_label=actor.label,
    )
    entry.lines = [
        JournalLine(account=line.account, debit=line.debit, credit=line.credit) for line in checked
    ]
    session.add(entry)
    session.flush()
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
    """Money paid into the fund's capital (from the budget, the Union or a donor) arrives in
    the fund's bank account: debit fund cash, credit fund capital.

    Args:
        amount: the amount received, in the fund currency.
        value_date: the bank's value date; not in the future.
        source: who contributed, and under which decision, in words.
        reference: the bank voucher or decision number.
        today: the fund's business date.

    Raises:
        NotPermitted: the actor may not record capital.
        RuleViolation: every problem with the input, together.
    """
    authorize(actor, Permission.RECORD_CAPITAL)
    source = source.strip()
    reference = reference.strip()
    problems: list[str] = []
    if amount <= 0:
        problems.append(_("The amount received must be more than zero."))
    if value_date > today:
        problems.append(
            _(
                "The value date %(value_date)s is in the future; record money when the bank "
                "has received it (today is %(today)s).",
                value_date=fmt_date(value_date),
                today=fmt_date(today),
            )
        )
    if not source:
        problems.append(_("Say who contributed the capital."))
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
    if problems:
        raise RuleViolation(problems)
    entry = post_entry(
        session,
        actor=actor,
        kind=EntryKind.CAPITAL_CONTRIBUTION,
        value_date=value_date,
        lines=[Line.dr(Account.CASH, amount), Line.cr(Account.FUND_CAPITAL, amount)],
        description=source,
        reference=reference,
    )
    session.commit()
    return entry
