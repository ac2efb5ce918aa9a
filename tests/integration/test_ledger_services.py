"""The fund's books: capital received, balances derived from the journal, append-only rows."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from loanfund.domain.access import SYSTEM
from loanfund.domain.errors import InvalidTransition, NotPermitted, RuleViolation
from loanfund.domain.ledger import Account, EntryKind
from loanfund.domain.roles import Role
from loanfund.models import AuditEvent, JournalEntry, JournalLine
from loanfund.queries.ledger import account_balances, fund_position, list_entries
from loanfund.services.accounts import actor_for
from loanfund.services.demo import load_demo_fund
from loanfund.services.ledger import (
    approve_capital_movement,
    cancel_capital_movement,
    record_capital_contribution,
    request_capital_movement,
)
from tests.conftest import TODAY

D = Decimal


def _contribute(session, amount, value_date=TODAY, actor=SYSTEM, **changes):
    values = dict(source="Provincial budget", reference="QĐ 112/QĐ-UBND", today=TODAY)
    return record_capital_contribution(
        session, actor=actor, amount=D(amount), value_date=value_date, **{**values, **changes}
    )


def test_capital_is_recorded_by_one_person_and_posted_by_another(session, factory):
    admin = actor_for(factory.user(Role.ADMIN))
    approver = actor_for(factory.user(Role.APPROVER))
    movement = request_capital_movement(
        session,
        actor=admin,
        kind="contribution",
        amount=D(20_000_000_000),
        value_date=dt.date(2025, 1, 15),
        source="Provincial budget",
        reference="QĐ 112",
        today=TODAY,
    )
    assert account_balances(session)[Account.CASH] == 0  # recorded, not posted
    with pytest.raises(NotPermitted, match="four-eyes"):
        approve_capital_movement(session, actor=admin, movement_id=movement.id, today=TODAY)
    with pytest.raises(NotPermitted, match="four-eyes"):  # nor alone through the shortcut
        _contribute(session, "1000", actor=admin)
    approve_capital_movement(session, actor=approver, movement_id=movement.id, today=TODAY)
    entry = session.get(JournalEntry, movement.journal_entry_id)
    lines = {(line.account, line.debit, line.credit) for line in entry.lines}
    assert lines == {
        (Account.CASH, D(20_000_000_000), D(0)),
        (Account.FUND_CAPITAL, D(0), D(20_000_000_000)),
    }
    assert entry.kind is EntryKind.CAPITAL_CONTRIBUTION and entry.posted_by_label == approver.label
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity == "capital_movement")
    ).all()
    assert actions == ["capital.contribution_request", "capital.contribution_post"]
    with pytest.raises(InvalidTransition):
        approve_capital_movement(session, actor=approver, movement_id=movement.id, today=TODAY)


def test_a_withdrawal_cannot_take_more_than_the_fund_can_spare(session, factory):
    admin = actor_for(factory.user(Role.ADMIN))
    approver = actor_for(factory.user(Role.APPROVER))
    _contribute(session, "1000000000")
    too_much = request_capital_movement(
        session,
        actor=admin,
        kind="withdrawal",
        amount=D(1_500_000_000),
        value_date=TODAY,
        source="Union takes back capital",
        reference="QĐ 9",
        today=TODAY,
    )
    with pytest.raises(RuleViolation, match="1,000,000,000"):
        approve_capital_movement(session, actor=approver, movement_id=too_much.id, today=TODAY)
    cancel_capital_movement(session, actor=admin, movement_id=too_much.id, reason="Too much.")
    fine = request_capital_movement(
        session,
        actor=admin,
        kind="withdrawal",
        amount=D(400_000_000),
        value_date=TODAY,
        source="Union takes back capital",
        reference="QĐ 10",
        today=TODAY,
    )
    approve_capital_movement(session, actor=approver, movement_id=fine.id, today=TODAY)
    balances = account_balances(session)
    assert balances[Account.CASH] == balances[Account.FUND_CAPITAL] == D(600_000_000)


def test_balances_are_sums_of_the_journal_up_to_a_date(session):
    # 20 bn on 15 Jan 2025 and 5 bn on 2 Mar 2026: 20 bn at the end of 2025, 25 bn today.
    _contribute(session, "20000000000", dt.date(2025, 1, 15))
    _contribute(session, "5000000000", dt.date(2026, 3, 2))
    assert account_balances(session, as_of=dt.date(2025, 12, 31))[Account.CASH] == D(20 * 10**9)
    today = account_balances(session)
    assert today[Account.CASH] == today[Account.FUND_CAPITAL] == D(25 * 10**9)
    assert today[Account.LOANS_RECEIVABLE] == D(0)
    # Available to lend: 25 bn cash − 0 commitments − 1 bn reserve.
    position = fund_position(session, as_of=TODAY, reserve=D(1_000_000_000))
    assert position.available_to_lend == D(24_000_000_000)
    assert [e.value_date for e in list_entries(session).items] == [
        dt.date(2026, 3, 2),
        dt.date(2025, 1, 15),
    ]


def test_every_problem_is_reported_at_once_and_nothing_is_written(session):
    with pytest.raises(RuleViolation) as caught:
        _contribute(session, "0", TODAY + dt.timedelta(days=1), source=" ", reference="")
    problems = caught.value.problems
    assert len(problems) == 4
    assert "2026-11-24 is in the future" in problems[1] and "2026-11-23" in problems[1]
    session.rollback()
    assert session.scalar(select(JournalEntry.id)) is None


def test_an_officer_may_not_record_capital(session, factory):
    officer = actor_for(factory.user(Role.OFFICER))
    with pytest.raises(NotPermitted):
        request_capital_movement(
            session,
            actor=officer,
            kind="contribution",
            amount=D(1000),
            value_date=TODAY,
            source="x",
            reference="y",
            today=TODAY,
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_line SET debit = debit + 1",
        "DELETE FROM journal_line",
        "UPDATE journal_entry SET description = 'tampered'",
        "DELETE FROM journal_entry",
    ],
)
def test_posted_entries_cannot_be_changed_or_deleted(session, statement):
    _contribute(session, "1000")
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert account_balances(session)[Account.CASH] == D(1000)


def test_the_database_refuses_a_line_with_both_sides_or_none(session):
    entry = _contribute(session, "1000")
    for debit, credit in ((5, 5), (0, 0), (-5, 0)):
        with pytest.raises(IntegrityError):
            session.execute(
                text(
                    "INSERT INTO journal_line (entry_id, account, debit, credit) "
                    "VALUES (:entry, 'cash', :debit, :credit)"
                ),
                {"entry": entry.id, "debit": debit, "credit": credit},
            )
        session.rollback()
    assert session.query(JournalLine).count() == 2


def test_the_demo_fund_has_25_billion_of_capital_in_its_bank_account(session):
    load_demo_fund(session, hash_password=lambda password: "x", today=TODAY)
    balances = account_balances(session)
    assert balances[Account.FUND_CAPITAL] == balances[Account.CASH] == D(25_000_000_000)
