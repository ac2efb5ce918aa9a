"""The semi-annual / annual lending report: one workbook, one sheet per section, the Summary
first. Figures from ``services.lending_report``; words from the caller's translator."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import IO, Any

from loanfund.domain.applications import PriorityCategory, priority_label
from loanfund.domain.cooperatives import LegalType, legal_type_label
from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.inspections import kind_label
from loanfund.domain.reporting import LendingReport
from loanfund.exports.ledger import Column, LedgerBook


def _portfolio_columns(first: Column) -> list[Column]:
    """A portfolio section's columns after its first one (what the lines are by)."""
    return [
        first,
        Column("loans", _("Loans"), "int", 9, total=True),
        Column("outstanding", _("Principal outstanding"), "money", 18, total=True),
        Column("share_pct", _("Share of principal outstanding, percent"), "pct", 12),
        Column("specific_provision", _("Specific provision"), "money", 16, total=True),
        Column("general_provision", _("General provision"), "money", 16, total=True),
    ]


def _summary_lines(report: LendingReport) -> list[dict[str, Any]]:
    figures = report.summary

    def amount(item: str, key: str) -> dict[str, Any]:
        return {"item": item, "amount": figures[key]}

    def number(item: str, key: str, pct_key: str | None = None) -> dict[str, Any]:
        return {"item": item, "number": figures[key], "pct": figures[pct_key] if pct_key else None}

    def pct(item: str, key: str) -> dict[str, Any]:
        return {"item": item, "pct": figures[key]}

    return [
        number(_("Loans with principal outstanding"), "loans"),
        amount(_("Principal outstanding"), "outstanding"),
        amount(_("Bad debt (debt groups 3 to 5)"), "bad_debt"),
        pct(_("Bad-debt ratio, percent of principal outstanding"), "bad_debt_pct"),
        pct(_("Portfolio at risk over 30 days, percent"), "par30_pct"),
        pct(_("Portfolio at risk over 90 days, percent"), "par90_pct"),
        amount(_("Specific provisions"), "specific_provision"),
        amount(_("General provisions"), "general_provision"),
        amount(_("Provisions in all"), "provisions"),
        amount(_("Disbursed in the period"), "disbursed"),
        amount(_("Principal collected, prepayments included"), "principal"),
        amount(_("Interest collected"), "interest"),
        amount(_("Penalty interest collected"), "penalty"),
        amount(_("Collected in all"), "collected"),
        number(_("Inspections made"), "inspections"),
        number(_("Inspections made on time (percent of those made)"), "on_time", "on_time_pct"),
        number(_("Verdict: compliant"), "compliant"),
        number(_("Verdict: concerns"), "concerns"),
        number(_("Verdict: misuse of the loan"), "misuse"),
        number(
            _("Loan found used fully for its stated purpose (percent of visits)"),
            "verified_purpose",
            "verified_purpose_pct",
        ),
        number(_("Cooperatives financed"), "cooperatives"),
        number(_("Members of the cooperatives financed"), "members"),
        number(_("of whom women"), "women_members"),
        number(_("of whom from ethnic minorities"), "ethnic_minority_members"),
        number(_("Jobs created by the projects financed"), "jobs_created"),
    ]


def _words(
    lines: Iterable[Mapping[str, Any]], key: str, words: Callable[[Any], str]
) -> Iterable[Mapping[str, Any]]:
    return ({**line, key: words(line[key])} for line in lines)


def write_lending_report(
    target: str | IO[bytes],
    report: LendingReport,
    *,
    fund_name: str,
    digits: int,
    step: Callable[[], None] | None = None,
) -> dict[str, dict[str, Decimal]]:
    """Write the report; returns each section's totals (by sheet key, then column key).

    ``step`` (if given) is called once each sheet is written: eight times, the Summary first.
    """
    book = LedgerBook(target, digits=digits)
    period = report.period
    title = _("Lending report, %(period)s — %(fund)s", period=period.label, fund=fund_name)
    subtitle = _(
        "Period from %(start)s to %(end)s. As of %(date)s.",
        start=fmt_date(period.start),
        end=fmt_date(period.end),
        date=fmt_date(report.as_of),
    )

    def sheet(name: str, columns: list[Column], rows: Iterable[Mapping[str, Any]], total: str):
        totals = book.sheet(
            name, title=title, subtitle=subtitle, columns=columns, rows=rows, totals_label=total
        )
        if step is not None:
            step()
        return totals

    totals: dict[str, dict[str, Decimal]] = {}
    sheet(
        _("Summary"),
        [
            Column("item", _("Item"), width=60),
            Column("amount", _("Amount"), "money", 20),
            Column("number", _("Number"), "int", 12),
            Column("pct", _("Percent"), "pct", 10),
        ],
        _summary_lines(report),
        "",
    )
    totals["by_group"] = sheet(
        _("By debt group"),
        _portfolio_columns(Column("key", _("Debt group"), "int", 10)),
        report.by_group,
        _("Total"),
    )
    totals["by_sector"] = sheet(
        _("By sector"),
        _portfolio_columns(Column("key", _("Sector"), width=44)),
        report.by_sector,
        _("Total"),
    )
    totals["by_legal_type"] = sheet(
        _("By borrower type"),
        _portfolio_columns(Column("key", _("Borrower type"), width=30)),
        _words(report.by_legal_type, "key", lambda code: legal_type_label(LegalType(code))),
        _("Total"),
    )
    totals["by_priority"] = sheet(
        _("By priority category"),
        _portfolio_columns(Column("key", _("Priority category"), width=36)),
        _words(report.by_priority, "key", lambda code: priority_label(PriorityCategory(code))),
        _("Total"),
    )
    totals["flows"] = sheet(
        _("Disbursed and collected"),
        [
            Column("month", _("Month"), width=10),
            Column("date_from", _("From"), "date", 12),
            Column("date_to", _("To"), "date", 12),
            Column("disbursed", _("Disbursed"), "money", 18, total=True),
            Column("principal", _("Principal collected"), "money", 18, total=True),
            Column("interest", _("Interest collected"), "money", 16, total=True),
            Column("penalty", _("Penalty interest collected"), "money", 16, total=True),
            Column("collected", _("Collected in all"), "money", 18, total=True),
        ],
        report.flows,
        _("Total"),
    )
    totals["inspections"] = sheet(
        _("Inspections"),
        [
            Column("kind", _("Kind"), width=36),
            Column("done", _("Visits made"), "int", 9, total=True),
            Column("on_time", _("Made on time"), "int", 9, total=True),
            Column("on_time_pct", _("Made on time, percent"), "pct", 10),
            Column("compliant", _("Compliant"), "int", 10, total=True),
            Column("concerns", _("Concerns"), "int", 10, total=True),
            Column("misuse", _("Misuse of the loan"), "int", 10, total=True),
            Column(
                "verified_purpose", _("Used fully for the stated purpose"), "int", 12, total=True
            ),
            Column(
                "verified_purpose_pct", _("Used fully for the stated purpose, percent"), "pct", 12
            ),
            Column(
                "amount_verified",
                _("Amount verified as used for the purpose"),
                "money",
                18,
                total=True,
            ),
        ],
        _words(report.inspections, "kind", kind_label),
        _("Total"),
    )
    totals["cooperatives"] = sheet(
        _("Cooperatives financed"),
        [
            Column("name", _("Borrower"), width=40),
            Column("legal_type", _("Borrower type"), width=24),
            Column("sector", _("Sector"), width=36),
            Column("district", _("District"), width=16),
            Column("loans", _("Loans"), "int", 8, total=True),
            Column("outstanding", _("Principal outstanding"), "money", 18, total=True),
            Column("specific_provision", _("Specific provision"), "money", 16, total=True),
            Column("members", _("Members"), "int", 10, total=True),
            Column("women_members", _("Women members"), "int", 10, total=True),
            Column("ethnic_minority_members", _("Ethnic-minority members"), "int", 10, total=True),
            Column("jobs_created", _("Jobs created"), "int", 10, total=True),
        ],
        _words(report.cooperatives, "legal_type", lambda code: legal_type_label(LegalType(code))),
        _("Total"),
    )
    book.close()
    return totals
