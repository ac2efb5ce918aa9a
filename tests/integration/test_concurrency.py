"""Concurrency (DESIGN §5): several people acting on the same thing at the same moment.

Each scenario starts real concurrent attempts: one thread per attempt, each with its own app
context, session and database connection, released together by a barrier and joined with a
timeout (a thread still running then is a deadlock, and fails the test). The data they act on
is committed first, so every connection sees it. No attempt may end in a database error: each
one either does what it asked or is refused with the domain's error (``LoanFundError``).

Both databases run them. On SQLite (a file, WAL) writers take turns on one lock and wait for
it (the busy timeout), so no attempt sees "database is locked"; but the driver opens the
transaction only at the first write, so checks read before it are as stale as on PostgreSQL:
services hold the row they decide on first (``guards.hold_row``). The test of a change made
while the close commits needs PostgreSQL, where it can see the change wait for a lock.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text

from loanfund.domain.applications import ApplicationStatus
from loanfund.domain.errors import (
    Conflict,
    InvalidTransition,
    LoanFundError,
    RuleViolation,
)
from loanfund.domain.loans import LoanStatus, TrancheStatus
from loanfund.domain.roles import Role
from loanfund.models import (
    ApplicationDecision,
    AuditEvent,
    JournalEntry,
    Loan,
    LoanApplication,
    Repayment,
    ScheduleVersion,
    Tranche,
    db,
)
from loanfund.queries.loans import paid_by_loan
from loanfund.services import daily_close
from loanfund.services import loans as loan_service
from loanfund.services.accounts import actor_for
from loanfund.services.appraisals import decide_application
from loanfund.services.daily_close import close_through
from loanfund.services.loan_state import figures_on, replay, replay_receipts
from loanfund.services.repayments import record_repayment, request_reversal
from tests.conftest import PG_URL, TODAY
from tests.integration.conftest import appraised, disbursed_loan
from tests.integration.test_books_invariants import make_machine

D = Decimal
#: Seconds a barrier, an event or a join may wait before the test calls it a deadlock.
TIMEOUT = 60
#: 300,000,000 lent on TODAY at 5.4 %: the first installment, on 23 Dec 2026, is interest
#: only, 300,000,000 × 5.4 % × 30 / 365 = 1,331,506.85 → 1,331,507.
FIRST_DUE = dt.date(2026, 12, 23)
FIRST_INTEREST = D(1_331_507)


@dataclass
class Outcome:
    """What one attempt ended with: a value (ids, never ORM rows), a refusal or an error."""

    value: Any = None
    refusal: LoanFundError | None = None
    error: BaseException | None = None


def at_once(app: Flask, attempts: list[Callable[[Any], Any]]) -> list[Outcome]:
    """Run every attempt in its own thread and session, all released together."""
    db.session.remove()  # the test's own connection holds nothing while they run
    barrier = threading.Barrier(len(attempts), timeout=TIMEOUT)
    outcomes = [Outcome() for _ in attempts]

    def run(outcome: Outcome, attempt: Callable[[Any], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcome.value = attempt(db.session)
            except LoanFundError as refusal:
                outcome.refusal = refusal
            except BaseException as error:  # reported by the test below
                outcome.error = error
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=run, args=(outcome, attempt), daemon=True)
        for outcome, attempt in zip(outcomes, attempts, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "an attempt never finished"
    errors = [repr(outcome.error) for outcome in outcomes if outcome.error is not None]
    assert not errors, errors  # a database error (IntegrityError, deadlock…) leaked out
    return outcomes


def _done(outcomes: list[Outcome]) -> list[Any]:
    return [outcome.value for outcome in outcomes if outcome.refusal is None]


def _refusals(outcomes: list[Outcome]) -> list[LoanFundError]:
    return [outcome.refusal for outcome in outcomes if outcome.refusal is not None]


def _count(model: type, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _signed_loan(session: Any, world: dict[str, Any]) -> Loan:
    """A contract for 300,000,000 over 36 months, signed, nothing paid out."""
    application = appraised(session, world)
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
    return loan_service.sign_contract(
        session, actor=world["officer"], loan_id=loan.id, signed_on=TODAY, today=TODAY
    )


def _request(session: Any, actor: Any, loan_id: int, amount: Decimal, key: str) -> int:
    return loan_service.request_tranche(
        session,
        actor=actor,
        loan_id=loan_id,
        amount=amount,
        value_date=TODAY,
        payee="HTX Quảng Phú",
        account="0123456789 Agribank Huế",
        reference="UNC 01",
        idempotency_key=key,
    ).id


def _approvers(world: dict[str, Any], factory: Any, count: int) -> list[Any]:
    """``count`` different people with the approver role (the world's two, and more)."""
    more = [actor_for(factory.user(Role.APPROVER)) for _ in range(count - 2)]
    return [world["approver"], world["approver2"], *more]


def _receipt(
    session: Any, actor: Any, loan_id: int, amount: Decimal, key: str, day: dt.date = FIRST_DUE
) -> int:
    return record_repayment(
        session,
        actor=actor,
        loan_id=loan_id,
        received_on=day,
        amount=amount,
        channel="bank",
        reference="GBC",
        idempotency_key=key,
        today=day,
    ).id


# --- 1. paying one tranche -------------------------------------------------------------------


def test_one_approved_tranche_paid_by_six_people_at_once_is_paid_once(app, session, world):
    loan = _signed_loan(session, world)
    amount = D(200_000_000)
    tranche_id = _request(session, world["officer"], loan.id, amount, "pay-race")
    loan_service.approve_tranche(session, actor=world["approver"], tranche_id=tranche_id)
    loan_id, officer = loan.id, world["officer"]

    def pay(session: Any) -> int:
        return loan_service.pay_tranche(
            session, actor=officer, tranche_id=tranche_id, today=TODAY
        ).id

    outcomes = at_once(app, [pay] * 6)
    assert _done(outcomes) == [tranche_id]
    assert all(isinstance(r, (Conflict, InvalidTransition)) for r in _refusals(outcomes))
    tranche = db.session.get(Tranche, tranche_id)
    entries = db.session.scalars(
        select(JournalEntry).where(JournalEntry.kind == "disbursement")
    ).all()
    assert [entry.id for entry in entries] == [tranche.journal_entry_id]
    assert tranche.status is TrancheStatus.PAID
    # The loan counts the tranche once: what it was paid out, and its one schedule.
    assert paid_by_loan(db.session, [loan_id]) == {loan_id: amount}
    assert _count(ScheduleVersion, ScheduleVersion.loan_id == loan_id) == 1
    assert _count(AuditEvent, AuditEvent.action == "loan.tranche_pay") == 1
    assert db.session.get(Loan, loan_id).status is LoanStatus.ACTIVE


# --- 2. requesting tranches ------------------------------------------------------------------


def test_tranches_requested_at_once_never_exceed_the_contract(app, session, world):
    loan = _signed_loan(session, world)
    loan_id, officer, contract = loan.id, world["officer"], loan.amount
    asked = D(80_000_000)  # six requests: 480,000,000 asked of a 300,000,000 contract

    def request(number: int) -> Callable[[Any], int]:
        return lambda session: _request(session, officer, loan_id, asked, f"request-{number}")

    outcomes = at_once(app, [request(n) for n in range(6)])
    accepted = _done(outcomes)
    # One after the other, three fit (3 × 80 m = 240 m ≤ 300 m < 4 × 80 m); at once, too.
    assert len(accepted) == int(contract // asked) == 3
    assert all(isinstance(r, RuleViolation) for r in _refusals(outcomes))
    assert all("At most 60,000,000" in str(r) for r in _refusals(outcomes))
    requested = db.session.scalars(select(Tranche).where(Tranche.loan_id == loan_id)).all()
    assert sorted(t.id for t in requested) == sorted(accepted)
    assert sum((t.amount for t in requested), D(0)) <= contract


# --- 3. deciding at once ---------------------------------------------------------------------


def _decide(actor: Any, application_id: int) -> Callable[[Any], str]:
    def decide(session: Any) -> str:
        return decide_application(
            session,
            actor=actor,
            application_id=application_id,
            verdict="approve",
            today=TODAY,
        ).status.value

    return decide


def test_four_approvers_deciding_one_application_at_once_decide_it_once(
    app, session, world, factory
):
    application_id = appraised(session, world).id  # 300 m: one approver decides (≤ 500 m)
    approvers = _approvers(world, factory, 4)
    outcomes = at_once(app, [_decide(actor, application_id) for actor in approvers])
    assert _done(outcomes) == [ApplicationStatus.APPROVED.value]
    assert all(isinstance(r, (Conflict, InvalidTransition)) for r in _refusals(outcomes))
    assert db.session.get(LoanApplication, application_id).status is ApplicationStatus.APPROVED
    assert _count(ApplicationDecision, ApplicationDecision.application_id == application_id) == 1
    assert _count(AuditEvent, AuditEvent.action == "application.approve") == 1


def test_four_approvers_at_once_on_a_council_application_make_its_two_approvals(
    app, session, world, factory
):
    # 600 m is above the credit council amount (500 m by default): two approvers must agree.
    # One after the other: the first approves in part, the second approves it, and the
    # others find it decided. At once, the same.
    application_id = appraised(
        session,
        world,
        amount=D(600_000_000),
        project_cost=D(1_000_000_000),
        own_equity=D(400_000_000),
    ).id
    approvers = _approvers(world, factory, 4)
    outcomes = at_once(app, [_decide(actor, application_id) for actor in approvers])
    assert sorted(_done(outcomes)) == sorted(
        [ApplicationStatus.APPROVED.value, ApplicationStatus.APPRAISED.value]
    )
    assert all(isinstance(r, (Conflict, InvalidTransition)) for r in _refusals(outcomes))
    assert db.session.get(LoanApplication, application_id).status is ApplicationStatus.APPROVED
    assert _count(ApplicationDecision, ApplicationDecision.application_id == application_id) == 2
    assert _count(AuditEvent, AuditEvent.action == "application.first_approval") == 1
    assert _count(AuditEvent, AuditEvent.action == "application.approve") == 1


def test_four_approvers_approving_one_tranche_at_once_approve_it_once(app, session, world, factory):
    loan = _signed_loan(session, world)
    tranche_id = _request(session, world["officer"], loan.id, D(100_000_000), "approve-race")
    approvers = _approvers(world, factory, 4)

    def approve(actor: Any) -> Callable[[Any], int | None]:
        return lambda session: (
            loan_service.approve_tranche(session, actor=actor, tranche_id=tranche_id).approved_by_id
        )

    outcomes = at_once(app, [approve(actor) for actor in approvers])
    winners = _done(outcomes)
    assert len(winners) == 1 and winners[0] in {actor.user_id for actor in approvers}
    assert all(isinstance(r, (Conflict, InvalidTransition)) for r in _refusals(outcomes))
    tranche = db.session.get(Tranche, tranche_id)
    assert (tranche.status, tranche.approved_by_id) == (TrancheStatus.APPROVED, winners[0])
    assert _count(AuditEvent, AuditEvent.action == "loan.tranche_approve") == 1


# --- 4 and 5. receipts -----------------------------------------------------------------------


def test_one_receipt_form_sent_eight_times_at_once_is_one_receipt(app, session, world):
    loan_id = disbursed_loan(session, world, amount=D(300_000_000), key="t1").id
    officer = world["officer"]

    def pay(session: Any) -> int:
        return _receipt(session, officer, loan_id, FIRST_INTEREST, "same-receipt-form-0001")

    outcomes = at_once(app, [pay] * 8)
    receipts = db.session.scalars(select(Repayment)).all()
    assert len(receipts) == 1
    # Every caller is shown that receipt, or told cleanly that it could not be recorded.
    assert _done(outcomes) and set(_done(outcomes)) == {receipts[0].id}
    repayment_entries = db.session.scalars(
        select(JournalEntry).where(JournalEntry.kind == "repayment")
    ).all()
    assert [entry.id for entry in repayment_entries] == [receipts[0].journal_entry_id]
    assert _count(AuditEvent, AuditEvent.action == "loan.repayment") == 1


def _books_are_true(world: dict[str, Any], loan_ids: list[int]) -> None:
    """The invariants of test_books_invariants, on the state the threads left."""
    loans = [db.session.get(Loan, loan_id) for loan_id in loan_ids]
    books = make_machine(db.session, world, loans)()
    books.loans = loans
    books.every_entry_balances()
    books.the_books_balance()
    books.receipts_are_fully_allocated_and_loans_owe_the_rest()
    books.each_receipt_is_what_a_calm_replay_allocates()
    books.loans_owe_what_was_paid_out_and_cash_stays_positive()
    books.paid_tranches_each_have_one_entry()


def test_six_different_receipts_on_one_loan_at_once_are_all_recorded_as_in_turn(
    app, session, world
):
    loan_id = disbursed_loan(session, world, amount=D(300_000_000), key="t1").id
    officer = world["officer"]
    # Different amounts, so that the order matters: 0.5 m, 1 m, … 3 m, 10.5 m in all, more
    # than the interest due, so later receipts pay principal ahead.
    amounts = [D(500_000) * (n + 1) for n in range(6)]

    def pay(number: int) -> Callable[[Any], int]:
        return lambda session: _receipt(
            session, officer, loan_id, amounts[number], f"receipt-form-{number:04d}"
        )

    outcomes = at_once(app, [pay(n) for n in range(6)])
    assert not _refusals(outcomes)
    receipts = db.session.scalars(
        select(Repayment).where(Repayment.loan_id == loan_id).order_by(Repayment.sequence)
    ).all()
    assert sorted(r.id for r in receipts) == sorted(_done(outcomes))
    assert [r.sequence for r in receipts] == [1, 2, 3, 4, 5, 6]
    assert sorted(r.amount for r in receipts) == amounts
    # What each stored is what the loan's replay (the one the daily close ages with)
    # allocates when the receipts are applied one after the other in their recorded order.
    loan = db.session.get(Loan, loan_id)
    _states, _terms, allocations = replay_receipts(db.session, loan)
    assert [receipt.id for receipt, _ in allocations] == [receipt.id for receipt in receipts]
    for receipt, allocation in allocations:
        assert receipt.allocation["by_component"] == {
            key.value: str(value) for key, value in allocation.by_component.items()
        }
    _books_are_true(world, [loan_id])


# --- 6. a receipt during the daily close -----------------------------------------------------

#: The close before the race (so the loan's figures are stored, as of the day before), and the
#: day closed while the receipt is recorded, the day it is dated.
CLOSED_BEFORE = FIRST_DUE - dt.timedelta(days=1)


def _stored_figures_hold(loan_id: int, day: dt.date) -> None:
    """The loan's stored figures either include everything recorded on it, or say they
    don't (``closed_through`` cleared: ledgers replay the loan, the next close stores them)."""
    loan = db.session.get(Loan, loan_id)
    if loan.closed_through is None:
        return
    assert loan.closed_through == day
    expected = figures_on(*replay(db.session, loan, as_of=day), day)
    stored = (
        loan.days_past_due,
        loan.principal_outstanding,
        loan.interest_accrued,
        loan.penalty_accrued,
        loan.interest_fallen_due,
        loan.interest_paid,
    )
    assert stored == (
        expected.days_past_due,
        expected.outstanding,
        expected.interest_accrued,
        expected.penalty,
        expected.interest_fallen_due,
        expected.interest_paid,
    )


@dataclass
class Race:
    """The close of a day in one thread, a change to the loan in another: ``reached`` is set
    by the close (patched) when the change should be recorded, ``recorded`` by the change's
    thread once it is."""

    reached: threading.Event
    recorded: threading.Event

    def run(self, app: Flask, day: dt.date, change: Callable[[Any], Any]) -> None:
        db.session.remove()
        errors: list[BaseException] = []

        def close() -> None:
            with app.app_context():
                try:
                    close_through(db.session(), through=day)
                except BaseException as error:  # reported below
                    errors.append(error)
                finally:
                    self.reached.set()  # never leave the change waiting
                    db.session.remove()

        def act() -> None:
            with app.app_context():
                try:
                    assert self.reached.wait(TIMEOUT), "the close never reached the loan"
                    change(db.session)
                except BaseException as error:  # reported below
                    errors.append(error)
                finally:
                    self.recorded.set()
                    db.session.remove()

        threads = [
            threading.Thread(target=close, daemon=True),
            threading.Thread(target=act, daemon=True),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        assert not any(thread.is_alive() for thread in threads), "a thread never finished"
        assert not errors, [repr(error) for error in errors]


def test_a_receipt_committed_while_the_close_ages_its_loan_is_in_the_figures(
    app, session, world, monkeypatch
):
    loan_id = disbursed_loan(session, world, amount=D(300_000_000), key="t1").id
    close_through(session, through=CLOSED_BEFORE, start=CLOSED_BEFORE)
    officer = world["officer"]
    race = Race(threading.Event(), threading.Event())
    real_figures_on = daily_close.figures_on

    def figures_after_the_receipt(states: Any, terms: Any, day: dt.date) -> Any:
        # The close read the batch's receipts (or its loans' kept replays) already; the
        # receipt is committed now, before the loan's figures are computed and stored.
        if day == FIRST_DUE and not race.reached.is_set():
            race.reached.set()
            assert race.recorded.wait(TIMEOUT), "the receipt was never recorded"
        return real_figures_on(states, terms, day)

    monkeypatch.setattr(daily_close, "figures_on", figures_after_the_receipt)
    race.run(
        app,
        FIRST_DUE,
        lambda session: _receipt(session, officer, loan_id, FIRST_INTEREST, "during-close"),
    )
    assert _count(Repayment, Repayment.loan_id == loan_id) == 1
    _stored_figures_hold(loan_id, FIRST_DUE)
    # Checked apart from the replay: the receipt paid the first installment's interest.
    loan = db.session.get(Loan, loan_id)
    assert loan.closed_through is None or loan.interest_paid == FIRST_INTEREST


def _waiting_for_a_lock() -> bool:
    """Another connection to this database waits for a lock (PostgreSQL)."""
    with db.engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            )
        )


@pytest.mark.skipif(
    not PG_URL,
    reason="needs PostgreSQL: the test must see the change wait for the close's lock, which "
    "pg_stat_activity shows (on SQLite, one write lock makes them take turns anyway)",
)
@pytest.mark.parametrize("change", ["receipt", "reversal"])
def test_a_change_recorded_while_the_close_commits_its_loan_clears_its_figures(
    app, session, world, monkeypatch, change
):
    from loanfund.services.repayments import approve_reversal

    loan_id = disbursed_loan(session, world, amount=D(300_000_000), key="t1").id
    close_through(session, through=CLOSED_BEFORE, start=CLOSED_BEFORE)
    officer, approver = world["officer"], world["approver"]
    if change == "reversal":
        # A receipt dated the day being closed, asked to be reversed before the close; a
        # second person approves the reversal while the close commits.
        receipt_id = _receipt(session, officer, loan_id, FIRST_INTEREST, "to-reverse")
        request_reversal(session, actor=officer, repayment_id=receipt_id, reason="Wrong loan.")

        def act(session: Any) -> None:
            approve_reversal(session, actor=approver, repayment_id=receipt_id)

    else:

        def act(session: Any) -> None:
            _receipt(session, officer, loan_id, FIRST_INTEREST, "during-commit")

    race = Race(threading.Event(), threading.Event())
    real_figures_on = daily_close.figures_on

    def before_commit(session: Any) -> None:
        # The close is about to commit the batch with this loan's figures: the change is
        # recorded now, and the close goes on once it is committed, or once it waits for a
        # lock the close holds (then it cannot commit before the close does).
        if race.reached.is_set():
            return
        race.reached.set()
        for _ in range(TIMEOUT * 20):
            if race.recorded.wait(0.05) or _waiting_for_a_lock():
                return
        raise AssertionError("the change was neither recorded nor waiting for a lock")

    def ageing(states: Any, terms: Any, day: dt.date) -> Any:
        # Called in the close's thread, while it ages the batch holding the loan (the only
        # loan in the books): its session is the thread's.
        closing = db.session()
        if day == FIRST_DUE and not event.contains(closing, "before_commit", before_commit):
            event.listen(closing, "before_commit", before_commit)
        return real_figures_on(states, terms, day)

    monkeypatch.setattr(daily_close, "figures_on", ageing)
    race.run(app, FIRST_DUE, act)
    _stored_figures_hold(loan_id, FIRST_DUE)
