"""Reading the fund's books: balances, the fund's position, the journal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from loanfund.domain.ledger import (
    Account,
    EntryKind,
    FundPosition,
    TrialBalanceRow,
    balance_of,
    position_from_balances,
)
from loanfund.models import AccountTotal, JournalEntry, JournalLine
from loanfund.models.types import Money
from loanfund.queries.pagination import Page, paginate

Sums = dict[Account, tuple[Decimal, Decimal]]


def _line_sums(session: Session, entries: Select[Any] | None, *conditions: Any) -> Sums:
    """Debits and credits per account over the lines of ``entries`` (a query of entry ids;
    every entry when ``None``) whose entry meets ``conditions``.

    The lines are reached through the entry ids: SQLite would otherwise walk every line in
    account order for the GROUP BY."""
    debit = func.coalesce(func.sum(JournalLine.debit), 0, type_=Money())
    credit = func.coalesce(func.sum(JournalLine.credit), 0, type_=Money())
    query = select(JournalLine.account, debit, credit)
    if entries is not None:
        query = query.where(JournalLine.entry_id.in_(entries))
    if conditions:
        query = query.join(JournalEntry, JournalEntry.id == JournalLine.entry_id).where(*conditions)
    return {
        account: (debits, credits)
        for account, debits, credits in session.execute(query.group_by(JournalLine.account))
    }


def _entries(*conditions: Any) -> Select[Any]:
    return select(JournalEntry.id).where(*conditions)


def _combined(*parts: tuple[int, Sums]) -> Sums:
    """The signed sum (``+1`` or ``-1``) of several per-account sums."""
    total: dict[Account, tuple[Decimal, Decimal]] = {}
    for sign, sums in parts:
        for account, (debits, credits) in sums.items():
            held = total.get(account, (Decimal(0), Decimal(0)))
            total[account] = (held[0] + sign * debits, held[1] + sign * credits)
    return total


def latest_totals(session: Session) -> tuple[int | None, Sums]:
    """The latest checkpoint of the journal (:class:`AccountTotal`): the last entry it counts
    and every account's debits and credits up to it (``None, {}`` when there is none)."""
    through = session.scalar(select(func.max(AccountTotal.through_entry_id)))
    if through is None:
        return None, {}
    rows = session.execute(
        select(AccountTotal.account, AccountTotal.debit, AccountTotal.credit).where(
            AccountTotal.through_entry_id == through
        )
    )
    return through, {account: (debits, credits) for account, debits, credits in rows}


def account_totals(session: Session, *, as_of: dt.date | None = None) -> Sums:
    """Every account's debits and credits over the entries valued on or before ``as_of`` (all
    entries when ``None``): the latest checkpoint, plus the entries posted after it, less the
    entries it counts that are valued after ``as_of``. The journal is append-only, so this is
    the sum over every line, read from a few rows instead of millions."""
    through, checkpoint = latest_totals(session)
    if through is None:
        if as_of is None:
            return _line_sums(session, None)
        return _line_sums(session, _entries(JournalEntry.value_date <= as_of))
    newer = _entries(JournalEntry.id > through)
    if as_of is None:
        return _combined((1, checkpoint), (1, _line_sums(session, newer)))
    return _combined(
        (1, checkpoint),
        (1, _line_sums(session, newer, JournalEntry.value_date <= as_of)),
        (
            -1,
            _line_sums(
                session, _entries(JournalEntry.id <= through, JournalEntry.value_date > as_of)
            ),
        ),
    )


def totals_through(session: Session, through: int) -> Sums:
    """Every account's debits and credits over the entries numbered up to ``through``: the
    latest checkpoint (which must count no further) plus the entries after it."""
    previous, checkpoint = latest_totals(session)
    newer = _entries(JournalEntry.id > (previous or 0), JournalEntry.id <= through)
    return _combined((1, checkpoint), (1, _line_sums(session, newer)))


def _balances(sums: Sums) -> dict[Account, Decimal]:
    zero = (Decimal(0), Decimal(0))
    return {account: balance_of(account, *sums.get(account, zero)) for account in Account}


def account_balances(session: Session, *, as_of: dt.date | None = None) -> dict[Account, Decimal]:
    """Every account's balance on its normal side, from the journal (entries valued on or
    before ``as_of``, when given). Accounts without lines are 0."""
    return _balances(account_totals(session, as_of=as_of))


def fund_position(session: Session, *, as_of: dt.date, reserve: Decimal) -> FundPosition:
    """The fund's capital, cash and what it can lend today (DESIGN §4).

    Commitments are approved amounts not yet disbursed; cumulative disbursements are every debit
    ever made to loans receivable (capital turnover = that ÷ capital).
    """
    from loanfund.queries.loans import commitments

    sums = account_totals(session, as_of=as_of)
    return position_from_balances(
        _balances(sums),
        as_of=as_of,
        commitments=commitments(session),
        reserve=reserve,
        cumulative_disbursed=sums.get(Account.LOANS_RECEIVABLE, (Decimal(0), Decimal(0)))[0],
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
    before = account_totals(session, as_of=date_from - dt.timedelta(days=1))
    during = _line_sums(
        session, _entries(JournalEntry.value_date >= date_from, JournalEntry.value_date <= date_to)
    )
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
