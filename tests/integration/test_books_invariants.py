"""Random sequences of money movements keep the books true (Hypothesis stateful testing).

Operations, on several loans, while the business date moves forward by random steps: capital
received; tranches requested, approved, paid or cancelled; receipts recorded (partial, exact,
prepayments) and reversed; restructurings proposed and approved. After every step: each entry
balances, the books balance, each receipt is fully allocated and is what a calm replay of the
loan allocates, each loan owes what was paid out less the principal repaid, cash never goes
negative, and what open loans were approved for equals what they were paid out plus what is
still committed.
"""

import datetime as dt
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select

from loanfund.domain.access import SYSTEM
from loanfund.domain.errors import LoanFundError
from loanfund.domain.ledger import Account, books_balance
from loanfund.domain.loans import LoanStatus, TrancheStatus
from loanfund.models import (
    JournalEntry,
    JournalLine,
    Loan,
    Repayment,
    Restructuring,
    Tranche,
    db,
)
from loanfund.queries.ledger import account_balances, trial_balance
from loanfund.queries.loans import commitments, paid_by_loan, principal_by_loan
from loanfund.services import loans as loan_service
from loanfund.services.daily_close import close_through
from loanfund.services.ledger import record_capital_contribution
from loanfund.services.loan_state import figures_on, replay, replay_receipts
from loanfund.services.repayments import (
    approve_reversal,
    payoff_quote,
    record_repayment,
    request_reversal,
)
from loanfund.services.restructurings import (
    decide_restructuring,
    propose_restructuring,
    withdraw_restructuring,
)
from tests.conftest import TODAY

D = Decimal


def make_machine(session, world, loans):
    keys = itertools.count()
    # The database outlives each example, so the business date does too: it only moves on.
    clock = [TODAY]

    class Books(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.loans = loans

        @rule(days=st.integers(min_value=1, max_value=75))
        def time_passes(self, days):
            clock[0] += dt.timedelta(days=days)

        @rule()
        def daily_close(self):
            close_through(session, through=clock[0], start=clock[0])

        @invariant()
        def accruals_and_provisions_match_the_loans_at_the_last_close(self):
            balances = account_balances(session)
            loans = [session.get(Loan, loan.id) for loan in self.loans]
            assert balances[Account.INTEREST_RECEIVABLE] == sum(
                (loan.interest_accrued for loan in loans if loan.debt_group == 1), D(0)
            )
            assert balances[Account.OFF_BOOK_INTEREST] == sum(
                (loan.interest_accrued for loan in loans if loan.debt_group > 1), D(0)
            )
            assert balances[Account.PROVISION] == sum(
                (loan.specific_provision + loan.general_provision for loan in loans), D(0)
            )

        @rule(
            index=st.integers(0, 2),
            kind=st.sampled_from(["reschedule", "extension"]),
            installments=st.integers(min_value=1, max_value=40),
            first_in=st.integers(min_value=1, max_value=90),
        )
        def restructure(self, index, kind, installments, first_in):
            today = clock[0]
            try:
                proposal = propose_restructuring(
                    session,
                    actor=world["officer"],
                    loan_id=self.loans[index].id,
                    kind=kind,
                    request_on=today,
                    request_reference="CV",
                    reason="test",
                    installments=installments,
                    first_due_on=today + dt.timedelta(days=first_in),
                    today=today,
                )
                decide_restructuring(
                    session,
                    actor=world["approver"],
                    restructuring_id=proposal.id,
                    verdict="approve",
                    note="",
                    today=today,
                )
            except LoanFundError:
                session.rollback()
                for proposal in session.scalars(
                    select(Restructuring).where(Restructuring.status == "proposed")
                ):
                    withdraw_restructuring(
                        session, actor=world["officer"], restructuring_id=proposal.id, note=""
                    )

        @rule(amount=st.integers(min_value=1, max_value=2_000_000_000))
        def capital_received(self, amount):
            record_capital_contribution(
                session,
                actor=SYSTEM,
                amount=D(amount),
                value_date=TODAY,
                source="Budget",
                reference=f"C{amount}",
                today=TODAY,
            )

        @rule(index=st.integers(0, 2), amount=st.integers(min_value=1, max_value=300_000_000))
        def request(self, index, amount):
            loan = self.loans[index]
            try:
                loan_service.request_tranche(
                    session,
                    actor=world["officer"],
                    loan_id=loan.id,
                    amount=D(amount),
                    value_date=clock[0],
                    payee="Payee",
                    account="0001",
                    reference="",
                    idempotency_key=f"key-{next(keys)}",
                )
            except LoanFundError:
                session.rollback()

        @rule(index=st.integers(0, 2), amount=st.integers(min_value=1, max_value=80_000_000))
        def disburse(self, index, amount):
            """A tranche requested, approved and paid on the same day."""
            try:
                tranche = loan_service.request_tranche(
                    session,
                    actor=world["officer"],
                    loan_id=self.loans[index].id,
                    amount=D(amount),
                    value_date=clock[0],
                    payee="Payee",
                    account="0001",
                    reference="",
                    idempotency_key=f"key-{next(keys)}",
                )
                loan_service.approve_tranche(
                    session, actor=world["approver"], tranche_id=tranche.id
                )
                loan_service.pay_tranche(
                    session, actor=world["officer"], tranche_id=tranche.id, today=clock[0]
                )
            except LoanFundError:
                session.rollback()

        @rule(
            pick=st.integers(0, 10**6),
            action=st.sampled_from(["approve", "pay", "approve_and_pay", "cancel"]),
        )
        def act(self, pick, action):
            # The database outlives each example, so the choice is drawn independently of it;
            # only tranches still waiting are candidates.
            tranches = session.scalars(
                select(Tranche)
                .where(Tranche.status.in_((TrancheStatus.REQUESTED, TrancheStatus.APPROVED)))
                .order_by(Tranche.id)
            ).all()
            if not tranches:
                return
            tranche = tranches[pick % len(tranches)]
            try:
                if action in ("approve", "approve_and_pay"):
                    loan_service.approve_tranche(
                        session, actor=world["approver"], tranche_id=tranche.id
                    )
                if action in ("pay", "approve_and_pay"):
                    loan_service.pay_tranche(
                        session, actor=world["officer"], tranche_id=tranche.id, today=clock[0]
                    )
                if action == "cancel":
                    loan_service.cancel_tranche(
                        session, actor=world["officer"], tranche_id=tranche.id, reason="x"
                    )
            except LoanFundError:
                session.rollback()

        @rule(index=st.integers(0, 2), share=st.integers(min_value=1, max_value=100))
        def repay(self, index, share):
            # A share of what the loan owes today: partial, exact (100 %) and prepayments.
            loan = session.get(Loan, self.loans[index].id)
            if loan.status is not LoanStatus.ACTIVE:
                return
            owed = payoff_quote(session, loan, clock[0]).total
            amount = max(D(1), (owed * share / 100).to_integral_value(rounding="ROUND_FLOOR"))
            try:
                record_repayment(
                    session,
                    actor=world["officer"],
                    loan_id=loan.id,
                    received_on=clock[0],
                    amount=amount,
                    channel="bank",
                    reference="",
                    idempotency_key=f"receipt-{next(keys):06d}-xxxxxxxx",
                    today=clock[0],
                )
            except LoanFundError:
                session.rollback()

        @rule(pick=st.integers(0, 10**6))
        def reverse(self, pick):
            receipts = session.scalars(
                select(Repayment).where(Repayment.status == "posted").order_by(Repayment.id)
            ).all()
            if not receipts:
                return
            receipt = receipts[pick % len(receipts)]
            try:
                request_reversal(
                    session, actor=world["officer"], repayment_id=receipt.id, reason="test"
                )
                approve_reversal(session, actor=world["approver"], repayment_id=receipt.id)
            except LoanFundError:
                session.rollback()

        @invariant()
        def receipts_are_fully_allocated_and_loans_owe_the_rest(self):
            posted = session.scalars(select(Repayment).where(Repayment.status == "posted")).all()
            repaid: dict[int, Decimal] = {}
            for receipt in posted:
                parts = {k: D(v) for k, v in receipt.allocation["by_component"].items()}
                assert sum(parts.values()) == receipt.amount
                principal = sum(
                    (v for k, v in parts.items() if "principal" in k or k == "prepayment"), D(0)
                )
                repaid[receipt.loan_id] = repaid.get(receipt.loan_id, D(0)) + principal
            paid = paid_by_loan(session)
            outstanding = principal_by_loan(session)
            for loan in self.loans:
                assert outstanding.get(loan.id, D(0)) == paid.get(loan.id, D(0)) - repaid.get(
                    loan.id, D(0)
                )

        @invariant()
        def stored_figures_are_a_full_replays(self):
            """The close ages most loans from their replay kept by an earlier close: what it
            stored must be what the loan replayed from every receipt gives for that day."""
            for loan in self.loans:
                loan = session.get(Loan, loan.id)
                day = loan.closed_through
                if day is None or loan.closed_on is not None:
                    continue
                figures = figures_on(*replay(session, loan, as_of=day), day)
                assert (
                    loan.days_past_due,
                    loan.principal_outstanding,
                    loan.interest_accrued,
                    loan.penalty_accrued,
                    loan.interest_fallen_due,
                    loan.interest_paid,
                ) == (
                    figures.days_past_due,
                    figures.outstanding,
                    figures.interest_accrued,
                    figures.penalty,
                    figures.interest_fallen_due,
                    figures.interest_paid,
                )

        @invariant()
        def each_receipt_is_what_a_calm_replay_allocates(self):
            for loan in self.loans:
                loan = session.get(Loan, loan.id)
                if not loan.schedules:
                    continue
                _states, _terms, allocations = replay_receipts(session, loan)
                for receipt, allocation in allocations:
                    assert receipt.allocation["by_component"] == {
                        key.value: str(value) for key, value in allocation.by_component.items()
                    }

        @invariant()
        def every_entry_balances(self):
            sides = session.execute(
                select(
                    JournalLine.entry_id,
                    func.sum(JournalLine.debit) - func.sum(JournalLine.credit),
                ).group_by(JournalLine.entry_id)
            ).all()
            assert all(difference == 0 for _entry, difference in sides)

        @invariant()
        def the_books_balance(self):
            rows = trial_balance(
                session, date_from=dt.date(2000, 1, 1), date_to=dt.date(2100, 1, 1)
            )
            assert books_balance(rows) == 0

        @invariant()
        def loans_owe_what_was_paid_out_and_cash_stays_positive(self):
            paid = paid_by_loan(session)
            outstanding = principal_by_loan(session)
            for loan in self.loans:
                assert 0 <= outstanding.get(loan.id, D(0)) <= paid.get(loan.id, D(0))
                assert paid.get(loan.id, D(0)) <= loan.amount
            # Each loan's own balance, kept by the postings, is the journal's sum for it.
            for loan in self.loans:
                held = session.scalar(select(Loan.receivable).where(Loan.id == loan.id))
                assert held == outstanding.get(loan.id, D(0)), loan.contract_no
            balances = account_balances(session)
            assert balances[Account.CASH] >= 0
            assert balances[Account.LOANS_RECEIVABLE] == sum(outstanding.values(), D(0))
            disbursed = sum(paid.values(), D(0))
            open_amounts = sum(
                (
                    loan.amount
                    for loan in self.loans
                    if session.get(Loan, loan.id).status is not LoanStatus.CLOSED
                ),
                D(0),
            )
            closed_paid = sum(
                (
                    paid.get(loan.id, D(0))
                    for loan in self.loans
                    if session.get(Loan, loan.id).status is LoanStatus.CLOSED
                ),
                D(0),
            )
            # Approved amounts of open loans = what they were paid out + what is still committed.
            assert open_amounts == disbursed - closed_paid + commitments(session)

        @invariant()
        def paid_tranches_each_have_one_entry(self):
            paid = session.scalar(
                select(func.count(Tranche.id)).where(Tranche.status == TrancheStatus.PAID)
            )
            entries = session.scalar(
                select(func.count(JournalEntry.id)).where(JournalEntry.kind == "disbursement")
            )
            assert paid == entries

    return Books


def test_random_money_movements_keep_the_books_true(session, world, factory):
    from loanfund.domain.roles import Role
    from loanfund.services.accounts import actor_for
    from loanfund.services.appraisals import decide_application
    from tests.integration.conftest import appraised

    loans = []
    for _ in range(3):
        cooperative = factory.cooperative()
        world_i = {**world, "rep": actor_for(factory.user(Role.APPLICANT, cooperative=cooperative))}
        application = appraised(session, world_i)
        decide_application(
            session,
            actor=world["approver"],
            application_id=application.id,
            verdict="approve",
            today=TODAY,
        )
        loan = loan_service.make_loan(
            session, actor=world["officer"], application_id=application.id, today=TODAY
        )
        loan_service.sign_contract(
            session, actor=world["officer"], loan_id=loan.id, signed_on=TODAY, today=TODAY
        )
        loans.append(loan)
    assert all(db.session.get(Loan, loan.id).status is LoanStatus.CONTRACTED for loan in loans)
    machine = make_machine(session, world, loans)
    machine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    machine.TestCase().runTest()
