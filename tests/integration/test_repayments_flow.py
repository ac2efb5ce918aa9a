"""Receipts on a loan: allocated by the fund's order, posted to the books, closing the loan."""

import datetime as dt
from decimal import Decimal

import pytest

from loanfund.domain.errors import RuleViolation
from loanfund.domain.ledger import Account
from loanfund.domain.loans import LoanStatus
from loanfund.queries.ledger import account_balances
from loanfund.queries.loans import principal_by_loan
from loanfund.services.repayments import payoff_quote, record_repayment, replay
from tests.conftest import PG_URL, TODAY
from tests.integration.conftest import disbursed_loan

D = Decimal


@pytest.fixture
def active(session, world):
    """300 m lent on 23 Nov 2026 over 36 months, principal every third month, at 5.4 %."""
    return disbursed_loan(session, world, amount=D(300_000_000), key="t1")


def _pay(session, world, loan, day, amount, key):
    return record_repayment(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        received_on=day,
        amount=D(amount),
        channel="bank",
        reference="GBC",
        idempotency_key=key,
        today=day,
    )


def test_an_installment_paid_on_its_due_date_is_interest_income_and_a_receipt(
    session, world, active
):
    # First installment, 23 Dec 2026: no principal (every third), interest
    # 300,000,000 × 5.4 % × 30/365 = 1,331,506.85 → 1,331,507.
    states, _terms = replay(session, active)
    assert states[0].due.interest == D(1_331_507) and states[0].due.principal == 0
    receipt = _pay(session, world, active, dt.date(2026, 12, 23), "1331507", "r1")
    assert receipt.allocation["by_component"] == {"current_interest": "1331507"}
    assert _pay(session, world, active, dt.date(2026, 12, 23), "1331507", "r1").id == receipt.id
    balances = account_balances(session)
    assert balances[Account.INTEREST_INCOME] == D(1_331_507)
    assert balances[Account.LOANS_RECEIVABLE] == D(300_000_000)


def test_receipts_are_dated_in_order_and_capped_at_the_payoff(session, world, active):
    _pay(session, world, active, dt.date(2026, 12, 23), "1000000", "a")
    with pytest.raises(RuleViolation, match="date order"):
        _pay(session, world, active, dt.date(2026, 12, 20), "1000", "b")
    quote = payoff_quote(session, active, dt.date(2027, 1, 5)).total
    with pytest.raises(RuleViolation, match="payoff"):
        _pay(session, world, active, dt.date(2027, 1, 5), str(quote + 1), "c")


def test_paying_the_payoff_closes_the_loan_and_the_books_reconcile(session, world, active):
    day = dt.date(2027, 3, 1)
    quote = payoff_quote(session, active, day)
    receipt = _pay(session, world, active, day, str(quote.total), "all")
    assert active.status is LoanStatus.CLOSED
    parts = receipt.allocation["by_component"]
    assert sum(D(value) for value in parts.values()) == quote.total
    balances = account_balances(session)
    # Everything lent came back: receivable 0, and cash + interest + penalty reconcile.
    assert balances[Account.LOANS_RECEIVABLE] == 0 == sum(principal_by_loan(session).values())
    assert (
        balances[Account.CASH]
        == balances[Account.FUND_CAPITAL]
        + balances[Account.INTEREST_INCOME]
        + balances[Account.PENALTY_INCOME]
    )
    assert balances[Account.PENALTY_INCOME] > 0  # the 23 Feb principal was paid 6 days late


def test_a_reversal_needs_a_second_person_and_later_receipts_are_allocated_again(
    session, world, active, factory
):
    from sqlalchemy import select

    from loanfund.domain.errors import NotPermitted
    from loanfund.domain.roles import Role
    from loanfund.models import JournalEntry
    from loanfund.services.accounts import actor_for
    from loanfund.services.repayments import approve_reversal, request_reversal

    # 23 Dec: the first installment's interest, 1,331,507. 23 Jan: 2,000,000, which pays the
    # second installment's interest and prepays the rest.
    wrong = _pay(session, world, active, dt.date(2026, 12, 23), "1331507", "w")
    later = _pay(session, world, active, dt.date(2027, 1, 23), "2000000", "l")
    before = dict(later.allocation["by_component"])
    assert "overdue_interest" not in before
    both = actor_for(factory.user(Role.OFFICER, Role.APPROVER))
    request_reversal(session, actor=both, repayment_id=wrong.id, reason="Wrong loan.")
    with pytest.raises(NotPermitted, match="four-eyes"):
        approve_reversal(session, actor=both, repayment_id=wrong.id)
    approve_reversal(session, actor=world["approver"], repayment_id=wrong.id)
    session.expire_all()
    assert session.get(type(wrong), wrong.id).status == "reversed"
    # Without the 23 Dec receipt, the 23 Jan one first pays installment 1's interest, now
    # overdue (principal first: overdue principal is 0, then overdue interest 1,331,507).
    after = session.get(type(later), later.id).allocation["by_component"]
    assert after["overdue_interest"] == "1331507"
    assert sum(D(value) for value in after.values()) == D(2_000_000)
    # Nothing deleted: the original entries stand, each mirrored by a reversal.
    reversals = session.scalars(select(JournalEntry).where(JournalEntry.kind == "reversal")).all()
    assert len(reversals) == 2 and all(entry.reverses_id for entry in reversals)
    balances = account_balances(session)
    assert balances[Account.CASH] == D(25_000_000_000) - D(300_000_000) + D(2_000_000)


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL for real concurrency (.ci/run sets it)")
def test_one_receipt_form_submitted_twenty_times_at_once_is_recorded_once(
    app, session, world, active
):
    import threading

    from sqlalchemy import func, select

    from loanfund.domain.errors import LoanFundError
    from loanfund.models import AuditEvent, JournalEntry, Repayment, db

    loan_id, officer = active.id, world["officer"]
    session.remove()
    outcomes: list[int] = []
    barrier = threading.Barrier(20)

    def attempt() -> None:
        with app.app_context():
            barrier.wait()
            try:
                receipt = record_repayment(
                    db.session,
                    actor=officer,
                    loan_id=loan_id,
                    received_on=TODAY,
                    amount=D(5_000_000),
                    channel="bank",
                    reference="GBC",
                    idempotency_key="same-form-key-0001",
                    today=TODAY,
                )
                outcomes.append(receipt.id)
            except LoanFundError:
                outcomes.append(-1)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 20 and len({o for o in outcomes if o > 0}) == 1
    counts = (
        db.session.scalar(select(func.count(Repayment.id))),
        db.session.scalar(
            select(func.count(JournalEntry.id)).where(JournalEntry.kind == "repayment")
        ),
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "loan.repayment")
        ),
    )
    assert counts == (1, 1, 1)


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL for real concurrency (.ci/run sets it)")
def test_receipts_recorded_at_the_same_moment_never_share_an_allocation(
    app, session, world, active
):
    import threading

    from loanfund.domain.errors import LoanFundError
    from loanfund.models import Repayment, db
    from loanfund.services.loan_state import replay_receipts

    loan_id, officer = active.id, world["officer"]
    session.remove()
    barrier = threading.Barrier(10)

    def attempt(number: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                record_repayment(
                    db.session,
                    actor=officer,
                    loan_id=loan_id,
                    received_on=TODAY,
                    amount=D(1_000_000),
                    channel="bank",
                    reference="",
                    idempotency_key=f"form-{number:04d}-{'x' * 12}",
                    today=TODAY,
                )
            except LoanFundError:
                pass
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    receipts = db.session.query(Repayment).order_by(Repayment.sequence).all()
    assert receipts and [r.sequence for r in receipts] == list(range(1, len(receipts) + 1))
    # What each receipt recorded is what a calm, one-at-a-time replay allocates.
    loan = db.session.get(type(active), loan_id)
    _states, _terms, allocations = replay_receipts(db.session, loan)
    assert [receipt.id for receipt, _ in allocations] == [receipt.id for receipt in receipts]
    for receipt, fresh in allocations:
        assert {k.value: str(v) for k, v in fresh.by_component.items()} == receipt.allocation[
            "by_component"
        ]
