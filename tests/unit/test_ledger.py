"""The rules of a journal entry and the fund's position (DESIGN §4), without a database."""

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loanfund.domain.ledger import (
    Account,
    FundPosition,
    Line,
    balance_of,
    check_entry,
)

D = Decimal
VND = 0


def test_a_capital_contribution_debiting_cash_and_crediting_capital_balances():
    lines = [
        Line.dr(Account.CASH, D(25_000_000_000)),
        Line.cr(Account.FUND_CAPITAL, D(25_000_000_000)),
    ]
    assert check_entry(lines, VND) == []


def test_unequal_sides_are_refused_with_both_totals_and_the_difference():
    # Dr cash 1,000,000 and Cr capital 990,000: the debits exceed the credits by 10,000.
    problems = check_entry(
        [Line.dr(Account.CASH, D(1_000_000)), Line.cr(Account.FUND_CAPITAL, D(990_000))], VND
    )
    assert len(problems) == 1
    assert "1,000,000" in problems[0] and "990,000" in problems[0] and "10,000" in problems[0]


def test_a_single_line_a_two_sided_line_and_a_negative_line_are_each_refused():
    assert "at least two lines" in check_entry([Line.dr(Account.CASH, D(5))], VND)[0]
    two_sided = Line(Account.CASH, debit=D(5), credit=D(5))
    negative = Line(Account.FUND_CAPITAL, credit=D(-5))
    problems = check_entry([two_sided, negative], VND)
    assert any(p.startswith("Line 1 (Fund cash (bank))") for p in problems)
    assert any(p.startswith("Line 2 (Fund capital)") for p in problems)


def test_amounts_finer_than_the_currency_are_refused():
    half_dong = [Line.dr(Account.CASH, D("0.5")), Line.cr(Account.FUND_CAPITAL, D("0.5"))]
    assert len(check_entry(half_dong, VND)) == 2
    assert check_entry(half_dong, 2) == []  # fine in a two-digit currency


def test_memo_lines_must_balance_among_themselves_not_against_the_books():
    # Dr off-book interest 5 against Cr fund capital 5 balances in total but mixes the memo
    # with the books: the memo side is 5 against 0 and the books side 0 against 5.
    mixed = [Line.dr(Account.OFF_BOOK_INTEREST, D(5)), Line.cr(Account.FUND_CAPITAL, D(5))]
    assert len(check_entry(mixed, VND)) == 2
    memo = [
        Line.dr(Account.OFF_BOOK_INTEREST, D(5)),
        Line.cr(Account.OFF_BOOK_INTEREST_CONTRA, D(5)),
    ]
    assert check_entry(memo, VND) == []


amounts = st.lists(st.integers(min_value=1, max_value=10**15), min_size=1, max_size=6)


@given(debits=amounts, credit_split=st.integers(min_value=1, max_value=5))
def test_any_balanced_entry_passes_and_any_change_of_one_amount_is_caught(debits, credit_split):
    total = sum(debits)
    # Credits: the same total cut into ``credit_split`` positive parts (the last takes the rest).
    parts = min(credit_split, total)
    credits = [total // parts] * (parts - 1)
    credits.append(total - sum(credits))
    lines = [Line.dr(Account.CASH, D(amount)) for amount in debits] + [
        Line.cr(Account.FUND_CAPITAL, D(amount)) for amount in credits
    ]
    assert check_entry(lines, VND) == []
    tampered = [Line.dr(Account.CASH, lines[0].debit + 1), *lines[1:]]
    problems = check_entry(tampered, VND)
    assert len(problems) == 1 and "differ by 1" in problems[0]


def test_balances_are_read_on_each_accounts_normal_side():
    # Cash (an asset) received 100 and paid 30: 70. Capital (equity) credited 100: 100.
    assert balance_of(Account.CASH, D(100), D(30)) == D(70)
    assert balance_of(Account.FUND_CAPITAL, D(0), D(100)) == D(100)
    assert balance_of(Account.PROVISION, D(0), D(12)) == D(12)  # contra-asset: credit side


def _position(**changes):
    values = dict(
        as_of=dt.date(2026, 11, 23),
        capital=D(25_000_000_000),
        cash=D(3_000_000_000),
        loans_outstanding=D(22_000_000_000),
        commitments=D(800_000_000),
        reserve=D(500_000_000),
        cumulative_disbursed=D(37_500_000_000),
    )
    return FundPosition(**{**values, **changes})


def test_available_to_lend_is_cash_less_commitments_less_the_reserve():
    # 3,000,000,000 − 800,000,000 − 500,000,000 = 1,700,000,000.
    assert _position().available_to_lend == D(1_700_000_000)
    # Commitments larger than cash: nothing is available, never a negative figure.
    assert _position(commitments=D(2_900_000_000)).available_to_lend == D(0)


def test_capital_turnover_is_cumulative_disbursed_over_capital():
    # 37.5 bn lent out over the years on 25 bn of capital: the money revolved 1.5 times.
    assert _position().capital_turnover == D("1.50")
    assert _position(capital=D(0)).capital_turnover is None
