"""Audit rows and journal rows are only ever inserted: the ORM refuses to change or delete
them, and so does the database (triggers) for any SQL the application sends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from loanfund.domain.access import SYSTEM
from loanfund.models import AuditEvent, JournalEntry, JournalLine
from loanfund.models.append_only import AppendOnlyError
from loanfund.services.audit import record_event
from loanfund.services.repayments import approve_reversal, record_repayment, request_reversal
from tests.integration.conftest import disbursed_loan

D = Decimal


def _rows(session) -> tuple:
    """Every audit and journal row as plain values, to show that nothing changed."""
    session.expire_all()
    events = session.execute(
        select(AuditEvent.id, AuditEvent.action, AuditEvent.note).order_by(AuditEvent.id)
    ).all()
    entries = session.execute(
        select(JournalEntry.id, JournalEntry.description).order_by(JournalEntry.id)
    ).all()
    lines = session.execute(
        select(JournalLine.id, JournalLine.debit, JournalLine.credit).order_by(JournalLine.id)
    ).all()
    return events, entries, lines


def _first(session, model):
    return session.scalars(select(model).order_by(model.id).limit(1)).one()


@pytest.fixture
def books(session, world):
    """A fund with capital paid in (journal rows) and a cooperative (audit rows)."""
    assert session.scalar(select(func.count(JournalLine.id))) >= 2
    return _rows(session)


@pytest.mark.parametrize(
    ("model", "column", "value"),
    [
        (AuditEvent, "action", "cooperative.tampered"),
        (AuditEvent, "note", "rewritten"),
        (JournalEntry, "description", "tampered"),
        (JournalLine, "debit", D(1)),
    ],
)
def test_the_orm_refuses_to_change_an_audit_or_journal_row(session, books, model, column, value):
    row = _first(session, model)
    setattr(row, column, value)
    with pytest.raises(AppendOnlyError, match=f"append-only: refused a change of {column}"):
        session.commit()
    session.rollback()
    assert _rows(session) == books


@pytest.mark.parametrize("model", [AuditEvent, JournalEntry, JournalLine])
def test_the_orm_refuses_to_delete_an_audit_or_journal_row(session, books, model):
    session.delete(_first(session, model))
    # (Deleting an entry would first orphan its lines: that change is refused too.)
    with pytest.raises(AppendOnlyError, match="append-only: refused"):
        session.commit()
    session.rollback()
    assert _rows(session) == books


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(note="tampered"),
        delete(AuditEvent),
        update(JournalEntry).values(description="tampered"),
        delete(JournalLine),
    ],
    ids=["update-audit", "delete-audit", "update-entry", "delete-line"],
)
def test_orm_bulk_statements_on_audit_or_journal_rows_are_refused(session, books, statement):
    with pytest.raises(AppendOnlyError, match="append-only: refused an"):
        session.execute(statement)
    session.rollback()
    assert _rows(session) == books


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET note = 'tampered'",
        "DELETE FROM audit_event",
        "UPDATE journal_entry SET description = 'tampered'",
        "DELETE FROM journal_entry",
        "UPDATE journal_line SET debit = debit + 1 WHERE debit > 0",
        "DELETE FROM journal_line",
    ],
)
def test_raw_sql_changing_audit_or_journal_rows_is_refused_by_the_database(
    session, books, statement
):
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert _rows(session) == books


def test_new_audit_and_journal_rows_are_still_written(session, books):
    events, entries, lines = books
    event = record_event(session, actor=SYSTEM, action="test.insert", entity="test", note="new")
    session.commit()
    after = _rows(session)
    assert after[0] == [*events, (event.id, "test.insert", "new")]
    assert (after[1], after[2]) == (entries, lines)


def test_a_reversal_posts_a_mirrored_entry_and_leaves_the_original_untouched(session, world):
    loan = disbursed_loan(session, world, amount=D(300_000_000), key="imm")
    day = dt.date(2026, 12, 23)
    wrong = record_repayment(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        received_on=day,
        amount=D(5_000_000),
        channel="bank",
        reference="UNC-9",
        idempotency_key="imm-r1",
        today=day,
    )
    before = _rows(session)
    request_reversal(session, actor=world["officer"], repayment_id=wrong.id, reason="Wrong loan.")
    approve_reversal(session, actor=world["approver"], repayment_id=wrong.id)
    events, entries, lines = _rows(session)
    # Every earlier row is still there, unchanged; the reversal only added rows.
    assert events[: len(before[0])] == before[0]
    assert entries[: len(before[1])] == before[1] and lines[: len(before[2])] == before[2]
    reversal = session.scalars(
        select(JournalEntry).where(JournalEntry.reverses_id == wrong.journal_entry_id)
    ).one()
    original = session.get(JournalEntry, wrong.journal_entry_id)
    mirrored = {(line.account, line.credit, line.debit) for line in original.lines}
    assert {(line.account, line.debit, line.credit) for line in reversal.lines} == mirrored
