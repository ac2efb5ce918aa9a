"""The list pages as workbooks: every row the filter shows (not just one page), in the page's
order and with the page's columns, the list's name and its filter on top, a totals row for
the money. Rows come from ``queries.lists``; codes are turned into the reader's words here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import IO, Any

from loanfund.domain.applications import ApplicationStatus, status_label
from loanfund.domain.cooperatives import LegalType, legal_type_label
from loanfund.domain.exports import ExportList
from loanfund.domain.i18n import _
from loanfund.domain.inspections import kind_label, verdict_label
from loanfund.domain.loans import LoanStatus, loan_status_label
from loanfund.exports.ledger import Column, LedgerBook
from loanfund.exports.progress import Progress, RowCounter


def cooperative_status_label(status: str) -> str:
    return {
        "pending": _("awaiting verification"),
        "verified": _("verified"),
        "rejected": _("changes requested"),
        "suspended": _("suspended"),
    }.get(status, status)


def receipt_status_label(status: str) -> str:
    return {"posted": _("posted"), "reversed": _("reversed")}.get(status, status)


def channel_label(channel: str) -> str:
    return {"bank": _("bank transfer"), "cash": _("cash")}.get(channel, channel)


@dataclass(frozen=True, slots=True)
class ListSheet:
    """One list's sheet: its name, its columns, and how a row's codes become words."""

    name: str
    title: str
    columns: list[Column]
    words: Callable[[Mapping[str, Any]], Mapping[str, Any]]


def cooperatives_sheet() -> ListSheet:
    return ListSheet(
        _("Cooperatives"),
        _("Cooperatives"),
        [
            Column("name", _("Name"), width=36),
            Column("legal_type", _("Legal type"), width=18),
            Column("tax_code", _("Tax code"), width=14),
            Column("province", _("Province"), width=18),
            Column("district", _("District"), width=18),
            Column("sector", _("Sector"), width=24),
            Column("members", _("Members"), "int", 9, total=True),
            Column("status", _("Status"), width=20),
        ],
        lambda row: {
            **row,
            "legal_type": legal_type_label(LegalType(row["legal_type"])),
            "status": cooperative_status_label(row["status"]),
        },
    )


def applications_sheet(queue_title: str) -> ListSheet:
    return ListSheet(
        _("Applications"),
        _("Loan applications: %(queue)s", queue=queue_title),
        [
            Column("number", _("Number"), width=14),
            Column("submitted_on", _("Submitted"), "date", 12),
            Column("cooperative", _("Cooperative"), width=36),
            Column("product", _("Product"), width=22),
            Column("amount", _("Amount"), "money", 16, total=True),
            Column("status", _("Status"), width=24),
            Column("officer", _("Officer"), width=22),
            Column("due_on", _("Decision due"), "date", 12),
            Column("late", _("Late"), width=8),
        ],
        lambda row: {
            **row,
            "status": status_label(ApplicationStatus(row["status"])),
            "late": _("late") if row["overdue"] else "",
        },
    )


def loans_sheet() -> ListSheet:
    return ListSheet(
        _("Loans"),
        _("Loans"),
        [
            Column("contract_no", _("Loan no."), width=14),
            Column("signed_on", _("Contract date"), "date", 12),
            Column("borrower", _("Borrower"), width=36),
            Column("status", _("Status"), width=18),
            Column("debt_group", _("Debt group"), "int", 7),
            Column("approved", _("Approved"), "money", 16, total=True),
            Column("disbursed", _("Disbursed"), "money", 16, total=True),
            Column("outstanding", _("Principal outstanding"), "money", 16, total=True),
        ],
        lambda row: {**row, "status": loan_status_label(LoanStatus(row["status"]))},
    )


def repayments_sheet() -> ListSheet:
    return ListSheet(
        _("Receipts"),
        _("Receipts"),
        [
            Column("received_on", _("Value date"), "date", 12),
            Column("number", _("Receipt no."), "int", 9),
            Column("contract_no", _("Loan no."), width=14),
            Column("borrower", _("Borrower"), width=36),
            Column("channel", _("Received by"), width=14),
            Column("reference", _("Reference"), width=16),
            Column("amount", _("Amount received"), "money", 16, total=True),
            Column("principal", _("Principal"), "money", 16, total=True),
            Column("interest", _("Interest"), "money", 14, total=True),
            Column("penalty", _("Penalty interest"), "money", 14, total=True),
            Column("status", _("Status"), width=12),
        ],
        lambda row: {
            **row,
            "channel": channel_label(row["channel"]),
            "status": receipt_status_label(row["status"]),
        },
    )


def inspections_sheet(tab_title: str) -> ListSheet:
    return ListSheet(
        _("Inspections"),
        _("Inspections: %(tab)s", tab=tab_title),
        [
            Column("due_on", _("Due date"), "date", 12),
            Column("visited_on", _("Visit date"), "date", 12),
            Column("contract_no", _("Loan no."), width=14),
            Column("borrower", _("Borrower"), width=36),
            Column("address", _("Address"), width=30),
            Column("district", _("District"), width=16),
            Column("contact", _("Contact person"), width=20),
            Column("phone", _("Phone"), width=14),
            Column("kind", _("Kind"), width=24),
            Column("inspector", _("Inspector"), width=20),
            Column("verdict", _("Verdict"), width=16),
            Column("late", _("Overdue"), width=10),
        ],
        lambda row: {
            **row,
            "kind": kind_label(row["kind"]),
            "verdict": verdict_label(row["verdict"]) if row["verdict"] else "",
            "late": _("overdue") if row["overdue"] else "",
        },
    )


def list_sheet(name: ExportList, *, title: str) -> ListSheet:
    """The sheet of list ``name``, headed ``title`` (as its page made it: with the queue or
    the tab, in the reader's language) instead of the title the sheet makes itself."""
    sheet = {
        ExportList.COOPERATIVES: cooperatives_sheet,
        ExportList.APPLICATIONS: lambda: applications_sheet(""),
        ExportList.LOANS: loans_sheet,
        ExportList.RECEIPTS: repayments_sheet,
        ExportList.INSPECTIONS: lambda: inspections_sheet(""),
    }[ExportList(name)]()
    return replace(sheet, title=title)


def write_list(
    target: str | IO[bytes],
    sheet: ListSheet,
    rows: Iterable[Mapping[str, Any]],
    *,
    fund_name: str,
    description: str,
    digits: int,
    progress: Progress | None = None,
) -> dict[str, Decimal]:
    """Write the list's workbook: the title, then ``description`` (the day and the filter as
    the reader set it), then the rows; returns the totals by column key. ``progress`` hears
    the rows written (see :mod:`loanfund.exports.progress`)."""
    counter = RowCounter(progress)
    book = LedgerBook(target, digits=digits)
    totals = book.sheet(
        sheet.name,
        title=f"{sheet.title} — {fund_name}",
        subtitle=description,
        columns=sheet.columns,
        rows=counter.rows(sheet.words(row) for row in rows),
        totals_label=_("Total"),
    )
    book.close()
    counter.finish()
    return totals
