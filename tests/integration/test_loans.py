"""Loans: contract, tranches under four-eyes, exactly-once payment, and the books."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from loanfund.domain.access import SYSTEM
from loanfund.domain.errors import Conflict, InvalidTransition, NotPermitted, RuleViolation
from loanfund.domain.ledger import Account
from loanfund.domain.loans import LoanStatus, TrancheStatus
from loanfund.domain.roles import Role
from loanfund.models import AuditEvent, JournalEntry, Tranche, db
from loanfund.queries.ledger import account_balances, fund_position
from loanfund.queries.loans import loan_money
from loanfund.services import loans as service
from loanfund.services.accounts import actor_for
from loanfund.services.appraisals import decide_application
from tests.conftest import PG_URL, TODAY
from tests.integration.conftest import appraised

D = Decimal


@pytest.fixture
def loan(session, world):
    application = appraised(session, world)  # 300 m over 36 months
    decide_application(
        session,
        actor=world["approver"],
        application_id=application.id,
        verdict="approve",
        today=TODAY,
    )
    made = service.make_loan(
        session, actor=world["officer"], application_id=application.id, today=TODAY
    )
    return made


def _contracted(session, world, loan):
    return service.sign_contract(
        session, actor=world["officer"], loan_id=loan.id, signed_on=TODAY, today=TODAY
    )


def _request(session, world, loan, amount, key, *, value_date=TODAY, actor=None):
    return service.request_tranche(
        session,
        actor=actor or world["officer"],
        loan_id=loan.id,
        amount=D(amount),
        value_date=value_date,
        payee="HTX Quảng Phú",
        account="0123456789 Agribank Huế",
        reference="UNC 01",
        idempotency_key=key,
    )


def test_an_approved_application_becomes_a_loan_once_with_a_contract_number(session, world, loan):
    assert loan.contract_no == "HĐ-2026-0001" and loan.status is LoanStatus.APPROVED
    assert loan.amount == D(300_000_000) and loan.annual_rate_pct == D("5.4")
    with pytest.raises(Conflict):
        service.make_loan(
            session, actor=world["officer"], application_id=loan.application_id, today=TODAY
        )


def test_the_contract_is_signed_on_a_day_not_in_the_future(session, world, loan):
    with pytest.raises(RuleViolation, match="in the future"):
        service.sign_contract(
            session,
            actor=world["officer"],
            loan_id=loan.id,
            signed_on=TODAY + dt.timedelta(1),
            today=TODAY,
        )
    assert _contracted(session, world, loan).status is LoanStatus.CONTRACTED
    with pytest.raises(InvalidTransition):
        _contracted(session, world, loan)


def test_a_tranche_needs_a_second_person_and_pays_once_into_the_books(
    session, world, loan, factory
):
    _contracted(session, world, loan)
    # Someone who is both officer and approver still cannot approve their own request.
    both = actor_for(factory.user(Role.OFFICER, Role.APPROVER))
    own = _request(session, world, loan, "50000000", "own", actor=both)
    with pytest.raises(NotPermitted, match="four-eyes"):
        service.approve_tranche(session, actor=both, tranche_id=own.id)
    service.cancel_tranche(session, actor=both, tranche_id=own.id, reason="Entered by mistake.")
    with pytest.raises(RuleViolation, match=r"At most 300,000,000 can still be requested"):
        _request(session, world, loan, "350000000", "k0")
    tranche = _request(session, world, loan, "200000000", "k1")
    assert _request(session, world, loan, "200000000", "k1").id == tranche.id  # same form twice
    with pytest.raises(NotPermitted):  # an officer is not an approver
        service.approve_tranche(session, actor=world["officer"], tranche_id=tranche.id)
    service.approve_tranche(session, actor=world["approver"], tranche_id=tranche.id)
    service.pay_tranche(session, actor=world["officer"], tranche_id=tranche.id, today=TODAY)
    assert tranche.status is TrancheStatus.PAID and loan.status is LoanStatus.ACTIVE
    with pytest.raises(InvalidTransition):
        service.pay_tranche(session, actor=world["officer"], tranche_id=tranche.id, today=TODAY)
    # The books: 25 bn − 200 m in cash, 200 m lent; 100 m still committed to this loan.
    balances = account_balances(session)
    assert balances[Account.CASH] == D(24_800_000_000)
    assert balances[Account.LOANS_RECEIVABLE] == D(200_000_000)
    position = fund_position(session, as_of=TODAY, reserve=D(0))
    assert position.commitments == D(100_000_000)
    assert position.available_to_lend == D(24_700_000_000)
    assert position.cumulative_disbursed == D(200_000_000)
    money = loan_money(session, loan)
    assert (money.disbursed, money.outstanding, money.undisbursed) == (
        D(200_000_000),
        D(200_000_000),
        D(100_000_000),
    )
    # Its first schedule: 200 m over 36 monthly installments from today.
    version = loan.schedules[0]
    assert version.version == 1 and len(version.installments["installments"]) == 36
    assert version.installments["totals"]["principal"] == "200000000"


def test_a_later_tranche_makes_a_new_schedule_version_and_keeps_the_first(session, world, loan):
    _contracted(session, world, loan)
    first = _request(session, world, loan, "200000000", "a")
    service.approve_tranche(session, actor=world["approver"], tranche_id=first.id)
    service.pay_tranche(session, actor=world["officer"], tranche_id=first.id, today=TODAY)
    later = TODAY + dt.timedelta(days=40)  # after the first due date (23 Dec 2026)
    second = _request(session, world, loan, "100000000", "b", value_date=later)
    service.approve_tranche(session, actor=world["approver"], tranche_id=second.id)
    service.pay_tranche(session, actor=world["officer"], tranche_id=second.id, today=later)
    versions = sorted(loan.schedules, key=lambda v: v.version)
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].installments["totals"]["principal"] == "300000000"
    rows = versions[1].installments["installments"]
    # Still 36 installments: the first (23 Dec 2026, due before the 2 Jan 2027 tranche) kept as
    # it was, the other 35 rebuilt on 200 m + 100 m.
    assert len(rows) == 36 and rows[0] == versions[0].installments["installments"][0]
    # Installment 2 (23 Jan): 300 m × 5.4 % × 21/365 = 932,054.79 → 932,055 from the engine,
    # plus the old 200 m's interest from 23 Dec to 2 Jan: × 10/365 = 295,890.41 → 295,890;
    # together 1,227,945 (the same as 200 m for 31 days + 100 m for 21 days, to the đồng).
    assert rows[1]["n"] == 2 and rows[1]["interest"] == "1227945"


def test_a_tranche_the_fund_cannot_afford_is_refused_with_the_figures(session, world, loan):
    from loanfund.services.settings import update_fund_settings

    update_fund_settings(
        session,
        actor=SYSTEM,
        fund_name="Test Fund",
        timezone="Asia/Ho_Chi_Minh",
        policy_values={"min_liquidity_reserve": "24900000000"},
        currency_digits=0,
    )
    _contracted(session, world, loan)
    tranche = _request(session, world, loan, "200000000", "k")
    service.approve_tranche(session, actor=world["approver"], tranche_id=tranche.id)
    with pytest.raises(RuleViolation) as caught:
        service.pay_tranche(session, actor=world["officer"], tranche_id=tranche.id, today=TODAY)
    # 25 bn cash − 0 other commitments − 24.9 bn reserve = 100 m available, 200 m asked.
    assert any("100,000,000" in p and "200,000,000" in p for p in caught.value.problems)
    assert session.scalar(select(func.count(JournalEntry.id))) == 1  # only the capital


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL for real concurrency (.ci/run sets it)")
def test_twenty_people_paying_the_same_tranche_at_once_pay_it_once(app, session, world, loan):
    _contracted(session, world, loan)
    tranche = _request(session, world, loan, "200000000", "race")
    service.approve_tranche(session, actor=world["approver"], tranche_id=tranche.id)
    tranche_id, officer = tranche.id, world["officer"]
    session.remove()
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def attempt() -> None:
        with app.app_context():
            barrier.wait()
            try:
                service.pay_tranche(db.session, actor=officer, tranche_id=tranche_id, today=TODAY)
                outcomes.append("paid")
            except (Conflict, InvalidTransition):
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("paid") == 1 and len(outcomes) == 20
    disbursements = db.session.scalar(
        select(func.count(JournalEntry.id)).where(JournalEntry.kind == "disbursement")
    )
    audits = db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "loan.tranche_pay")
    )
    assert (disbursements, audits) == (1, 1)
    assert db.session.get(Tranche, tranche_id).status is TrancheStatus.PAID


def test_trial_balance_and_expected_inflows_after_a_disbursement(session, world, loan):
    from loanfund.domain.ledger import books_balance
    from loanfund.queries.ledger import trial_balance
    from loanfund.queries.loans import expected_inflows

    _contracted(session, world, loan)
    tranche = _request(session, world, loan, "200000000", "tb")
    service.approve_tranche(session, actor=world["approver"], tranche_id=tranche.id)
    service.pay_tranche(session, actor=world["officer"], tranche_id=tranche.id, today=TODAY)
    # November: 25 bn of capital in, 200 m lent out, both valued on 23 Nov.
    rows = {
        row.account: row
        for row in trial_balance(
            session, date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30)
        )
    }
    cash = rows[Account.CASH]
    assert (cash.opening, cash.debits, cash.credits, cash.closing) == (
        D(0),
        D(25_000_000_000),
        D(200_000_000),
        D(24_800_000_000),
    )
    assert rows[Account.LOANS_RECEIVABLE].closing == D(200_000_000)
    assert rows[Account.FUND_CAPITAL].closing == D(25_000_000_000)
    assert books_balance(rows.values()) == 0
    # December opens where November closed and nothing moves.
    december = {
        row.account: row
        for row in trial_balance(
            session, date_from=dt.date(2026, 12, 1), date_to=dt.date(2026, 12, 31)
        )
    }
    assert december[Account.CASH].opening == december[Account.CASH].closing == D(24_800_000_000)
    # Inflows: the first installment (23 Dec) carries no principal (every 3rd does) and
    # interest of 200,000,000 × 5.4 % × 30/365 = 887,671.23… → 887,671; the third (23 Feb)
    # carries 200,000,000 ÷ 12 = 16,666,666.67 → 16,666,667 of principal.
    inflows = {(row.year, row.month): row for row in expected_inflows(session, today=TODAY)}
    assert len(inflows) == 12
    assert (inflows[(2026, 11)].total, inflows[(2026, 12)].principal) == (D(0), D(0))
    assert inflows[(2026, 12)].interest == D(887_671)
    assert inflows[(2027, 2)].principal == D(16_666_667)
