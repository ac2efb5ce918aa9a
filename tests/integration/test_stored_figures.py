"""The portfolio ledger reads a loan's figures from what the daily close stored when they
hold for the ledger's date, and replays the loan otherwise. Either way a row must be what the
replay gives: every test here compares the two, cell by cell, on the demo fund (loans current,
overdue, restructured, recalled, repaid and closed) and after a receipt dated before the close.
"""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from loanfund.domain.loans import LoanStatus
from loanfund.models import Loan, User
from loanfund.services.accounts import actor_for
from loanfund.services.daily_close import close_day
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.portfolio import figures_hold, portfolio_rows
from loanfund.services.repayments import record_repayment
from tests.conftest import TODAY


@pytest.fixture()
def demo(session, tmp_path):
    load_demo_fund(
        session, hash_password=lambda password: "x", today=TODAY, store=FileStore(tmp_path)
    )
    return session


def _both(session, day):
    stored = list(portfolio_rows(session, as_of=day))
    replayed = list(portfolio_rows(session, as_of=day, replay_all=True))
    return stored, replayed


def _holding(session, day):
    return {
        loan.contract_no
        for loan in session.scalars(select(Loan))
        if figures_hold(loan.status, loan.closed_on, loan.closed_through, day)
    }


def test_after_the_close_every_row_comes_from_the_stored_figures_and_equals_the_replay(demo):
    stored, replayed = _both(demo, TODAY)
    assert stored == replayed
    assert len(stored) == 6  # the demo's paid-out loans (a seventh is a contract only)
    # Every paid-out loan was read from its stored figures, the repaid one included (it was
    # closed on the day of its last close, before the ledger's date).
    holding = _holding(demo, TODAY)
    assert {row["contract_no"] for row in stored} <= holding
    closed = [row for row in stored if row["status"] == LoanStatus.CLOSED.value]
    assert closed and all(row["outstanding"] == 0 for row in closed)
    # The figures are not all zero: the comparison would hold for nothing otherwise.
    assert any(row["days_past_due"] > 90 for row in stored)
    assert any(row["interest_due"] > 0 and row["interest_paid"] > 0 for row in stored)
    assert any(row["debt_group"] > 1 for row in stored)


def test_a_day_before_the_last_close_is_replayed(demo):
    day = TODAY - dt.timedelta(days=40)
    assert _holding(demo, day) <= {
        loan.contract_no for loan in demo.scalars(select(Loan)) if loan.status is LoanStatus.CLOSED
    }
    stored, replayed = _both(demo, day)
    assert stored == replayed


def test_a_receipt_dated_before_the_close_clears_the_stored_figures_until_the_next_close(demo):
    officer = actor_for(demo.scalar(select(User).where(User.email == "officer@demo.quyhtx.vn")))
    overdue = max(
        (loan for loan in demo.scalars(select(Loan)) if loan.status is LoanStatus.ACTIVE),
        key=lambda loan: loan.days_past_due,
    )
    assert overdue.closed_through == TODAY and overdue.days_past_due > 30
    before = {row["contract_no"]: row for row in portfolio_rows(demo, as_of=TODAY)}
    record_repayment(
        demo,
        actor=officer,
        loan_id=overdue.id,
        received_on=TODAY,
        amount=Decimal(1_000_000),
        channel="bank",
        reference="GBC-late",
        idempotency_key="stored-figures-0001",
        today=TODAY,
    )
    demo.refresh(overdue)
    assert overdue.closed_through is None  # the close of TODAY did not see this receipt
    stored, replayed = _both(demo, TODAY)
    assert stored == replayed
    after = {row["contract_no"]: row for row in stored}
    # The million went to the loan as of today: what it owes fell by exactly that much.
    owed = ("outstanding", "accrued", "penalty")
    assert sum(before[overdue.contract_no][key] for key in owed) - sum(
        after[overdue.contract_no][key] for key in owed
    ) == Decimal(1_000_000)
    # Every other loan still comes from its stored figures.
    assert _holding(demo, TODAY) == {
        row["contract_no"] for row in stored if row["contract_no"] != overdue.contract_no
    }
    # The next close stores the loan's figures again, and they equal its replay.
    tomorrow = TODAY + dt.timedelta(days=1)
    close_day(demo, day=tomorrow)
    demo.refresh(overdue)
    assert overdue.closed_through == tomorrow
    stored, replayed = _both(demo, tomorrow)
    assert stored == replayed
    assert {row["contract_no"] for row in stored} <= _holding(demo, tomorrow)
