"""Reading the fund's books: balances, the fund's position, the journal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from loanfund.domain.ledger import (
    Account,
    EntryKind,
    FundPosition,
    TrialBalanceRow,
    balance_of,
    position_from_balances,
)
from loanfund.models import JournalEntry, JournalLine
from loanfund.models.types import Money
from loanfund.queries.pagination import Page, paginate


def account_balances(session: Session, *, as_of: dt.date | None = None) -> dict[Account, Decimal]:
    """Every account's balance on its normal side, from the journal (entries valued on or
    before ``as_of``, when given). Accounts without lines are 0."""
    debit = func.coalesce(func.sum(JournalLine.debit), 0, type_=Money())
    credit = func.coalesce(func.sum(JournalLine.credit), 0, type_=Money())
    query = select(JournalLine.account, debit, credit).group_by(JournalLine.account)
    if as_of is not None:
        query = query.join(JournalEntry).where(JournalEntry.value_date <= as_of)
    sums = {account: (debits, credits) for account, debits, credits in session.execute(query)}
    zero = Decimal(0)
    return {account: balance_of(account, *sums.get(account, (zero, zero))) for account in Account}


def fund_position(session: Session, *, as_of: dt.date, reserve: Decimal) -> FundPosition:
    """The fund's capital, cash and what it can lend today (DESIGN §4).

    Commitments are approved amounts not yet disbursed; cumulative disbursements are every debit
    ever made to loans receivable (capital turnover = that ÷ capital).
    """
    from loanfund.queries.loans import commitments

    disbursed = select(func.coalesce(func.sum(JournalLine.debit), 0, type_=Money())).where(
        JournalLine.account == Account.LOANS_RECEIVABLE
    )
    if as_of is not None:
        disbursed = disbursed.join(JournalEntry).where(JournalEntry.value_date <= as_of)
    return position_from_balances(
        account_balances(session, as_of=as_of),
        as_of=as_of,
        commitments=commitments(session),
        reserve=reserve,
        cumulative_disbursed=session.scalar(disbursed) or Decimal(0),
    )


def list_entries(
    session: Session, *, kind: EntryKind | None = None, page: int = 1
) -> Page[JournalEntry]:
    """Journal entries, newest value date first, with their lines loaded."""
    query = select(JournalEntry).options(selectinload(JournalEntry.lines))
    if kind is not None:
        query = query.where(JournalEntry.kind == kind)
    query = query.order_by(JournalEntry.value_date.desc(), JournalEntry.id.desc())
    return paginate(session, query, page=page)


def trial_balance(
    session: Session, *, date_from: dt.date, date_to: dt.date
) -> list[TrialBalanceRow]:
    """Every account's opening balance (entries valued before ``date_from``), its debits and
    credits in the period, and its closing balance."""
    debit = func.coalesce(func.sum(JournalLine.debit), 0, type_=Money())
    credit = func.coalesce(func.sum(JournalLine.credit), 0, type_=Money())

    def sums(*conditions: Any) -> dict[Account, tuple[Decimal, Decimal]]:
        query = (
            select(JournalLine.account, debit, credit)
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(*conditions)
            .group_by(JournalLine.account)
        )
        return {account: (d, c) for account, d, c in session.execute(query)}

    before = sums(JournalEntry.value_date < date_from)
    during = sums(JournalEntry.value_date >= date_from, JournalEntry.value_date <= date_to)
    zero = (Decimal(0), Decimal(0))
    return [
        TrialBalanceRow(
            account=account,
            opening=balance_of(account, *before.get(account, zero)),
            debits=during.get(account, zero)[0],
            credits=during.get(account, zero)[1],
        )
        for account in Account
    ]
