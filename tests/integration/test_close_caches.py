"""What the daily close keeps so that the dashboard and the books need not read everything:
the journal's checkpoint (every account's debits and credits up to an entry) and the inflow
forecast (installments falling due, with the schedule version counted per loan).

Each figure read through them is compared with the same figure summed here from every row,
the plain way (every journal line; every active loan's newest schedule version through the
ORM), after the close and after changes the close has not seen yet: entries valued before,
on and after the checkpoint, a loan paid out, a loan repaid in full.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from loanfund.domain.access import SYSTEM
from loanfund.domain.ledger import Account, EntryKind, Line, balance_of
from loanfund.domain.loans import LoanStatus
from loanfund.domain.repayments import state_row
from loanfund.models import (
    AccountTotal,
    InflowForecast,
    JournalEntry,
    JournalLine,
    Loan,
    LoanReplay,
    Repayment,
    User,
)
from loanfund.queries import loans as loan_queries
from loanfund.queries.ledger import account_totals, trial_balance
from loanfund.queries.loans import changed_since_forecast, expected_inflows
from loanfund.services import loans as loan_service
from loanfund.services.accounts import actor_for
from loanfund.services.daily_close import close_day
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.ledger import post_entry, record_totals
from loanfund.services.loan_state import replay
from loanfund.services.repayments import (
    approve_reversal,
    payoff_quote,
    record_repayment,
    request_reversal,
)
from tests.application_data import fund_with_product
from tests.conftest import TODAY
from tests.integration.test_stored_figures import _both

ZERO = (Decimal(0), Decimal(0))
#: Accounts that can be debited and credited against each other: two accounts on the books,
#: or the two memo accounts (memo lines balance among themselves).
_MEMO = (Account.OFF_BOOK_INTEREST, Account.OFF_BOOK_INTEREST_CONTRA)
PAIRS = [
    (debit, credit)
    for debit in Account
    for credit in Account
    if debit is not credit
    and (debit in _MEMO) == (credit in _MEMO)
    # An entry on loans receivable names its loan: the loans' own tests post those.
    and Account.LOANS_RECEIVABLE not in (debit, credit)
]


def every_line_summed(session, as_of=None):
    """Each account's debits and credits over every line, valued on or before ``as_of``."""
    sums = defaultdict(lambda: [Decimal(0), Decimal(0)])
    rows = session.execute(
        select(
            JournalLine.account, JournalLine.debit, JournalLine.credit, JournalEntry.value_date
        ).join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
    )
    for account, debit, credit, value_date in rows:
        if as_of is None or value_date <= as_of:
            sums[account][0] += debit
            sums[account][1] += credit
    return {account: tuple(pair) for account, pair in sums.items()}


def _nonzero(sums):
    return {account: pair for account, pair in sums.items() if pair != ZERO}


def every_schedule_summed(session, today, months=12):
    """Principal and interest of every active loan's newest schedule version due from
    ``today`` in this month and the next ``months - 1``, by (year, month)."""
    window = []
    year, month = today.year, today.month
    for _step in range(months):
        window.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    sums = {slot: (Decimal(0), Decimal(0)) for slot in window}
    for loan in session.scalars(select(Loan).where(Loan.status == LoanStatus.ACTIVE)):
        newest = max(loan.schedules, key=lambda version: version.version)
        for row in newest.installments["installments"]:
            due_on = dt.date.fromisoformat(row["due_on"])
            slot = (due_on.year, due_on.month)
            if due_on >= today and slot in sums:
                principal, interest = sums[slot]
                sums[slot] = (
                    principal + Decimal(row["principal"]),
                    interest + Decimal(row["interest"]),
                )
    return sums


def _inflows(session, today):
    return {
        (month.year, month.month): (month.principal, month.interest)
        for month in expected_inflows(session, today=today)
    }


@pytest.fixture()
def demo(session, tmp_path):
    load_demo_fund(
        session, hash_password=lambda password: "x", today=TODAY, store=FileStore(tmp_path)
    )
    return session


def session_last_receipt(session, loan_id):
    return session.scalar(
        select(func.max(Repayment.received_on)).where(Repayment.loan_id == loan_id)
    ) or TODAY - dt.timedelta(days=30)


def _person(session, email):
    return actor_for(session.scalar(select(User).where(User.email == email)))


# The journal's checkpoint


def test_the_close_writes_a_checkpoint_of_every_entry_and_balances_read_from_it(demo):
    through = demo.scalar(select(func.max(AccountTotal.through_entry_id)))
    assert through == demo.scalar(select(func.max(JournalEntry.id)))
    # The checkpoint holds real figures: cash paid out and principal lent.
    held = {row.account: row for row in demo.scalars(select(AccountTotal))}
    assert held[Account.LOANS_RECEIVABLE].debit > 0 and held[Account.CASH].credit > 0
    for as_of in (None, TODAY, TODAY - dt.timedelta(days=40), dt.date(2020, 1, 1)):
        assert _nonzero(account_totals(demo, as_of=as_of)) == every_line_summed(demo, as_of)


def test_entries_after_the_checkpoint_count_by_their_value_date_not_their_posting(demo):
    officer = _person(demo, "officer@demo.quyhtx.vn")
    loan = max(  # disbursed long ago: overdue for months
        (loan for loan in demo.scalars(select(Loan)) if loan.status is LoanStatus.ACTIVE),
        key=lambda loan: loan.days_past_due,
    )
    last_receipt = session_last_receipt(demo, loan.id)
    # A receipt recorded today but dated five days ago: before today's figures, after the
    # checkpoint's entries.
    received_on = max(last_receipt, TODAY - dt.timedelta(days=5))
    record_repayment(
        demo,
        actor=officer,
        loan_id=loan.id,
        received_on=received_on,
        amount=Decimal(1_000_000),
        channel="bank",
        reference="UNC-CHK-1",
        idempotency_key="checkpoint-test-1",
        today=TODAY,
    )
    demo.flush()
    for as_of in (None, TODAY, received_on, received_on - dt.timedelta(days=1)):
        assert _nonzero(account_totals(demo, as_of=as_of)) == every_line_summed(demo, as_of)
    # The receipt moved a million from loans receivable (and interest) into cash, by hand:
    before = every_line_summed(demo, received_on - dt.timedelta(days=1))
    after = account_totals(demo, as_of=received_on)
    assert after[Account.CASH][0] - before[Account.CASH][0] == Decimal(1_000_000)
    # The trial balance of the month opens on the checkpoint less this month's entries.
    month_start = TODAY.replace(day=1)
    opening = every_line_summed(demo, month_start - dt.timedelta(days=1))
    for row in trial_balance(demo, date_from=month_start, date_to=TODAY):
        assert row.opening == balance_of(row.account, *opening.get(row.account, ZERO))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(
                st.just("post"),
                st.integers(min_value=-400, max_value=60),  # value date, days from TODAY
                st.sampled_from(PAIRS),
                st.integers(min_value=1, max_value=10**12),
            ),
            st.just(("checkpoint",)),
        ),
        max_size=12,
    ),
    as_of_days=st.lists(st.integers(min_value=-500, max_value=90), min_size=1, max_size=4),
)
def test_any_postings_and_checkpoints_give_the_balances_of_every_line(session, steps, as_of_days):
    """Whatever is posted, valued whenever, with checkpoints taken at any point between the
    postings: balances through the latest checkpoint equal the sums of every line."""
    if session.scalar(select(func.count(JournalEntry.id))) == 0:
        fund_with_product(session)
    for step in steps:
        if step[0] == "checkpoint":
            record_totals(session)
            continue
        _post, days, (debit, credit), amount = step
        post_entry(
            session,
            actor=SYSTEM,
            kind=EntryKind.CAPITAL_CONTRIBUTION,
            value_date=TODAY + dt.timedelta(days=days),
            lines=[
                Line(debit, Decimal(amount), Decimal(0)),
                Line(credit, Decimal(0), Decimal(amount)),
            ],
            description="property test",
        )
    session.flush()
    for days in [None, *as_of_days]:
        as_of = None if days is None else TODAY + dt.timedelta(days=days)
        assert _nonzero(account_totals(session, as_of=as_of)) == every_line_summed(session, as_of)


# The inflow forecast


def test_after_the_close_the_forecast_gives_every_schedule_and_nothing_has_changed(demo):
    forecast = demo.get(InflowForecast, TODAY)
    assert forecast is not None
    assert changed_since_forecast(demo, forecast.through_version_id) == []
    expected = every_schedule_summed(demo, TODAY)
    assert _inflows(demo, TODAY) == expected
    assert sum(principal for principal, _interest in expected.values()) > 0
    # Every active loan is marked with its newest version; no other loan is.
    for loan in demo.scalars(select(Loan)):
        newest = max((version.id for version in loan.schedules), default=None)
        marked = newest if loan.status is LoanStatus.ACTIVE else None
        assert loan.inflow_version_id == marked, loan.contract_no
    # A later day reads the same forecast: installments due before it drop out.
    later = TODAY + dt.timedelta(days=9)
    assert _inflows(demo, later) == every_schedule_summed(demo, later)


def test_a_loan_paid_out_and_a_loan_repaid_after_the_close_count_before_the_next_one(demo):
    officer = _person(demo, "officer@demo.quyhtx.vn")
    approver = _person(demo, "approver@demo.quyhtx.vn")
    # The demo's contract not paid out yet gets its first tranche: a new active loan.
    contracted = demo.scalar(select(Loan).where(Loan.status == LoanStatus.CONTRACTED))
    tranche = loan_service.request_tranche(
        demo,
        actor=officer,
        loan_id=contracted.id,
        amount=contracted.amount,
        value_date=TODAY,
        payee=contracted.cooperative.name,
        account="0123456789",
        reference="UNC-FC-1",
        idempotency_key="forecast-test-tranche",
    )
    loan_service.approve_tranche(demo, actor=approver, tranche_id=tranche.id)
    loan_service.pay_tranche(demo, actor=officer, tranche_id=tranche.id, today=TODAY)
    # An active loan repaid in full today: no longer active.
    repaid = min(
        (
            loan
            for loan in demo.scalars(select(Loan))
            if loan.status is LoanStatus.ACTIVE and loan.id != contracted.id
        ),
        key=lambda loan: loan.principal_outstanding,
    )
    record_repayment(
        demo,
        actor=officer,
        loan_id=repaid.id,
        received_on=TODAY,
        amount=payoff_quote(demo, repaid, TODAY).total,
        channel="bank",
        reference="UNC-FC-2",
        idempotency_key="forecast-test-payoff",
        today=TODAY,
    )
    demo.flush()
    demo.expire_all()
    assert demo.get(Loan, repaid.id).status is LoanStatus.CLOSED
    forecast = demo.get(InflowForecast, TODAY)
    changed = {row[0] for row in changed_since_forecast(demo, forecast.through_version_id)}
    assert changed == {contracted.id, repaid.id}
    assert _inflows(demo, TODAY) == every_schedule_summed(demo, TODAY)
    # The new loan brings its first installments in; the repaid one no longer counts.
    new_loan_due = every_schedule_summed(demo, TODAY)
    assert new_loan_due != {slot: ZERO for slot in new_loan_due}

    # The next close recounts exactly those two loans and marks them.
    counts = close_day(demo, day=TODAY + dt.timedelta(days=1))
    assert counts["inflows_recounted"] == 2
    demo.expire_all()
    forecast = demo.get(InflowForecast, TODAY + dt.timedelta(days=1))
    assert changed_since_forecast(demo, forecast.through_version_id) == []
    assert demo.get(Loan, repaid.id).inflow_version_id is None
    assert demo.get(Loan, contracted.id).inflow_version_id == max(
        version.id for version in demo.get(Loan, contracted.id).schedules
    )
    later = TODAY + dt.timedelta(days=1)
    assert _inflows(demo, later) == every_schedule_summed(demo, later)


@pytest.mark.parametrize("ids_per_statement", [10_000, 1])
def test_loans_loaded_after_the_forecast_are_all_counted_whatever_the_slices(
    demo, monkeypatch, ids_per_statement
):
    """A bulk load adds loans the latest forecast never counted (no mark). Their versions are
    read by id a slice at a time (a statement stays under PostgreSQL's 65,535 parameters);
    with 1 per statement, every slice must be read."""
    monkeypatch.setattr(loan_queries, "_IDS_PER_STATEMENT", ids_per_statement)
    # As if every active loan had been loaded after a forecast that counted none of them.
    forecast = demo.get(InflowForecast, TODAY)
    forecast.days = {}
    demo.execute(update(Loan).values(inflow_version_id=None))
    demo.commit()
    active = {loan.id for loan in demo.scalars(select(Loan)) if loan.status is LoanStatus.ACTIVE}
    assert len(active) >= 3
    changed = changed_since_forecast(demo, forecast.through_version_id)
    assert {row[0] for row in changed} == active
    assert _inflows(demo, TODAY) == every_schedule_summed(demo, TODAY)


# Each loan's replay kept by the close


def _kept(session):
    return {row.loan_id: row for row in session.scalars(select(LoanReplay))}


def _receipt(session, officer, loan, day, amount, key):
    return record_repayment(
        session,
        actor=officer,
        loan_id=loan.id,
        received_on=day,
        amount=Decimal(amount),
        channel="bank",
        reference=key,
        idempotency_key=key,
        today=day,
    )


def test_each_loans_replay_is_kept_and_equals_a_replay_from_its_receipts(demo):
    """The kept installments are compared, figure by figure, with the loan replayed here from
    its schedule versions and every posted receipt."""
    kept = _kept(demo)
    in_books = {
        loan.id
        for loan in demo.scalars(select(Loan))
        if loan.schedules and loan.status in (LoanStatus.ACTIVE, LoanStatus.RECALLED)
    }
    assert in_books and in_books <= set(kept)
    for loan_id, row in kept.items():
        loan = demo.get(Loan, loan_id)
        states, terms = replay(demo, loan)
        receipts = demo.scalars(
            select(Repayment).where(Repayment.loan_id == loan_id, Repayment.status == "posted")
        ).all()
        assert row.state["installments"] == [state_row(state) for state in states]
        assert row.state["disbursed_on"] == terms.disbursed_on.isoformat()
        assert (row.receipts, row.last_sequence, row.versions) == (
            len(receipts),
            max((receipt.sequence for receipt in receipts), default=0),
            len(loan.schedules),
        )
        assert row.through <= TODAY
    # Something was paid on the kept installments: the comparison is not of empty states.
    assert any(
        Decimal(installment[6]) > 0
        for row in kept.values()
        for installment in row.state["installments"]
    )


def test_the_next_closes_start_from_the_kept_replays_and_store_what_a_full_replay_gives(demo):
    officer = _person(demo, "officer@demo.quyhtx.vn")
    approver = _person(demo, "approver@demo.quyhtx.vn")
    first, second, third = (TODAY + dt.timedelta(days=n) for n in (1, 2, 3))

    # Nothing changed since the demo's close: no loan is replayed from its receipts.
    counts = close_day(demo, day=first)
    assert counts["loans_aged"] > 0 and counts["loans_replayed"] == 0
    stored, replayed = _both(demo, first)
    assert stored == replayed
    assert any(row["penalty"] > 0 for row in stored)  # figures that move with the day
    built = {loan_id: row.through for loan_id, row in _kept(demo).items()}
    assert max(built.values()) <= TODAY  # none was written again

    # A receipt on one loan; on another two receipts and the first reversed: those two are
    # replayed. On a third a receipt recorded and reversed leaves exactly the receipts its kept
    # replay read: it starts from it.
    paid, reversed_on, undone = sorted(
        (loan for loan in demo.scalars(select(Loan)) if loan.status is LoanStatus.ACTIVE),
        key=lambda loan: loan.id,
    )[:3]
    _receipt(demo, officer, paid, second, 2_000_000, "kept-replay-1")
    for loan, key in ((reversed_on, "kept-replay-2"), (undone, "kept-replay-4")):
        mistaken = _receipt(demo, officer, loan, second, 1_000_000, key)
        if loan is reversed_on:
            _receipt(demo, officer, loan, second, 1_500_000, "kept-replay-3")
        request_reversal(demo, actor=officer, repayment_id=mistaken.id, reason="Typed twice")
        approve_reversal(demo, actor=approver, repayment_id=mistaken.id)
    demo.commit()
    counts = close_day(demo, day=second)
    assert counts["loans_replayed"] == 2
    stored, replayed = _both(demo, second)
    assert stored == replayed
    kept = _kept(demo)
    assert kept[paid.id].through == second and kept[reversed_on.id].through == second
    assert kept[undone.id].through == built[undone.id] < second

    # A receipt dated after the day closed: the loan is replayed without it and no replay is
    # kept for it (it would not hold for the day after the receipt's).
    _receipt(demo, officer, paid, TODAY + dt.timedelta(days=5), 3_000_000, "kept-replay-5")
    demo.commit()
    counts = close_day(demo, day=third)
    assert counts["loans_replayed"] == 1
    stored, replayed = _both(demo, third)
    assert stored == replayed
    assert _kept(demo)[paid.id].through == second
    later = TODAY + dt.timedelta(days=5)
    counts = close_day(demo, day=later)
    assert counts["loans_replayed"] == 1
    assert _both(demo, later)[0] == _both(demo, later)[1]

    # A day before the loan's kept replay, which counts a receipt dated after that day: the
    # loan is replayed as of the day (its stored figures cleared by hand here, as when they no
    # longer hold; the other loans still hold theirs for a later day and are not aged).
    earlier = TODAY + dt.timedelta(days=4)
    demo.execute(update(Loan).where(Loan.id == paid.id).values(closed_through=None))
    demo.commit()
    counts = close_day(demo, day=earlier)
    assert counts["loans_aged"] == 1 and counts["loans_replayed"] == 1
    stored, replayed = _both(demo, earlier)
    assert stored == replayed
    demo.expire_all()
    assert demo.get(Loan, paid.id).closed_through == earlier  # the row compared is the stored one
