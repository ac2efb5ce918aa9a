"""The fund's chart of accounts and the rules of a journal entry (DESIGN §4).

Every money movement is one double-entry journal entry: its lines debit and credit accounts and
the debits equal the credits. Balances are sums of lines; nothing else holds money. Off-book
(memo) accounts track interest the fund no longer counts as income; their lines balance among
themselves, so an entry never mixes the books with the memo.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import _, fmt_money
from loanfund.domain.money import is_whole_in


class AccountKind(enum.StrEnum):
    ASSET = "asset"
    CONTRA_ASSET = "contra_asset"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"
    MEMO = "memo"


#: Kinds whose balance grows with debits; the others grow with credits.
DEBIT_NORMAL = frozenset({AccountKind.ASSET, AccountKind.EXPENSE, AccountKind.MEMO})


class Account(enum.StrEnum):
    """The minimum chart of DESIGN §4; the value is the code stored on journal lines."""

    CASH = "cash"
    LOANS_RECEIVABLE = "loans_receivable"
    INTEREST_RECEIVABLE = "interest_receivable"
    PROVISION = "provision"
    FUND_CAPITAL = "fund_capital"
    INTEREST_INCOME = "interest_income"
    PENALTY_INCOME = "penalty_income"
    PROVISION_EXPENSE = "provision_expense"
    OFF_BOOK_INTEREST = "off_book_interest"
    OFF_BOOK_INTEREST_CONTRA = "off_book_interest_contra"

    @property
    def kind(self) -> AccountKind:
        return ACCOUNT_KINDS[self]

    @property
    def debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL


ACCOUNT_KINDS: dict[Account, AccountKind] = {
    Account.CASH: AccountKind.ASSET,
    Account.LOANS_RECEIVABLE: AccountKind.ASSET,
    Account.INTEREST_RECEIVABLE: AccountKind.ASSET,
    Account.PROVISION: AccountKind.CONTRA_ASSET,
    Account.FUND_CAPITAL: AccountKind.EQUITY,
    Account.INTEREST_INCOME: AccountKind.INCOME,
    Account.PENALTY_INCOME: AccountKind.INCOME,
    Account.PROVISION_EXPENSE: AccountKind.EXPENSE,
    # Memo pair: interest of a non-performing loan is tracked off the books (debit the memo,
    # credit its contra) until it is collected.
    Account.OFF_BOOK_INTEREST: AccountKind.MEMO,
    Account.OFF_BOOK_INTEREST_CONTRA: AccountKind.MEMO,
}


class EntryKind(enum.StrEnum):
    """Why an entry was made (the database accepts exactly these)."""

    CAPITAL_CONTRIBUTION = "capital_contribution"
    CAPITAL_WITHDRAWAL = "capital_withdrawal"
    DISBURSEMENT = "disbursement"
    REPAYMENT = "repayment"
    PENALTY = "penalty"
    INTEREST_ACCRUAL = "interest_accrual"
    PROVISION = "provision"
    WRITE_OFF = "write_off"
    REVERSAL = "reversal"


def account_label(account: Account) -> str:
    return {
        Account.CASH: _("Fund cash (bank)"),
        Account.LOANS_RECEIVABLE: _("Loans receivable (principal)"),
        Account.INTEREST_RECEIVABLE: _("Interest receivable"),
        Account.PROVISION: _("Loan-loss provision"),
        Account.FUND_CAPITAL: _("Fund capital"),
        Account.INTEREST_INCOME: _("Interest income"),
        Account.PENALTY_INCOME: _("Penalty income"),
        Account.PROVISION_EXPENSE: _("Provision expense"),
        Account.OFF_BOOK_INTEREST: _("Off-book interest (memo)"),
        Account.OFF_BOOK_INTEREST_CONTRA: _("Off-book interest, contra (memo)"),
    }[account]


def entry_kind_label(kind: EntryKind) -> str:
    return {
        EntryKind.CAPITAL_CONTRIBUTION: _("Capital contribution"),
        EntryKind.CAPITAL_WITHDRAWAL: _("Capital withdrawal"),
        EntryKind.DISBURSEMENT: _("Disbursement"),
        EntryKind.REPAYMENT: _("Repayment"),
        EntryKind.PENALTY: _("Penalty interest"),
        EntryKind.INTEREST_ACCRUAL: _("Interest accrual"),
        EntryKind.PROVISION: _("Provision"),
        EntryKind.WRITE_OFF: _("Write-off"),
        EntryKind.REVERSAL: _("Reversal"),
    }[kind]


@dataclass(frozen=True, slots=True)
class Line:
    """One side of an entry: an amount debited or credited to an account (the other is 0)."""

    account: Account
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)

    @classmethod
    def dr(cls, account: Account, amount: Decimal) -> Line:
        return cls(account, debit=amount)

    @classmethod
    def cr(cls, account: Account, amount: Decimal) -> Line:
        return cls(account, credit=amount)


def check_entry(lines: Iterable[Line], digits: int) -> list[str]:
    """Every reason these lines cannot be posted as one entry (empty when they can).

    An entry has at least two lines; each line debits or credits one positive amount with no
    more decimals than the currency's ``digits``; debits equal credits; and memo lines balance
    among themselves.
    """
    items = list(lines)
    problems: list[str] = []
    if len(items) < 2:
        problems.append(_("A journal entry needs at least two lines."))
    for number, line in enumerate(items, start=1):
        sides = [amount for amount in (line.debit, line.credit) if amount != 0]
        if len(sides) != 1 or sides[0] < 0:
            problems.append(
                _(
                    "Line %(n)s (%(account)s) must debit or credit one positive amount.",
                    n=number,
                    account=account_label(line.account),
                )
            )
        elif not is_whole_in(sides[0], digits):
            problems.append(
                _(
                    "Line %(n)s (%(account)s): %(amount)s has more decimals than the currency.",
                    n=number,
                    account=account_label(line.account),
                    amount=str(sides[0]),
                )
            )
    for memo in (False, True):
        part = [line for line in items if (line.account.kind is AccountKind.MEMO) is memo]
        debits = sum((line.debit for line in part), Decimal(0))
        credits = sum((line.credit for line in part), Decimal(0))
        if debits != credits:
            message = (
                _(
                    "The memo lines do not balance: debits %(debits)s, credits %(credits)s.",
                    debits=fmt_money(debits),
                    credits=fmt_money(credits),
                )
                if memo
                else _(
                    "Debits (%(debits)s) and credits (%(credits)s) differ by %(difference)s.",
                    debits=fmt_money(debits),
                    credits=fmt_money(credits),
                    difference=fmt_money(abs(debits - credits)),
                )
            )
            problems.append(message)
    return problems


def require_balanced(lines: Iterable[Line], digits: int) -> tuple[Line, ...]:
    """The lines as a tuple, or :class:`RuleViolation` listing every problem."""
    items = tuple(lines)
    problems = check_entry(items, digits)
    if problems:
        raise RuleViolation(problems)
    return items


def balance_of(account: Account, debits: Decimal, credits: Decimal) -> Decimal:
    """An account's balance on its normal side (assets: debits − credits; capital: the reverse)."""
    return debits - credits if account.debit_normal else credits - debits


@dataclass(frozen=True, slots=True)
class FundPosition:
    """The figures the fund steers by (DESIGN §4), all as of one date."""

    as_of: dt.date
    capital: Decimal
    cash: Decimal
    loans_outstanding: Decimal
    commitments: Decimal  # approved but not yet disbursed
    reserve: Decimal  # minimum liquidity reserve (a policy parameter)
    cumulative_disbursed: Decimal

    @property
    def available_to_lend(self) -> Decimal:
        """Cash − approved-but-undisbursed commitments − minimum reserve; never below zero."""
        return max(self.cash - self.commitments - self.reserve, Decimal(0))

    @property
    def capital_turnover(self) -> Decimal | None:
        """How many times the capital has been lent out: cumulative disbursed ÷ capital
        (``None`` while there is no capital), to two decimals."""
        if self.capital <= 0:
            return None
        return (self.cumulative_disbursed / self.capital).quantize(Decimal("0.01"))


def position_from_balances(
    balances: Mapping[Account, Decimal],
    *,
    as_of: dt.date,
    commitments: Decimal,
    reserve: Decimal,
    cumulative_disbursed: Decimal,
) -> FundPosition:
    zero = Decimal(0)
    return FundPosition(
        as_of=as_of,
        capital=balances.get(Account.FUND_CAPITAL, zero),
        cash=balances.get(Account.CASH, zero),
        loans_outstanding=balances.get(Account.LOANS_RECEIVABLE, zero),
        commitments=commitments,
        reserve=reserve,
        cumulative_disbursed=cumulative_disbursed,
    )


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    """One account over a period, on its normal side: opening + movements = closing."""

    account: Account
    opening: Decimal
    debits: Decimal
    credits: Decimal

    @property
    def closing(self) -> Decimal:
        return self.opening + balance_of(self.account, self.debits, self.credits)


def books_balance(rows: Iterable[TrialBalanceRow]) -> Decimal:
    """Σ debit-side closing balances − Σ credit-side ones: zero for balanced books."""
    total = Decimal(0)
    for row in rows:
        total += row.closing if row.account.debit_normal else -row.closing
    return total
