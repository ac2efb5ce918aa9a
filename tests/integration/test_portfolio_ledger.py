"""The portfolio ledger read back with openpyxl: its layout, its cell types, totals equal to
the books and to the daily close, and text that stays text."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl

from loanfund.domain.ledger import Account
from loanfund.domain.roles import Role
from loanfund.exports.portfolio import write_portfolio_ledger
from loanfund.models import Loan
from loanfund.queries.ledger import account_balances
from loanfund.services.accounts import actor_for
from loanfund.services.daily_close import close_day
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.portfolio import portfolio_rows
from tests.conftest import TODAY
from tests.integration.conftest import disbursed_loan


def _ledger(session, day):
    out = io.BytesIO()
    totals = write_portfolio_ledger(
        out, portfolio_rows(session, as_of=day), fund_name="Quỹ", as_of=day, digits=0
    )
    out.seek(0)
    return openpyxl.load_workbook(out), totals


def _table(sheet):
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    header, body = rows[0], [row for row in rows[1:] if row[0] is not None]
    return header, body[:-1], body[-1]


def test_the_ledger_agrees_with_the_books_and_the_close_on_the_demo(session, tmp_path):
    load_demo_fund(
        session, hash_password=lambda password: "x", today=TODAY, store=FileStore(tmp_path)
    )
    book, totals = _ledger(session, TODAY)
    sheet = book.active
    assert sheet.title == "Portfolio" and sheet.freeze_panes == "A5"
    assert sheet["A2"].value == "As of 2026-11-23"
    header, loans, total_row = _table(sheet)
    column = {title: index for index, title in enumerate(header)}
    assert total_row[0] == "Total"
    outstanding = column["Principal outstanding"]
    # Every amount is a number and every date a date; the totals row is the sum of the rows.
    assert all(isinstance(row[outstanding], int) for row in loans)
    assert all(isinstance(row[column["Contract date"]], dt.datetime) for row in loans)
    assert total_row[outstanding] == sum(row[outstanding] for row in loans)
    # …and equals the books, and the daily close of the same day, to the đồng.
    balances = account_balances(session)
    assert Decimal(total_row[outstanding]) == balances[Account.LOANS_RECEIVABLE]
    closed = session.query(Loan).all()
    assert totals["specific_provision"] == sum(loan.specific_provision for loan in closed)
    assert totals["accrued_on_books"] == balances[Account.INTEREST_RECEIVABLE]
    assert totals["accrued_off_books"] == balances[Account.OFF_BOOK_INTEREST]
    # The priority category is the one each application claims, in words.
    claimed = {
        loan.contract_no: {
            "none": "No priority category",
            "women": "Women members or leadership",
            "value_chain": "Value-chain linkage",
        }.get(loan.application.priority.value)
        for loan in closed
    }
    priorities = {row[column["Loan no."]]: row[column["Priority category"]] for row in loans}
    assert priorities == {number: claimed[number] for number in priorities}
    assert len(set(priorities.values())) >= 2  # the demo's loans are not all in one category
    groups = {row[column["Loan no."]]: row[column["Debt group"]] for row in loans}
    assert groups == {
        loan.contract_no: loan.debt_group for loan in closed if loan.contract_no in groups
    }


def test_a_formula_looking_name_stays_text_and_a_past_date_shows_that_day(session, world, factory):
    cooperative = factory.cooperative(name='=HYPERLINK("http://x","y")')
    rep = actor_for(factory.user(Role.APPLICANT, cooperative=cooperative))
    disbursed_loan(
        session,
        {**world, "cooperative": cooperative, "rep": rep},
        amount=Decimal(300_000_000),
        key="xl1",
    )
    close_day(session, day=dt.date(2027, 1, 5))
    book, _totals = _ledger(session, dt.date(2027, 1, 5))
    header, loans, _total = _table(book.active)
    borrower = book.active.cell(row=5, column=header.index("Borrower") + 1)
    assert borrower.value == '=HYPERLINK("http://x","y")' and borrower.data_type == "s"
    # On 5 Jan 2027 the 23 Dec installment is 13 days late: group 2, 2 % of 300,000,000.
    row = loans[0]
    assert row[header.index("Days past due")] == 13 and row[header.index("Debt group")] == 2
    assert row[header.index("Specific provision")] == 6_000_000
    # Before the money left, the loan is not in the ledger.
    _book, totals = _ledger(session, dt.date(2026, 11, 22))
    assert totals["outstanding"] == 0


def test_a_loans_ledger_runs_its_balance_down_with_each_receipt(session, world):
    from loanfund.exports.loan_ledger import write_loan_ledger
    from loanfund.services.portfolio import loan_ledger
    from loanfund.services.repayments import record_repayment

    loan = disbursed_loan(session, world, amount=Decimal(300_000_000), key="xl2")
    # 23 Dec 2026: interest 1,331,507 and 100,000,000 more, prepaid principal.
    record_repayment(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        received_on=dt.date(2026, 12, 23),
        amount=Decimal(101_331_507),
        channel="bank",
        reference="",
        idempotency_key="xl2-receipt-xxxxx",
        today=dt.date(2026, 12, 23),
    )
    out = io.BytesIO()
    write_loan_ledger(
        out,
        loan_ledger(session, loan, as_of=dt.date(2026, 12, 31)),
        fund_name="Quỹ",
        as_of=dt.date(2026, 12, 31),
        digits=0,
    )
    out.seek(0)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Terms", "Schedule", "Transactions"]
    header, rows, total = _table(book["Transactions"])
    balance = header.index("Principal outstanding")
    assert [row[balance] for row in rows] == [300_000_000, 200_000_000]
    assert total[header.index("Received")] == 101_331_507
    assert total[header.index("Interest")] == 1_331_507
    header, rows, total = _table(book["Schedule"])
    # What is left on the schedule is what the loan owes: 200,000,000 of principal plus the
    # interest of the installments to come.
    assert total[header.index("Principal")] - total[header.index("Principal paid")] == 200_000_000
