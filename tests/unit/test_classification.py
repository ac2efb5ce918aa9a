"""Debt groups, provisions and portfolio at risk against hand-derived examples (DESIGN §3)."""

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loanfund.domain.classification import (
    LoanFigures,
    Thresholds,
    borrower_groups,
    days_past_due,
    general_provision,
    group_by_days,
    loan_group,
    portfolio,
    specific_provision,
)
from loanfund.domain.repayments import Due, initial_state

D = Decimal
T = Thresholds()  # G2 from 10 days, G3 from 30, G4 from 90, G5 from 180
RATES = {1: D(0), 2: D(2), 3: D(25), 4: D(50), 5: D(100)}


def test_days_past_due_count_from_the_oldest_unpaid_installment():
    states = initial_state(
        [
            Due(1, dt.date(2026, 2, 15), D(100), D(10)),
            Due(2, dt.date(2026, 3, 15), D(100), D(5)),
        ],
        dt.date(2026, 1, 15),
    )
    assert days_past_due(states, dt.date(2026, 2, 15)) == 0  # due today is not late
    assert days_past_due(states, dt.date(2026, 2, 16)) == 1
    states[0].principal_paid = D(100)
    assert days_past_due(states, dt.date(2026, 3, 20)) == 33  # interest of 15 Feb still owed
    states[0].interest_paid = D(10)
    assert days_past_due(states, dt.date(2026, 3, 20)) == 5


def test_group_thresholds_are_inclusive_at_their_first_day():
    assert [group_by_days(d, T) for d in (0, 9, 10, 29, 30, 89, 90, 179, 180, 1000)] == [
        1, 1, 2, 2, 3, 3, 4, 4, 5, 5,
    ]  # fmt: skip


def test_restructuring_floors_and_the_borrowers_worst_group():
    assert [loan_group(0, count, T) for count in (0, 1, 2, 3, 4)] == [1, 2, 4, 5, 5]
    assert loan_group(95, 1, T) == 4  # its days put it lower than the floor
    # Borrower 7 has loans in groups 1 and 3; borrower 8 one in group 2.
    assert borrower_groups({1: (7, 1), 2: (7, 3), 3: (8, 2)}) == {1: 3, 2: 3, 3: 2}


def test_provisions_round_once_per_loan():
    # 333,333,334 in G2: 2 % = 6,666,666.68 → 6,666,667; general 0.5 % = 1,666,666.67 →
    # 1,666,667. A G5 loan has only its specific provision (100 %).
    assert specific_provision(D(333_333_334), 2, RATES, 0) == D(6_666_667)
    assert general_provision(D(333_333_334), 2, D("0.5"), 0) == D(1_666_667)
    assert specific_provision(D(50_000_000), 5, RATES, 0) == D(50_000_000)
    assert general_provision(D(50_000_000), 5, D("0.5"), 0) == 0


def test_portfolio_at_risk_is_weighted_by_balance():
    # 1,000 outstanding: 600 current, 300 at 45 days, 100 at 120 days.
    # PAR30 = (300 + 100) / 1,000 = 40 %; PAR90 = 100 / 1,000 = 10 %; bad debt (G3–G5) 40 %.
    figures = portfolio(
        [
            LoanFigures(1, D(600), 0, 1),
            LoanFigures(2, D(300), 45, 3),
            LoanFigures(3, D(100), 120, 4),
        ]
    )
    assert (figures.par30_pct, figures.par90_pct, figures.bad_debt_pct) == (D(40), D(10), D(40))
    assert figures.by_group == {1: D(600), 2: D(0), 3: D(300), 4: D(100), 5: D(0)}
    assert figures.count_by_group[3] == 1
    # Exactly 30 days past due is not "more than 30".
    assert portfolio([LoanFigures(1, D(10), 30, 3)]).par30_pct == 0


@given(
    loans=st.lists(
        st.tuples(st.integers(0, 10**12), st.integers(0, 400), st.integers(0, 3)), max_size=30
    )
)
def test_groups_only_worsen_with_days_and_par_stays_within_bounds(loans):
    figures = [
        LoanFigures(i, D(amount), dpd, loan_group(dpd, count, T))
        for i, (amount, dpd, count) in enumerate(loans)
    ]
    result = portfolio(figures)
    assert 0 <= result.par90_pct <= result.par30_pct <= 100
    assert sum(result.by_group.values()) == result.outstanding
    for _, dpd, count in loans:
        assert loan_group(dpd, count, T) <= loan_group(dpd + 1, count, T)
