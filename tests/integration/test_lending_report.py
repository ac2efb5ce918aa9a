"""The semi-annual / annual lending report read back with openpyxl: each section adds up to
the portfolio ledger of the period's end and to the books; money in and out equals the
registers of the same dates; numbers are numbers and text stays text; the command line
refuses a period it does not know."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
from sqlalchemy import func, select

from loanfund.domain.reporting import ReportPeriod
from loanfund.domain.roles import Role
from loanfund.exports.lending_report import write_lending_report
from loanfund.exports.portfolio import write_portfolio_ledger
from loanfund.exports.registers import (
    write_disbursement_register,
    write_inspection_register,
    write_repayment_register,
)
from loanfund.models import Inspection, Loan, PortfolioSnapshot
from loanfund.queries.registers import disbursement_rows, inspection_rows, repayment_rows
from loanfund.services.accounts import actor_for
from loanfund.services.daily_close import close_day
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.lending_report import lending_report
from loanfund.services.portfolio import portfolio_rows
from tests.conftest import TODAY
from tests.integration.conftest import disbursed_loan

SECTIONS = ("By debt group", "By sector", "By borrower type", "By priority category")


def _demo(session, tmp_path):
    load_demo_fund(
        session, hash_password=lambda password: "x", today=TODAY, store=FileStore(tmp_path)
    )


def _report(session, code, today=TODAY):
    report = lending_report(session, period=ReportPeriod.parse(code), today=today)
    out = io.BytesIO()
    totals = write_lending_report(out, report, fund_name="Quỹ", digits=0)
    out.seek(0)
    return report, openpyxl.load_workbook(out), totals


def _table(sheet):
    """The header, the lines and the totals row (the rows below the title and as-of lines)."""
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    return rows[0], rows[1:-1], rows[-1]


def _column(sheet, title):
    header, lines, total = _table(sheet)
    index = header.index(title)
    return [line[index] for line in lines], total[index]


def _ledger_totals(session, day):
    rows = list(portfolio_rows(session, as_of=day))
    totals = write_portfolio_ledger(io.BytesIO(), rows, fund_name="Quỹ", as_of=day, digits=0)
    return sum(1 for row in rows if row["outstanding"] > 0), totals


def _register(write, rows, start, end):
    common = {"fund_name": "Quỹ", "date_from": start, "date_to": end, "digits": 0}
    return write(io.BytesIO(), rows(start, end), **common)


def test_every_section_adds_up_to_the_portfolio_ledger_and_the_books(session, tmp_path):
    _demo(session, tmp_path)
    for code, as_of in (("2026-H1", dt.date(2026, 6, 30)), ("2026-H2", TODAY)):
        report, book, _totals = _report(session, code)
        assert report.as_of == as_of
        loans, ledger = _ledger_totals(session, as_of)
        assert loans >= 1 and ledger["outstanding"] > 0
        for name in (*SECTIONS, "Cooperatives financed"):
            sheet = book[name]
            counts, count_total = _column(sheet, "Loans")
            amounts, amount_total = _column(sheet, "Principal outstanding")
            provisions, provision_total = _column(sheet, "Specific provision")
            # The totals row is the sum of the lines, and equals the ledger of the same day.
            assert count_total == sum(counts) == loans, (code, name)
            assert amount_total == sum(amounts) == ledger["outstanding"], (code, name)
            assert provision_total == sum(provisions) == ledger["specific_provision"], (code, name)
        summary = {line[0]: line[1:] for line in _table(book["Summary"])[1]}
        assert summary["Loans with principal outstanding"][1] == loans
        assert summary["Principal outstanding"][0] == ledger["outstanding"]
        assert summary["Specific provisions"][0] == ledger["specific_provision"]

    # On the demo's today, closed by the daily close: the loans' own figures and the snapshot.
    report, book, _totals = _report(session, "2026-H2")
    held = session.execute(
        select(
            func.count(Loan.id),
            func.sum(Loan.principal_outstanding),
            func.sum(Loan.specific_provision),
            func.sum(Loan.general_provision),
        ).where(Loan.principal_outstanding > 0)
    ).one()
    summary = report.summary
    assert (summary["loans"], summary["outstanding"]) == (held[0], Decimal(held[1]))
    assert summary["specific_provision"] == Decimal(held[2])
    assert summary["general_provision"] == Decimal(held[3])
    snapshot = session.get(PortfolioSnapshot, TODAY)
    assert summary["bad_debt_pct"] == snapshot.bad_debt_pct
    assert summary["general_provision"] == snapshot.general_provision
    groups = {line[0]: line[1] for line in _table(book["By debt group"])[1]}
    assert groups == {int(group): n for group, n in snapshot.count_by_group.items()}
    # Bad debt is what groups 3 to 5 hold, and its ratio is that over the whole.
    bad = sum(
        (
            loan.principal_outstanding
            for loan in session.scalars(select(Loan))
            if loan.debt_group >= 3
        ),
        Decimal(0),
    )
    assert summary["bad_debt"] == bad > 0
    assert summary["bad_debt_pct"] == (bad * 100 / summary["outstanding"]).quantize(Decimal("0.01"))


def test_money_in_and_out_and_the_visits_equal_the_registers_of_the_same_dates(session, tmp_path):
    _demo(session, tmp_path)
    for code, start, end in (
        ("2026", dt.date(2026, 1, 1), TODAY),
        ("2025-H2", dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
    ):
        report, book, totals = _report(session, code)
        paid = _register(
            write_disbursement_register,
            lambda a, b: disbursement_rows(session, date_from=a, date_to=b),
            start,
            end,
        )
        received = _register(
            write_repayment_register,
            lambda a, b: repayment_rows(session, date_from=a, date_to=b),
            start,
            end,
        )
        flows = totals["flows"]
        assert flows["disbursed"] == paid["amount"] > 0, code
        assert flows["principal"] == received["principal"] + received["prepayment"], code
        assert (flows["interest"], flows["penalty"]) == (received["interest"], received["penalty"])
        assert flows["collected"] == received["amount"], code
        months, _total = _column(book["Disbursed and collected"], "Month")
        assert months[0] == f"{start.month:02d}/{start.year}" and len(months) == (
            end.month - start.month + 1
        )
        visited = _register(
            write_inspection_register,
            lambda a, b: inspection_rows(session, date_from=a, date_to=b),
            start,
            end,
        )
        assert totals["inspections"]["amount_verified"] == visited["amount_verified"]
    # The year to date: every visit made, and the rates counted from the visits themselves.
    report, book, totals = _report(session, "2026")
    done = session.scalars(
        select(Inspection).where(
            Inspection.status == "done", Inspection.visited_on.between(dt.date(2026, 1, 1), TODAY)
        )
    ).all()
    fully = [visit for visit in done if visit.funds_use == "fully"]
    on_time = [visit for visit in done if visit.visited_on <= visit.due_on]
    assert totals["inspections"]["done"] == len(done) >= 3
    assert totals["inspections"]["verified_purpose"] == len(fully) >= 1
    assert report.summary["verified_purpose_pct"] == (
        Decimal(len(fully) * 100) / len(done)
    ).quantize(Decimal("0.01"))
    assert totals["inspections"]["on_time"] == len(on_time)
    verdicts = {v: sum(1 for visit in done if visit.verdict == v) for v in ("compliant", "misuse")}
    assert totals["inspections"]["compliant"] == verdicts["compliant"] >= 1
    assert totals["inspections"]["misuse"] == verdicts["misuse"] >= 1


def test_one_loan_by_hand_and_text_that_looks_like_a_formula_stays_text(session, world, factory):
    cooperative = factory.cooperative(name='=HYPERLINK("http://x","y")', sector="=1+2")
    rep = actor_for(factory.user(Role.APPLICANT, cooperative=cooperative))
    disbursed_loan(
        session,
        {**world, "cooperative": cooperative, "rep": rep},
        amount=Decimal(300_000_000),
        key="lr1",
    )
    # Paid out on 23 Nov 2026, nothing repaid. On 5 Jan 2027 the 23 Dec installment is 13
    # days late: group 2, specific provision 2 % of 300,000,000 = 6,000,000, general 0.5 %
    # = 1,500,000. Group 2 is not bad debt.
    close_day(session, day=dt.date(2027, 1, 5))
    report, book, totals = _report(session, "2027-H1", today=dt.date(2027, 1, 5))
    assert book.sheetnames == [
        "Summary",
        *SECTIONS,
        "Disbursed and collected",
        "Inspections",
        "Cooperatives financed",
    ]
    summary = book["Summary"]
    assert summary["A1"].value == "Lending report, First half of 2027 — Quỹ"
    assert summary["A2"].value == "Period from 2027-01-01 to 2027-06-30. As of 2027-01-05."
    assert summary.freeze_panes == "A5"
    lines = {line[0]: line[1:] for line in _table(summary)[1]}
    assert lines["Loans with principal outstanding"] == (None, 1, None)
    assert lines["Principal outstanding"][0] == 300_000_000
    assert lines["Specific provisions"][0] == 6_000_000
    assert lines["General provisions"][0] == 1_500_000
    assert lines["Bad-debt ratio, percent of principal outstanding"][2] == 0
    assert lines["Disbursed in the period"][0] == 0  # paid out in 2026, not in this half
    # The factory's cooperative: 30 members, 12 women, 2 from ethnic minorities; the
    # application's project creates 6 jobs.
    assert lines["Members of the cooperatives financed"][1] == 30
    assert lines["of whom women"][1] == 12 and lines["of whom from ethnic minorities"][1] == 2
    assert lines["Jobs created by the projects financed"][1] == 6

    header, groups, total = _table(book["By debt group"])
    assert [line[:3] for line in groups] == [
        (1, 0, 0),
        (2, 1, 300_000_000),
        (3, 0, 0),
        (4, 0, 0),
        (5, 0, 0),
    ]
    assert groups[1][header.index("Share of principal outstanding, percent")] == 100
    assert total[header.index("Specific provision")] == 6_000_000
    # Amounts are numbers with the VND format, counts numbers, dates dates.
    cell = book["By debt group"].cell(row=6, column=3)
    assert isinstance(cell.value, int) and cell.number_format == "#,##0"
    month = book["Disbursed and collected"].cell(row=5, column=2)
    assert month.value == dt.datetime(2027, 1, 1) and month.number_format == "dd/mm/yyyy"

    borrower = book["Cooperatives financed"]["A5"]
    assert borrower.value == '=HYPERLINK("http://x","y")' and borrower.data_type == "s"
    sector = book["By sector"]["A5"]
    assert sector.value == "=1+2" and sector.data_type == "s"
    assert totals["cooperatives"]["outstanding"] == Decimal(300_000_000)

    # The half-year the money left in: disbursed 300,000,000 on 23 Nov 2026.
    report, book, totals = _report(session, "2026-H2", today=dt.date(2027, 1, 5))
    assert report.as_of == dt.date(2026, 12, 31)
    assert totals["flows"]["disbursed"] == Decimal(300_000_000)
    assert totals["flows"]["collected"] == 0


def test_the_command_writes_the_report_and_refuses_a_period_it_does_not_know(
    app, tmp_path, monkeypatch
):
    runner = app.test_cli_runner()
    out = tmp_path / "report.xlsx"
    result = runner.invoke(
        args=["export", "lending-report", "--period", "2025-H3", "--out", str(out)]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "“2025-H3” is not a reporting period" in result.output
    assert "2025-H1" in result.output and not out.exists()

    monkeypatch.setattr("loanfund.web.clock.fund_today", lambda: TODAY)
    result = runner.invoke(args=["export", "lending-report", "--period", "2027", "--out", str(out)])
    assert result.exit_code == 2 and "has not started yet" in result.output
    assert not out.exists()

    result = runner.invoke(
        args=["export", "lending-report", "--period", "2026-H1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2026-H1 as of 2026-06-30" in result.output
    assert openpyxl.load_workbook(out).sheetnames[0] == "Summary"
