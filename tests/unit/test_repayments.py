"""Allocation of receipts, penalty interest and payoff, against hand-derived figures.

The loan in every example: 3,000,000 VND lent on 15 Jan 2026 at 12 % a year, overdue interest
150 % of the rate (18 % a year), three installments of 1,000,000 principal on 15 Feb, 15 Mar
and 15 Apr 2026 with 30,000, 20,000 and 10,000 interest.
"""

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loanfund.domain.errors import RuleViolation
from loanfund.domain.repayments import (
    Change,
    Component,
    Due,
    Terms,
    allocate,
    apply_change,
    change_basis,
    initial_state,
    installment_status,
    payoff,
    state_from_row,
    state_row,
)

D = Decimal
C = Component
DUES = [
    Due(1, dt.date(2026, 2, 15), D(1_000_000), D(30_000)),
    Due(2, dt.date(2026, 3, 15), D(1_000_000), D(20_000)),
    Due(3, dt.date(2026, 4, 15), D(1_000_000), D(10_000)),
]
TERMS = Terms(
    disbursed_on=dt.date(2026, 1, 15), annual_rate_pct=D(12), overdue_rate_pct_of_rate=D(150)
)


def fresh():
    return initial_state(DUES, TERMS.disbursed_on)


def test_paying_on_the_due_date_pays_that_installment_and_nothing_else():
    states = fresh()
    allocation = allocate(states, TERMS, dt.date(2026, 2, 15), D(1_030_000))
    assert allocation.by_component == {
        C.CURRENT_INTEREST: D(30_000),
        C.CURRENT_PRINCIPAL: D(1_000_000),
    }
    assert [installment_status(s, dt.date(2026, 2, 15)) for s in states] == ["paid", "due", "due"]


def test_the_vietnamese_order_pays_overdue_principal_first_and_penalty_runs_per_day():
    states = fresh()
    # 7 Mar: installment 1 is 20 days late. Principal first: all 500,000 to its principal.
    first = allocate(states, TERMS, dt.date(2026, 3, 7), D(500_000))
    assert first.by_component == {C.OVERDUE_PRINCIPAL: D(500_000)}
    # 15 Mar: penalty 1,000,000 × 18 % × 20/365 = 9,863.01… then 500,000 × 18 % × 8/365
    # = 1,972.60…; together 11,835.62 → 11,836. Then: overdue principal 500,000, overdue
    # interest 30,000, penalty 11,836, interest 20,000, principal 1,000,000 = 1,561,836; the
    # remaining 438,164 of 2,000,000 prepays installment 3.
    second = allocate(states, TERMS, dt.date(2026, 3, 15), D(2_000_000))
    assert second.by_component == {
        C.OVERDUE_PRINCIPAL: D(500_000),
        C.OVERDUE_INTEREST: D(30_000),
        C.PENALTY: D(11_836),
        C.CURRENT_INTEREST: D(20_000),
        C.CURRENT_PRINCIPAL: D(1_000_000),
        C.PREPAYMENT: D(438_164),
    }
    assert states[2].principal_left == D(561_836)


def test_the_interest_first_order_and_interest_accrued_to_date():
    states = fresh()
    terms = replace(TERMS, order="interest_first")
    # 7 Mar: penalty 9,863; overdue interest 30,000; installment 2's interest accrued for 20
    # of its 28 days: 20,000 × 20/28 = 14,285.71… → 14,286; the rest, 445,851, to principal.
    allocation = allocate(states, terms, dt.date(2026, 3, 7), D(500_000))
    assert allocation.by_component == {
        C.PENALTY: D(9_863),
        C.OVERDUE_INTEREST: D(30_000),
        C.CURRENT_INTEREST: D(14_286),
        C.OVERDUE_PRINCIPAL: D(445_851),
    }


def test_more_than_the_payoff_is_refused_with_the_payoff():
    # On 7 Mar the loan owes: 1,000,000 + 30,000 overdue, penalty 9,863, interest accrued
    # 14,286, and 2,000,000 of later principal: 3,054,149.
    states = fresh()
    quote = payoff(states, TERMS, dt.date(2026, 3, 7))
    assert quote.total == D(3_054_149)
    with pytest.raises(RuleViolation, match="3,054,149"):
        allocate(states, TERMS, dt.date(2026, 3, 7), D(3_054_150))
    allocate(states, TERMS, dt.date(2026, 3, 7), D(3_054_149))
    assert all(s.principal_left == 0 for s in states)
    assert payoff(states, TERMS, dt.date(2026, 3, 7)).total == 0


@given(
    receipts=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=120), st.integers(min_value=1, max_value=3_100_000)
        ),
        min_size=1,
        max_size=6,
    ),
    order=st.sampled_from(["principal_first", "interest_first"]),
)
def test_every_receipt_is_fully_allocated_and_nothing_is_overpaid(receipts, order):
    terms = replace(TERMS, order=order)
    states = fresh()
    day = TERMS.disbursed_on
    for offset, amount in sorted(receipts):
        day = TERMS.disbursed_on + dt.timedelta(days=offset)
        quote = payoff(states, terms, day).total
        if quote == 0:
            break
        allocation = allocate(states, terms, day, min(D(amount), quote))
        assert sum(allocation.by_component.values()) == allocation.amount
        assert all(value > 0 for value in allocation.by_component.values())
    for state in states:
        assert 0 <= state.principal_paid <= state.due.principal
        assert 0 <= state.interest_paid <= state.due.interest
        assert state.penalty_paid >= 0


def _prepay_on_the_first_due_date(mode):
    # 15 Feb: installment 1 (1,030,000) and 1,000,000 more, a prepayment.
    states = fresh()
    allocation = allocate(
        states, replace(TERMS, prepayment_mode=mode), dt.date(2026, 2, 15), D(2_030_000)
    )
    assert allocation.by_component[C.PREPAYMENT] == D(1_000_000)
    return states


def test_a_prepayment_keeping_the_term_lowers_every_later_installment_in_proportion():
    states = _prepay_on_the_first_due_date("keep_term")
    # 1,000,000 of the 2,000,000 still owed: half of each later installment's principal,
    # and the balance of each later period halves, so its interest halves: installment 2
    # owes 500,000 + 10,000, installment 3 500,000 + 5,000. The dates stay.
    assert [(s.principal_left, s.interest_left) for s in states[1:]] == [
        (D(500_000), D(10_000)),
        (D(500_000), D(5_000)),
    ]
    # On 15 Mar the loan is settled by installment 2 in full and installment 3's principal.
    assert payoff(states, TERMS, dt.date(2026, 3, 15)).total == D(510_000) + D(500_000)


def test_a_prepayment_shortening_the_term_pays_off_the_last_installments():
    states = _prepay_on_the_first_due_date("shorten_term")
    # Installment 3 is prepaid in full: its period's balance is 0, so no interest (was
    # 10,000); installment 2's period balance falls from 2,000,000 to 1,000,000: 10,000.
    assert [(s.principal_left, s.interest_left) for s in states[1:]] == [
        (D(1_000_000), D(10_000)),
        (D(0), D(0)),
    ]
    assert installment_status(states[2], dt.date(2026, 2, 15)) == "paid"


def test_interest_on_late_interest_runs_on_unpaid_overdue_interest():
    # 10 % a year on installment 1's 30,000 interest, 20 days late on 7 Mar:
    # 30,000 × 10 % × 20/365 = 164.38; with the penalty on principal, 9,863.01 + 164.38
    # = 10,027.40 → 10,027 (3,054,149 without it, see above, less 9,863, plus 10,027).
    terms = replace(TERMS, late_interest_rate_pct=D(10))
    assert payoff(fresh(), terms, dt.date(2026, 3, 7)).total == D(3_054_149) - 9_863 + 10_027


def test_a_restructuring_settles_the_past_and_keeps_the_payoff():
    states = fresh()
    day = dt.date(2026, 3, 7)
    before = payoff(states, TERMS, day)
    # Nothing paid by 7 Mar: installment 1 is kept; the new installments carry all
    # 3,000,000 of principal, and 30,000 + 14,286 (installment 2's interest accrued for 20
    # of its 28 days) of interest.
    basis = change_basis(states, TERMS, day, restructure=True)
    assert (basis.kept, basis.principal, basis.interest) == (1, D(3_000_000), D(44_286))
    new = (
        Due(2, dt.date(2026, 4, 7), D(1_500_000), D(15_000) + basis.interest, basis.interest),
        Due(3, dt.date(2026, 5, 7), D(1_500_000), D(7_500)),
    )
    states = apply_change(states, TERMS, Change(day, basis.kept, new, True, day))
    after = payoff(states, TERMS, day)
    assert after.total == before.total  # 3,000,000 + 44,286 + penalty 9,863
    assert after.by_component[C.PENALTY] == D(9_863)
    # No penalty runs on the settled installment afterwards, and none is due yet on the
    # new ones: on 20 Mar the penalty is still 9,863.
    assert payoff(states, TERMS, dt.date(2026, 3, 20)).by_component[C.PENALTY] == D(9_863)


@given(
    receipts=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=120), st.integers(min_value=1, max_value=3_100_000)
        ),
        min_size=1,
        max_size=6,
    ),
    mode=st.sampled_from(["keep_term", "shorten_term"]),
    change_on=st.integers(min_value=1, max_value=100),
)
def test_prepayments_and_changes_keep_principal_whole(receipts, mode, change_on):
    """Whatever is received, principal paid + principal owed = 3,000,000, and a change on
    any day leaves that day's payoff as it was."""
    terms = replace(TERMS, prepayment_mode=mode)
    states = fresh()
    for offset, amount in sorted(receipts):
        day = TERMS.disbursed_on + dt.timedelta(days=offset)
        quote = payoff(states, terms, day).total
        if quote == 0:
            break
        allocate(states, terms, day, min(D(amount), quote))
        paid = sum((s.principal_paid for s in states), D(0))
        assert paid + sum((s.principal_left for s in states), D(0)) == D(3_000_000)
        assert all(0 <= s.interest_cut <= s.due.interest for s in states)
    day = max(
        TERMS.disbursed_on + dt.timedelta(days=change_on),
        TERMS.disbursed_on + dt.timedelta(days=max(offset for offset, _ in receipts)),
    )
    before = payoff(states, terms, day).total
    basis = change_basis(states, terms, day, restructure=True)
    if basis.principal == 0:
        return
    new = (Due(9, day + dt.timedelta(days=30), basis.principal, basis.interest, basis.interest),)
    after = apply_change(states, terms, Change(day, basis.kept, new, True, day))
    assert payoff(after, terms, day).total == before


@given(
    receipts=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=150), st.integers(min_value=1, max_value=3_100_000)
        ),
        max_size=6,
    ),
    mode=st.sampled_from(["keep_term", "shorten_term"]),
    late=st.sampled_from([D(0), D(12)]),
    later=st.integers(min_value=0, max_value=200),
)
def test_a_kept_state_reads_back_exactly_and_goes_on_as_the_original(receipts, mode, late, later):
    """The daily close keeps each loan's replayed installments as rows (``state_row``) and
    starts the next day from them: read back, they are equal field by field, the unrounded
    penalty included, and a payoff or a further receipt on them gives what it gives on the
    original."""
    terms = replace(TERMS, prepayment_mode=mode, late_interest_rate_pct=late)
    states = fresh()
    day = TERMS.disbursed_on
    for offset, amount in sorted(receipts):
        day = TERMS.disbursed_on + dt.timedelta(days=offset)
        quote = payoff(states, terms, day).total
        if quote == 0:
            break
        allocate(states, terms, day, min(D(amount), quote))
    rows = json.loads(json.dumps([state_row(state) for state in states]))
    back = [state_from_row(row) for row in rows]
    assert back == states
    assert [state.accrued_to for state in back] == [state.accrued_to for state in states]
    then = day + dt.timedelta(days=later)
    quote = payoff(states, terms, then)
    assert payoff(back, terms, then) == quote
    if quote.total:
        assert allocate(back, terms, then, quote.total) == allocate(
            states, terms, then, quote.total
        )
        assert back == states
