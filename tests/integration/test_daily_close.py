"""The daily close against hand-derived figures: ageing, debt groups, accruals on and off the
books, provisions, the snapshot; idempotence and catching up missed days.

The loan: 300,000,000 VND paid out on 23 Nov 2026, 36 months at 5.4 % a year (actual/365),
interest monthly, principal every third month. The first installment, 23 Dec 2026, is
interest only: 300,000,000 × 5.4 % × 30/365 = 1,331,506.8 → 1,331,507; the second, 23 Jan
2027: × 31/365 = 1,375,890.4 → 1,375,890.
"""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from loanfund.domain.ledger import Account
from loanfund.models import BusinessDay, DebtGroupChange, JournalEntry, Loan, PortfolioSnapshot
from loanfund.queries.ledger import account_balances
from loanfund.services.daily_close import close_day, close_through
from loanfund.services.repayments import record_repayment
from tests.integration.conftest import disbursed_loan

D = Decimal


@pytest.fixture
def loan(session, world):
    return disbursed_loan(session, world, amount=D(300_000_000), key="c1")


def test_a_current_loan_accrues_interest_on_the_books(session, loan):
    counts = close_day(session, day=dt.date(2026, 12, 10))
    session.refresh(loan)
    # 17 of the first period's 30 days: 1,331,507 × 17/30 = 754,520.6 → 754,521.
    assert (loan.days_past_due, loan.debt_group, loan.interest_accrued) == (0, 1, D(754_521))
    balances = account_balances(session)
    assert balances[Account.INTEREST_RECEIVABLE] == D(754_521)
    assert balances[Account.INTEREST_INCOME] == D(754_521)
    # Group 1: no specific provision; general 0.5 % × 300,000,000 = 1,500,000.
    assert (loan.specific_provision, loan.general_provision) == (0, D(1_500_000))
    assert balances[Account.PROVISION] == D(1_500_000) == balances[Account.PROVISION_EXPENSE]
    assert counts["entries"] == 2
    # Closing the same day again does nothing.
    entries = session.scalar(select(func.count(JournalEntry.id)))
    assert close_day(session, day=dt.date(2026, 12, 10))["skipped"] is True
    assert session.scalar(select(func.count(JournalEntry.id))) == entries


def test_an_unpaid_installment_ages_the_loan_and_moves_interest_off_the_books(session, loan):
    close_day(session, day=dt.date(2026, 12, 10))
    close_day(session, day=dt.date(2027, 1, 5))
    session.refresh(loan)
    # 5 Jan: the 23 Dec installment is 13 days late: group 2 (from 10 days).
    assert (loan.days_past_due, loan.own_group, loan.debt_group) == (13, 2, 2)
    change = session.scalars(select(DebtGroupChange)).one()
    assert (change.from_group, change.to_group, change.reason) == (1, 2, "days")
    # Earned: 1,331,507 + 13 of 31 days of 1,375,890 = 576,986.5 → 576,986; 1,908,493 in all,
    # none paid. In group 2 it is tracked off the books, and the income recognised on
    # 10 Dec is taken back.
    assert loan.interest_accrued == D(1_908_493)
    balances = account_balances(session)
    assert balances[Account.INTEREST_RECEIVABLE] == 0 == balances[Account.INTEREST_INCOME]
    assert balances[Account.OFF_BOOK_INTEREST] == D(1_908_493)
    # Group 2: specific 2 % × 300,000,000 = 6,000,000; general 1,500,000.
    assert balances[Account.PROVISION] == D(7_500_000)
    snapshot = session.get(PortfolioSnapshot, dt.date(2027, 1, 5))
    assert snapshot.by_group["2"] == "300000000" and snapshot.count_by_group["2"] == 1
    assert snapshot.par30_pct == 0 and snapshot.bad_debt_pct == 0


def test_payment_brings_the_loan_back_and_missed_days_are_closed_in_order(session, world, loan):
    close_day(session, day=dt.date(2027, 1, 5))
    record_repayment(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        received_on=dt.date(2027, 1, 6),
        amount=D(1_331_507),
        channel="bank",
        reference="",
        idempotency_key="close-pay-xxxxxx",
        today=dt.date(2027, 1, 6),
    )
    days = close_through(session, through=dt.date(2027, 1, 9))
    assert [d["business_date"] for d in days] == [
        "2027-01-06",
        "2027-01-07",
        "2027-01-08",
        "2027-01-09",
    ]
    session.refresh(loan)
    assert (loan.days_past_due, loan.debt_group) == (0, 1)
    # 9 Jan: 17 of 31 days of 1,375,890 = 754,520.3 → 754,520 earned and unpaid, on the books.
    assert loan.interest_accrued == D(754_520)
    balances = account_balances(session)
    assert balances[Account.INTEREST_RECEIVABLE] == D(754_520)
    assert balances[Account.OFF_BOOK_INTEREST] == 0
    # Income = what was paid (1,331,507) + what is earned and unpaid.
    assert balances[Account.INTEREST_INCOME] == D(1_331_507) + D(754_520)
    assert [c.to_group for c in session.scalars(select(DebtGroupChange))] == [2, 1]
    assert session.scalar(select(func.count(BusinessDay.business_date))) == 5


def test_all_loans_of_a_borrower_take_its_worst_group(session, world, loan):
    other = disbursed_loan(session, world, amount=D(100_000_000), key="c2")
    record_repayment(
        session,
        actor=world["officer"],
        loan_id=other.id,
        received_on=dt.date(2026, 12, 23),
        amount=D(443_836),  # 100,000,000 × 5.4 % × 30/365 = 443,835.6 → 443,836
        channel="bank",
        reference="",
        idempotency_key="close-other-xxxx",
        today=dt.date(2026, 12, 23),
    )
    close_day(session, day=dt.date(2027, 1, 5))
    session.refresh(loan)
    session.refresh(other)
    assert (other.days_past_due, other.own_group, other.debt_group) == (0, 1, 2)
    reasons = {c.loan_id: c.reason for c in session.scalars(select(DebtGroupChange))}
    assert reasons == {loan.id: "days", other.id: "borrower"}


def test_a_restructured_loan_is_at_least_in_group_2(session, world, loan):
    from loanfund.services.restructurings import decide_restructuring, propose_restructuring

    day = dt.date(2026, 12, 20)
    proposal = propose_restructuring(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        kind="reschedule",
        request_on=day,
        request_reference="CV 1",
        reason="drought",
        installments=24,
        first_due_on=dt.date(2027, 1, 20),
        today=day,
    )
    decide_restructuring(
        session,
        actor=world["approver"],
        restructuring_id=proposal.id,
        verdict="approve",
        note="",
        today=day,
    )
    close_day(session, day=dt.date(2026, 12, 21))
    session.refresh(loan)
    assert (loan.days_past_due, loan.debt_group) == (0, 2)
    change = session.scalars(select(DebtGroupChange)).one()
    assert change.reason == "restructuring"
    assert session.get(Loan, loan.id).restructure_count == 1
