"""A repayment and a disbursement killed with SIGKILL in the middle leave no half-written
change, and the same action retried ends in the state of a run that was never killed (issue 10).

Each action first runs calmly on a copy of the database, which lists the writes it makes. On
the other copy it is then killed right after each of those writes in turn, and once when it
calls commit: after every kill the database must be exactly as it was (every row of every
table, ids and timestamps included), and its books must hold. Then it is run once more and
killed right after its commit, which is the retry that succeeds: the database must now equal
the calm copy. A last retry must find the work done and change nothing.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from loanfund.domain.ledger import Account, EntryKind
from loanfund.domain.loans import LoanStatus, TrancheStatus
from loanfund.models import JournalEntry, JournalLine, Loan, Repayment, Tranche, User
from loanfund.queries.ledger import account_balances
from loanfund.services.accounts import actor_for
from loanfund.services.loans import approve_tranche, request_tranche
from loanfund.services.repayments import payoff_quote
from tests.conftest import TODAY
from tests.integration.crash_support import (
    Databases,
    comparable,
    crash_databases,
    demo_database,
    dump,
    opened,
    runner,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is a POSIX signal")

OFFICER, APPROVER = "officer@demo.quyhtx.vn", "approver@demo.quyhtx.vn"
RECEIPT_KEY = "crash-receipt-1"


def _actor(session: Any, email: str) -> Any:
    return actor_for(session.scalar(select(User).where(User.email == email)))


def _books_problems(databases: Databases, url: str) -> list[str]:
    """What would show a half-written money movement: an entry that does not balance, a paid
    tranche without its payout entry or a payout entry without its paid tranche, a posted
    receipt without its entry."""
    with opened(databases, url) as session:
        problems = [
            f"entry {entry_id} does not balance ({debit} ≠ {credit})"
            for entry_id, debit, credit in session.execute(
                select(
                    JournalLine.entry_id, func.sum(JournalLine.debit), func.sum(JournalLine.credit)
                ).group_by(JournalLine.entry_id)
            )
            if debit != credit
        ]
        paid = {
            tranche.journal_entry_id: tranche.id
            for tranche in session.scalars(
                select(Tranche).where(Tranche.status == TrancheStatus.PAID)
            )
        }
        payouts = set(
            session.scalars(
                select(JournalEntry.id).where(JournalEntry.kind == EntryKind.DISBURSEMENT)
            )
        )
        if None in paid:
            problems.append(f"paid tranche {paid[None]} has no payout entry")
        if payouts != set(paid) - {None}:
            problems.append(
                f"payout entries {sorted(payouts ^ (set(paid) - {None}))} without a paid tranche"
            )
        for repayment in session.scalars(select(Repayment).where(Repayment.status == "posted")):
            entry = session.get(JournalEntry, repayment.journal_entry_id)
            if entry is None or entry.kind is not EntryKind.REPAYMENT:
                problems.append(f"receipt {repayment.id} has no repayment entry")
    return problems


def _changed_tables(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in sorted(before) if before[name] != after[name]]


def _survives_crashes(databases: Databases, crashed: str, body: str) -> dict[str, Any]:
    """Run ``body`` calmly on a copy of ``crashed``, then crash it on ``crashed`` at every
    write and at its commit; then let it commit and die. Returns what the test checks next."""
    calm = databases.copy(crashed, "calm")
    with runner(databases, body) as run:
        calm_run = run(calm)
        assert calm_run.returncode == 0, calm_run.error
        points: list[list[Any]] = [["write", n] for n in range(1, len(calm_run.writes) + 1)]
        points.append(["before_commit"])
        before = dump(databases, crashed)
        for point in points:
            child = run(crashed, kill=point)
            where = f"write {point[1]} ({calm_run.writes[point[1] - 1]})" if point[1:] else point[0]
            assert child.killed, (where, child.returncode, child.error)
            changed = _changed_tables(before, dump(databases, crashed))
            assert not changed, f"killed at {where}: {changed} half-written"
            assert not _books_problems(databases, crashed), where

        # The retry commits, and the process dies before the caller hears of it.
        child = run(crashed, kill=["after_commit"])
        assert child.killed, child.error
        assert comparable(databases, crashed) == comparable(databases, calm)
        assert not _books_problems(databases, crashed)
        stored = dump(databases, crashed)
        retried = run(crashed)
        assert retried.returncode == 0, retried.error
        assert not _changed_tables(stored, dump(databases, crashed)), "the last retry wrote again"
    kills = len(points) + 1
    print(f"{kills} kills survived: after {calm_run.writes}, before and after commit")
    return {
        "calm_result": calm_run.result,
        "retried_result": retried.result,
        "writes": calm_run.writes,
    }


def test_a_repayment_killed_anywhere_leaves_nothing_half_written_and_its_retry_acts_once(
    tmp_path,
):
    with crash_databases(tmp_path) as databases:
        crashed = demo_database(databases, "crashed")
        with opened(databases, crashed) as session:
            # The whole payoff: the receipt also closes the loan, so every write a smaller
            # receipt makes is made here too, and then some.
            loan = session.scalars(
                select(Loan).where(Loan.status == LoanStatus.ACTIVE).order_by(Loan.id)
            ).first()
            loan_id, amount = loan.id, payoff_quote(session, loan, TODAY).total
            cash_before = account_balances(session)[Account.CASH]
        body = f"""
            from loanfund.models import User
            from loanfund.services.accounts import actor_for
            from loanfund.services.repayments import record_repayment

            officer = actor_for(db.session.scalar(select(User).where(User.email == "{OFFICER}")))
            arm()
            result = record_repayment(
                db.session,
                actor=officer,
                loan_id={loan_id},
                received_on=dt.date.fromisoformat("{TODAY}"),
                amount=Decimal("{amount}"),
                channel="bank",
                reference="UNC 9001",
                idempotency_key="{RECEIPT_KEY}",
                today=dt.date.fromisoformat("{TODAY}"),
            ).id
        """
        outcome = _survives_crashes(databases, crashed, body)

        # The kill points cover the receipt, its entry and lines, their audit and the loan.
        assert {
            "INSERT repayment",
            "INSERT journal_entry",
            "INSERT journal_line",
            "INSERT audit_event",
            "UPDATE loan",
        } <= set(outcome["writes"])
        with opened(databases, crashed) as session:
            receipts = session.scalars(
                select(Repayment).where(Repayment.idempotency_key == RECEIPT_KEY)
            ).all()
            assert [r.id for r in receipts] == [outcome["retried_result"]]  # the one stored
            assert receipts[0].amount == amount
            # The payoff closes the loan; the cash grows by the amount received.
            assert session.get(Loan, loan_id).status is LoanStatus.CLOSED
            assert account_balances(session)[Account.CASH] == cash_before + amount


def test_a_disbursement_killed_anywhere_leaves_nothing_half_paid_and_its_retry_pays_once(
    tmp_path,
):
    with crash_databases(tmp_path) as databases:
        crashed = demo_database(databases, "crashed")
        with opened(databases, crashed) as session:
            # The first tranche of a signed loan: it also makes the loan active, plans its
            # schedule and the first inspection.
            loan = session.scalars(
                select(Loan).where(Loan.status == LoanStatus.CONTRACTED).order_by(Loan.id)
            ).first()
            loan_id, amount = loan.id, (loan.amount / 2).quantize(Decimal(1))
            tranche = request_tranche(
                session,
                actor=_actor(session, OFFICER),
                loan_id=loan_id,
                amount=amount,
                value_date=TODAY,
                payee="HTX",
                account="0001",
                reference="UNC 9002",
                idempotency_key="crash-tranche-1",
            )
            tranche_id = tranche.id
            approve_tranche(session, actor=_actor(session, APPROVER), tranche_id=tranche_id)
            cash_before = account_balances(session)[Account.CASH]
        body = f"""
            from loanfund.domain.errors import LoanFundError
            from loanfund.models import User
            from loanfund.services.accounts import actor_for
            from loanfund.services.loans import pay_tranche

            officer = actor_for(db.session.scalar(select(User).where(User.email == "{OFFICER}")))
            arm()
            try:
                result = pay_tranche(
                    db.session,
                    actor=officer,
                    tranche_id={tranche_id},
                    today=dt.date.fromisoformat("{TODAY}"),
                ).status.value
            except LoanFundError as error:
                result = type(error).__name__
        """
        outcome = _survives_crashes(databases, crashed, body)

        assert {
            "UPDATE tranche",
            "INSERT journal_entry",
            "INSERT journal_line",
            "UPDATE loan",
            "INSERT schedule_version",
            "INSERT inspection",
            "INSERT audit_event",
        } <= set(outcome["writes"])
        assert outcome["calm_result"] == "paid"
        assert outcome["retried_result"] == "InvalidTransition"  # paid already: not again
        with opened(databases, crashed) as session:
            tranche = session.get(Tranche, tranche_id)
            assert tranche.status is TrancheStatus.PAID
            assert session.get(Loan, loan_id).status is LoanStatus.ACTIVE
            payouts = session.scalars(
                select(JournalEntry).where(
                    JournalEntry.loan_id == loan_id, JournalEntry.kind == EntryKind.DISBURSEMENT
                )
            ).all()
            assert [entry.id for entry in payouts] == [tranche.journal_entry_id]
            assert account_balances(session)[Account.CASH] == cash_before - amount
