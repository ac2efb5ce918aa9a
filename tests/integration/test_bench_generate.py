"""The synthetic fund of ``loanfund bench generate``: complete, consistent with the books and
the replay, closable, and the same for the same seed."""

import shutil
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from loanfund.bench.generate import OVERDUE_DAYS, generate_fund, prepare_database
from loanfund.domain.access import SYSTEM
from loanfund.domain.classification import days_past_due
from loanfund.domain.ledger import Account
from loanfund.domain.loans import LoanStatus
from loanfund.models import (
    Cooperative,
    JournalEntry,
    JournalLine,
    Loan,
    LoanApplication,
    PortfolioSnapshot,
    Recall,
    Repayment,
    Restructuring,
    ScheduleVersion,
    db,
)
from loanfund.queries.ledger import account_balances
from loanfund.services.daily_close import close_day
from loanfund.services.loan_state import replay_receipts
from loanfund.services.repayments import _allocation_json
from loanfund.services.settings import initialize_fund
from tests.conftest import PG_URL, TODAY, _prepare_postgres, make_app

LOANS = 60


def _generate(application, *, seed):
    with application.app_context(), application.test_request_context():
        result = generate_fund(db.session, loans=LOANS, seed=seed, today=TODAY)
        db.session.remove()
    return result


@pytest.fixture(scope="module")
def fund(tmp_path_factory):
    """The demo fund and LOANS synthetic loans, for the module's tests (loading the demo
    takes seconds); on SQLite, a copy of the demo's database file is kept, to generate again
    on it."""
    folder = tmp_path_factory.mktemp("fund")
    if PG_URL:
        _prepare_postgres()
    application = make_app(folder)
    with application.app_context(), application.test_request_context():
        if not PG_URL:
            db.create_all()
        initialize_fund(
            db.session,
            actor=SYSTEM,
            fund_name="Test Fund",
            currency="VND",
            timezone="Asia/Ho_Chi_Minh",
        )
        prepare_database(db.session, today=TODAY, store_dir=folder / "uploads")
        demo_loans = db.session.scalar(select(func.count(Loan.id)))
        db.session.remove()
        db.engine.dispose()
    copy = None
    if not PG_URL:
        copy = folder / "demo-copy.sqlite3"
        shutil.copyfile(folder / "test.sqlite3", copy)
    result = _generate(application, seed=7)
    yield application, result, demo_loans, copy
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def generated(fund):
    application, result, demo_loans, _copy = fund
    with application.app_context(), application.test_request_context():
        yield result, demo_loans
        db.session.remove()


@pytest.fixture
def session(generated):
    return db.session


def _synthetic(session):
    return list(session.scalars(select(Loan).where(Loan.contract_no.like("HĐ-%-1____"))))


def test_generated_fund_has_the_loans_and_rows_asked_for(session, generated):
    result, demo_loans = generated
    assert result["loans"] == LOANS
    assert session.scalar(select(func.count(Loan.id))) == demo_loans + LOANS
    assert len(_synthetic(session)) == LOANS
    assert result["rows"]["loan"] == LOANS
    assert result["rows"]["tranche"] == LOANS
    # Every cooperative has one to three synthetic loans.
    per_cooperative = session.execute(
        select(Loan.cooperative_id, func.count(Loan.id))
        .where(Loan.contract_no.like("HĐ-%-1____"))
        .group_by(Loan.cooperative_id)
    ).all()
    assert {count for _id, count in per_cooperative} <= {1, 2, 3}
    assert result["rows"]["cooperative"] == len(per_cooperative)
    women = session.scalar(select(func.sum(Cooperative.women_members)))
    assert women > 0
    # Applications: one approved per loan, and the pending ones.
    assert result["rows"]["loan_application"] >= LOANS
    assert session.scalar(select(func.count(Repayment.id))) >= result["rows"]["repayment"] > LOANS


def test_every_story_and_overdue_age_is_in_the_book(session, generated):
    loans = _synthetic(session)
    statuses = {loan.status for loan in loans}
    assert {LoanStatus.ACTIVE, LoanStatus.CLOSED, LoanStatus.RECALLED} <= statuses
    assert session.scalar(select(func.count(Restructuring.id))) >= 1
    assert session.scalar(select(func.count(Recall.id))) >= 1
    ages = []
    for loan in loans:
        if loan.status is LoanStatus.ACTIVE:
            states, _terms = replay_receipts(session, loan)[:2]
            ages.append(days_past_due(states, TODAY))
    assert 0 in ages
    for low, high in OVERDUE_DAYS.values():
        assert any(low <= age <= high for age in ages), (low, high)


def test_books_balance_and_receivable_equals_replayed_principal(session, generated):
    debits = session.scalar(select(func.sum(JournalLine.debit)))
    credits = session.scalar(select(func.sum(JournalLine.credit)))
    assert debits == credits
    outstanding = Decimal(0)
    checked = 0
    for loan in session.scalars(select(Loan).where(Loan.schedules.any())):
        states, _terms, allocations = replay_receipts(session, loan)
        owed = sum((max(s.principal_left, Decimal(0)) for s in states), Decimal(0))
        outstanding += owed
        # The loan's own balance on loans receivable, counted by the generator, is its replay's.
        assert loan.receivable == owed, loan.contract_no
        for receipt, allocation in allocations:
            assert receipt.allocation == _allocation_json(allocation), receipt.idempotency_key
            checked += 1
    assert checked > LOANS
    assert account_balances(session)[Account.LOANS_RECEIVABLE] == outstanding
    # Each receipt's entry takes in exactly the receipt.
    entry_cash = session.execute(
        select(Repayment.amount, JournalLine.debit)
        .join(JournalEntry, JournalEntry.id == Repayment.journal_entry_id)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.account == Account.CASH)
    ).all()
    assert entry_cash and all(amount == debit for amount, debit in entry_cash)


def test_daily_close_of_today_runs_and_matches_the_books(session, generated):
    counts = close_day(session, day=TODAY)
    assert not counts.get("skipped")
    assert counts["loans_aged"] >= LOANS // 2
    snapshot = session.get(PortfolioSnapshot, TODAY)
    assert snapshot is not None
    assert snapshot.outstanding == account_balances(session)[Account.LOANS_RECEIVABLE]


def test_the_same_seed_writes_the_same_fund(fund, tmp_path):
    application, result, _demo, copy = fund
    if copy is None:
        pytest.skip("one PostgreSQL test database: a second fund would replace the first")
    with application.app_context():
        first = fingerprint_of(db.session)
        db.session.remove()
    other = make_app(tmp_path, DATABASE_URL=f"sqlite:///{copy}")
    again = _generate(other, seed=7)
    with other.app_context():
        second = fingerprint_of(db.session)
        db.session.remove()
        db.engine.dispose()
    assert again["rows"] == result["rows"]
    assert len(first) > LOANS
    assert second == first


def fingerprint_of(session):
    return (
        [
            (v.loan_id, v.version, v.installments["totals"]["total"])
            for v in session.scalars(select(ScheduleVersion).order_by(ScheduleVersion.id))
        ]
        + [
            (r.loan_id, r.sequence, r.received_on, r.amount)
            for r in session.scalars(select(Repayment).order_by(Repayment.id))
        ]
        + [
            (a.number, a.status, a.amount)
            for a in session.scalars(select(LoanApplication).order_by(LoanApplication.id))
        ]
    )


def test_bench_run_measures_the_generated_fund(fund):
    """``loanfund bench run``'s parts on the generated fund: the close of the next day runs,
    every page answers through the app with a count of its SQL statements."""
    from loanfund.bench import run
    from loanfund.services.demo_data import DEMO_PASSWORD

    application, _result, _demo_loans, _copy = fund
    closed = run.measure_close(application)
    assert closed["day"] >= TODAY.isoformat()  # the generated fund is open from --today
    assert closed["counts"]["loans_aged"] > 0 and closed["seconds"] > 0
    pages = run.measure_pages(application, email="admin@demo.quyhtx.vn", password=DEMO_PASSWORD)
    assert set(pages) == set(run.PAGES)
    assert all(page["status"] == 200 and page["statements"] > 0 for page in pages.values())
    lines = list(run.table({"close": closed, "pages": pages}))
    assert any("daily close" in line for line in lines)
