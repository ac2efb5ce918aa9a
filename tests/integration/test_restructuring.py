"""Restructuring a loan (ND45 §27): proposal, four-eyes decision, the new schedule version,
and how receipts before and after it are allocated — against hand-derived figures.

The loan: 300,000,000 VND paid out on 23 Nov 2026, 36 months at 5.4 % a year (actual/365),
interest monthly and principal (25,000,000) every third month, so the contract matures on
23 Nov 2029. Nothing is repaid until 1 Mar 2027.
"""

import datetime as dt
from decimal import Decimal

import pytest

from loanfund.domain.errors import InvalidTransition, NotPermitted, RuleViolation
from loanfund.domain.roles import Role
from loanfund.models import AuditEvent, Restructuring
from loanfund.services.accounts import actor_for
from loanfund.services.repayments import (
    payoff_quote,
    record_repayment,
    replay,
    request_reversal,
)
from loanfund.services.restructurings import (
    decide_restructuring,
    propose_restructuring,
    withdraw_restructuring,
)
from tests.integration.conftest import disbursed_loan

D = Decimal
DAY = dt.date(2027, 3, 1)


@pytest.fixture
def loan(session, world):
    return disbursed_loan(session, world, amount=D(300_000_000), key="t1")


def _propose(session, world, loan, *, kind="reschedule", installments=10, first=None, day=DAY):
    return propose_restructuring(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        kind=kind,
        request_on=day,
        request_reference="CV 12/HTX",
        reason="Harvest lost to the flood of February",
        installments=installments,
        first_due_on=first or dt.date(2027, 4, 1),
        today=day,
    )


def test_an_approved_rescheduling_moves_what_is_owed_into_new_installments(
    session, world, loan, factory
):
    # On 1 Mar 2027 the loan owes (hand-derived):
    #   overdue interest: 23 Dec 300,000,000 × 5.4 % × 30/365 = 1,331,506.8 → 1,331,507;
    #     23 Jan and 23 Feb, 31 days each: 1,375,890.4 → 1,375,890 twice;
    #   overdue principal: 25,000,000 (23 Feb);
    #   penalty on it, 6 days at 150 % of 5.4 % = 8.1 %: 25,000,000 × 8.1 % × 6/365
    #     = 33,287.7 → 33,288;
    #   interest accrued in the current period (23 Feb – 23 Mar, 28 days) on 275,000,000:
    #     1,139,178.1 → 1,139,178 for the period; 6 days of 28: 244,109.6 → 244,110.
    before = payoff_quote(session, loan, DAY)
    assert before.total == (
        D(300_000_000) + D(1_331_507) + 2 * D(1_375_890) + D(33_288) + D(244_110)
    )
    # The officer who proposes may also hold the approver role: still not their decision.
    both = actor_for(factory.user(Role.OFFICER, Role.APPROVER))
    proposal = _propose(session, {**world, "officer": both}, loan)
    with pytest.raises(NotPermitted, match="four-eyes"):
        decide_restructuring(
            session,
            actor=both,
            restructuring_id=proposal.id,
            verdict="approve",
            note="",
            today=DAY,
        )
    decide_restructuring(
        session,
        actor=world["approver"],
        restructuring_id=proposal.id,
        verdict="approve",
        note="Flood relief",
        today=DAY,
    )
    session.refresh(loan)
    assert loan.restructure_count == 1
    version = loan.schedules[-1]
    assert (version.version, version.reason, version.kept) == (2, "restructuring", 3)
    rows = version.installments["installments"]
    new = rows[3:]
    # Ten monthly installments from 1 Apr 2027 of 300,000,000 ÷ 10 = 30,000,000; the first
    # one's interest: 300,000,000 × 5.4 % × 31/365 = 1,375,890, plus the interest owed at the
    # decision, 1,331,507 + 1,375,890 + 1,375,890 + 244,110 = 4,327,397.
    assert len(new) == 10 and new[-1]["due_on"] == "2028-01-01"
    assert {row["principal"] for row in new} == {"30000000"}
    assert D(new[0]["interest"]) == D(1_375_890) + D(4_327_397)
    # The payoff on the decision day is what it was: nothing owed was lost or added.
    assert payoff_quote(session, loan, DAY).total == before.total
    # The penalty accrued stays owed; none accrues on the settled installments afterwards.
    states, _terms = replay(session, loan)
    assert all(state.principal_left == 0 for state in states[:3])
    later = payoff_quote(session, loan, dt.date(2027, 3, 20)).by_component
    assert later["penalty"] == D(33_288)
    history = session.query(AuditEvent).filter(AuditEvent.action.like("loan.restructure%")).all()
    assert [event.action for event in history] == [
        "loan.restructure_propose",
        "loan.restructure_approve",
    ]


def test_receipts_after_the_change_follow_the_new_schedule_and_earlier_ones_stay(
    session, world, loan
):
    first = record_repayment(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        received_on=dt.date(2026, 12, 23),
        amount=D(1_331_507),
        channel="bank",
        reference="",
        idempotency_key="r1-xxxxxxxxxxxx",
        today=DAY,
    )
    proposal = _propose(session, world, loan)
    decide_restructuring(
        session,
        actor=world["approver"],
        restructuring_id=proposal.id,
        verdict="approve",
        note="",
        today=DAY,
    )
    # Paying the first new installment on its due date: 30,000,000 + 1,375,890 + the interest
    # carried, now without the 23 Dec interest already paid: 2 × 1,375,890 + 244,110.
    # The penalty of 33,288 comes first in the Vietnamese order (after overdue amounts: none).
    due = D(30_000_000) + D(1_375_890) + 2 * D(1_375_890) + D(244_110)
    receipt = record_repayment(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        received_on=dt.date(2027, 4, 1),
        amount=due + D(33_288),
        channel="bank",
        reference="",
        idempotency_key="r2-xxxxxxxxxxxx",
        today=dt.date(2027, 4, 1),
    )
    assert receipt.allocation["by_component"] == {
        "penalty": "33288",
        "current_interest": str(due - D(30_000_000)),
        "current_principal": "30000000",
    }
    with pytest.raises(RuleViolation, match="can no longer be reversed"):
        request_reversal(session, actor=world["officer"], repayment_id=first.id, reason="typo")
    with pytest.raises(RuleViolation, match="can no longer be recorded"):
        record_repayment(
            session,
            actor=world["officer"],
            loan_id=loan.id,
            received_on=dt.date(2027, 2, 1),
            amount=D(1000),
            channel="bank",
            reference="",
            idempotency_key="r3-xxxxxxxxxxxx",
            today=dt.date(2027, 4, 1),
        )


def test_the_schedule_must_fit_the_kind_and_the_extension_limit(session, world, loan):
    # 60 monthly installments from 1 Apr 2027 end on 1 Mar 2032, after the maturity
    # 23 Nov 2029: not a rescheduling. As an extension, a 36-month loan may go half its
    # term, 18 months, beyond it: to 23 May 2031.
    with pytest.raises(RuleViolation, match="Propose an extension") as refused:
        _propose(session, world, loan, installments=60)
    assert "2032-03-01" in str(refused.value) and "2029-11-23" in str(refused.value)
    with pytest.raises(RuleViolation, match="2031-05-23"):
        _propose(session, world, loan, kind="extension", installments=60)
    with pytest.raises(RuleViolation, match="Propose a rescheduling"):
        _propose(session, world, loan, kind="extension", installments=10)
    # 50 installments end on 1 May 2031: within the limit.
    proposal = _propose(session, world, loan, kind="extension", installments=50)
    assert proposal.status == "proposed"
    with pytest.raises(InvalidTransition, match="already awaits"):
        _propose(session, world, loan, kind="extension", installments=50)


def test_a_rejection_needs_a_reason_and_a_withdrawn_proposal_cannot_be_decided(
    session, world, loan
):
    proposal = _propose(session, world, loan)
    with pytest.raises(RuleViolation, match="why"):
        decide_restructuring(
            session,
            actor=world["approver"],
            restructuring_id=proposal.id,
            verdict="reject",
            note=" ",
            today=DAY,
        )
    withdraw_restructuring(
        session, actor=world["officer"], restructuring_id=proposal.id, note="borrower paid"
    )
    with pytest.raises(InvalidTransition):
        decide_restructuring(
            session,
            actor=world["approver"],
            restructuring_id=proposal.id,
            verdict="approve",
            note="",
            today=DAY,
        )
    assert session.get(Restructuring, proposal.id).status == "withdrawn"
    session.refresh(loan)
    assert loan.restructure_count == 0 and len(loan.schedules) == 1
