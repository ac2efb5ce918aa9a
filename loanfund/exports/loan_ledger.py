"""A loan's ledger: its terms, its schedule with what was paid and is left on each
installment, and its transactions with the running principal balance (three sheets)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import IO, Any

from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.ledger import EntryKind, entry_kind_label
from loanfund.exports.ledger import Column, LedgerBook


def _term_titles() -> dict[str, str]:
    return {
        "contract_no": _("Loan no."),
        "borrower": _("Borrower"),
        "tax_code": _("Tax code"),
        "product": _("Product"),
        "purpose": _("Purpose"),
        "approved": _("Approved"),
        "rate_pct": _("Rate, percent a year"),
        "overdue_rate_pct": _("Overdue rate, percent a year"),
        "term_months": _("Term (months)"),
        "signed_on": _("Contract date"),
        "maturity": _("Maturity"),
        "restructure_count": _("Restructurings"),
        "status": _("Status"),
    }


def write_loan_ledger(
    target: str | IO[bytes],
    ledger: Mapping[str, Any],
    *,
    fund_name: str,
    as_of: dt.date,
    digits: int,
    status_words: Any = None,
) -> None:
    book = LedgerBook(target, digits=digits)
    number = dict(ledger["terms"])["contract_no"]
    title = _("Loan ledger %(number)s — %(fund)s", number=number, fund=fund_name)
    subtitle = _("As of %(date)s", date=fmt_date(as_of))
    titles = _term_titles()
    terms = []
    for key, value in ledger["terms"]:
        if key == "status" and status_words:
            value = status_words(value)
        terms.append({"item": titles[key], "value": value})
    book.sheet(
        _("Terms"),
        title=title,
        subtitle=subtitle,
        columns=[Column("item", _("Item"), width=30), Column("value", _("Value"), "auto", 40)],
        rows=terms,
        totals_label="",
    )
    book.sheet(
        _("Schedule"),
        title=title,
        subtitle=subtitle,
        columns=[
            Column("n", _("No."), "int", 6),
            Column("due_on", _("Due date"), "date", 12),
            Column("principal", _("Principal"), "money", 16, total=True),
            Column("interest", _("Interest"), "money", 14, total=True),
            Column("paid_principal", _("Principal paid"), "money", 16, total=True),
            Column("paid_interest", _("Interest paid"), "money", 14, total=True),
            Column("left", _("Left to pay"), "money", 16, total=True),
        ],
        rows=ledger["schedule"],
        totals_label=_("Total"),
    )
    book.sheet(
        _("Transactions"),
        title=title,
        subtitle=subtitle,
        columns=[
            Column("value_date", _("Value date"), "date", 12),
            Column("entry", _("Entry"), "int", 8),
            Column("kind", _("Kind"), width=16),
            Column("description", _("Description"), width=40),
            Column("disbursed", _("Disbursed"), "money", 16, total=True),
            Column("received", _("Received"), "money", 16, total=True),
            Column("principal", _("Principal repaid"), "money", 16, total=True),
            Column("interest", _("Interest"), "money", 14, total=True),
            Column("penalty", _("Penalty interest"), "money", 14, total=True),
            Column("balance", _("Principal outstanding"), "money", 16),
        ],
        rows=(
            {**row, "kind": entry_kind_label(EntryKind(row["kind"]))}
            for row in ledger["transactions"]
        ),
        totals_label=_("Total"),
    )
    book.close()
