"""The portfolio ledger as of a date: one row per loan and a totals row (issue: Excel
ledgers). Rows come from ``services.portfolio``; words from the caller's translator."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import IO, Any

from loanfund.domain.i18n import _, fmt_date
from loanfund.exports.ledger import Column, LedgerBook
from loanfund.exports.progress import Progress, RowCounter


def columns() -> list[Column]:
    """The ledger's columns, with their headings in the reader's language."""
    return [
        Column("contract_no", _("Loan no."), width=14),
        Column("signed_on", _("Contract date"), "date", 12),
        Column("borrower", _("Borrower"), width=36),
        Column("legal_type", _("Legal type"), width=14),
        Column("tax_code", _("Tax code"), width=14),
        Column("district", _("District"), width=16),
        Column("priority", _("Priority category"), width=18),
        Column("purpose", _("Purpose"), width=18),
        Column("product", _("Product"), width=10),
        Column("approved", _("Approved"), "money", 16, total=True),
        Column("disbursed", _("Disbursed"), "money", 16, total=True),
        Column("rate_pct", _("Rate, percent a year"), "pct", 9),
        Column("overdue_rate_pct", _("Overdue rate, percent a year"), "pct", 9),
        Column("term_months", _("Term (months)"), "int", 8),
        Column("maturity", _("Maturity"), "date", 12),
        Column("principal_repaid", _("Principal repaid"), "money", 16, total=True),
        Column("outstanding", _("Principal outstanding"), "money", 16, total=True),
        Column("interest_due", _("Interest fallen due"), "money", 14, total=True),
        Column("interest_paid", _("Interest paid"), "money", 14, total=True),
        Column("accrued_on_books", _("Accrued interest on the books"), "money", 14, total=True),
        Column("accrued_off_books", _("Accrued interest off the books"), "money", 14, total=True),
        Column("penalty", _("Penalty interest owed"), "money", 14, total=True),
        Column("days_past_due", _("Days past due"), "int", 8),
        Column("debt_group", _("Debt group"), "int", 7),
        Column("specific_provision", _("Specific provision"), "money", 14, total=True),
        Column("restructure_count", _("Restructurings"), "int", 8),
        Column("collateral_kind", _("Collateral"), width=16),
        Column("collateral_value", _("Collateral value"), "money", 16, total=True),
        Column("last_inspection", _("Last inspection"), "date", 12),
        Column("last_verdict", _("Verdict"), width=14),
        Column("status", _("Status"), width=12),
    ]


def ledger_words() -> dict[str, Callable[[str], str]]:
    """Codes in the ledger turned into the reader's words (each code looked up once: a
    ledger of 100,000 rows would otherwise translate half a million labels)."""
    from loanfund.domain.applications import (
        CollateralKind,
        PriorityCategory,
        collateral_kind_label,
        priority_label,
    )
    from loanfund.domain.cooperatives import LegalType, legal_type_label
    from loanfund.domain.inspections import verdict_label
    from loanfund.domain.loans import LoanStatus, loan_status_label
    from loanfund.domain.products import PurposeCategory, purpose_label

    words: dict[str, Callable[[str], str]] = {
        "legal_type": lambda code: legal_type_label(LegalType(code)),
        "priority": lambda code: priority_label(PriorityCategory(code)),
        "purpose": lambda code: purpose_label(PurposeCategory(code)),
        "collateral_kind": lambda code: collateral_kind_label(CollateralKind(code)),
        "last_verdict": verdict_label,
        "status": lambda code: loan_status_label(LoanStatus(code)),
    }
    return {key: functools.cache(lookup) for key, lookup in words.items()}


def write_portfolio_ledger(
    target: str | IO[bytes],
    rows: Iterable[Mapping[str, Any]],
    *,
    fund_name: str,
    as_of: dt.date,
    digits: int,
    describe: Mapping[str, Callable[[str], str]] | None = None,
    progress: Progress | None = None,
) -> dict[str, Decimal]:
    """Write the ledger; returns its totals. ``describe`` turns codes (legal type, purpose,
    collateral kind, verdict, status) into words for the reader (default:
    :func:`ledger_words`); ``progress`` hears the number of rows written every few hundred rows
    and at the end."""
    describe = ledger_words() if describe is None else describe

    def readable(row: Mapping[str, Any]) -> Mapping[str, Any]:
        shown = dict(row)
        for key, words in describe.items():
            if shown.get(key):
                shown[key] = words(str(shown[key]))
        return shown

    counter = RowCounter(progress)
    book = LedgerBook(target, digits=digits)
    totals = book.sheet(
        _("Portfolio"),
        title=_("Portfolio ledger — %(fund)s", fund=fund_name),
        subtitle=_("As of %(date)s", date=fmt_date(as_of)),
        columns=columns(),
        rows=counter.rows(readable(row) for row in rows),
        totals_label=_("Total"),
    )
    counter.finish()
    book.close()
    return totals
