"""Registers for a period, read back with openpyxl: totals equal the books' own sums."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
from sqlalchemy import func, select

from loanfund.domain.policy import default_policy
from loanfund.exports.registers import (
    write_disbursement_register,
    write_journal,
    write_repayment_register,
)
from loanfund.models import JournalEntry, JournalLine, Repayment, Tranche
from loanfund.queries.ledger import account_balances, trial_balance
from loanfund.queries.registers import disbursement_rows, journal_rows, repayment_rows
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from tests.conftest import TODAY

START, END = dt.date(2026, 1, 1), TODAY
COMMON = {"fund_name": "Quỹ", "date_from": START, "date_to": END, "digits": 0}


def _read(write, *args, **kwargs):
    out = io.BytesIO()
    totals = write(out, *args, **COMMON, **kwargs)
    out.seek(0)
    return openpyxl.load_workbook(out), totals


def _last_row(sheet):
    rows = [row for row in sheet.iter_rows(min_row=5, values_only=True) if row[0] is not None]
    return rows[:-1], rows[-1]


def test_the_registers_add_up_to_the_books(session, tmp_path):
    load_demo_fund(
        session, hash_password=lambda password: "x", today=TODAY, store=FileStore(tmp_path)
    )
    book, totals = _read(
        write_disbursement_register, disbursement_rows(session, date_from=START, date_to=END)
    )
    paid = session.scalar(
        select(func.sum(Tranche.amount)).where(
            Tranche.status == "paid", Tranche.value_date.between(START, END)
        )
    )
    rows, total = _last_row(book.active)
    assert totals["amount"] == Decimal(paid) and total[-1] == paid and len(rows) >= 5

    book, totals = _read(
        write_repayment_register, repayment_rows(session, date_from=START, date_to=END)
    )
    received = session.scalar(
        select(func.sum(Repayment.amount)).where(
            Repayment.status == "posted", Repayment.received_on.between(START, END)
        )
    )
    assert totals["amount"] == Decimal(received)
    # Each receipt is split without a đồng lost.
    assert totals["amount"] == (
        totals["principal"] + totals["prepayment"] + totals["interest"] + totals["penalty"]
    )

    trial = trial_balance(session, date_from=START, date_to=END)
    book, totals = _read(
        write_journal,
        journal_rows(session, date_from=START, date_to=END),
        trial,
        account_code=default_policy(currency_digits=0).account_code,
    )
    lines = session.execute(
        select(func.sum(JournalLine.debit), func.sum(JournalLine.credit))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.value_date.between(START, END))
    ).one()
    assert totals["debit"] == totals["credit"] == Decimal(lines[0]) == Decimal(lines[1])
    assert book.sheetnames == ["Journal", "Trial balance"]
    rows, _total = _last_row(book["Trial balance"])
    closing = {row[0]: row[5] for row in rows}
    policy = default_policy(currency_digits=0)
    balances = account_balances(session, as_of=END)
    # Every account's closing balance is its balance in the books at the end of the period.
    assert closing == {
        policy.account_code(account.value): value for account, value in balances.items()
    }


def test_the_inspection_register_lists_the_visits_of_the_period(session, tmp_path):
    from loanfund.exports.registers import write_inspection_register
    from loanfund.models import Inspection
    from loanfund.queries.registers import inspection_rows

    load_demo_fund(
        session, hash_password=lambda password: "x", today=TODAY, store=FileStore(tmp_path)
    )
    book, totals = _read(
        write_inspection_register, inspection_rows(session, date_from=START, date_to=END)
    )
    rows, _total = _last_row(book.active)
    done = session.scalars(
        select(Inspection).where(
            Inspection.status == "done", Inspection.visited_on.between(START, END)
        )
    ).all()
    assert len(rows) == len(done) >= 3
    assert totals["amount_verified"] == sum(i.amount_verified for i in done)
    verdicts = {row[8] for row in rows}
    assert verdicts == {"compliant", "concerns", "misuse of the loan"}
