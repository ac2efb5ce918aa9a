"""Registers for a period: disbursements, repayments by component, and the journal with its
trial balance. Rows from ``queries.registers`` and ``queries.ledger``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import IO, Any

from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.inspections import funds_use_label, kind_label, verdict_label
from loanfund.domain.ledger import (
    Account,
    EntryKind,
    TrialBalanceRow,
    account_label,
    entry_kind_label,
)
from loanfund.exports.ledger import Column, LedgerBook
from loanfund.exports.progress import Progress, RowCounter


def _period(date_from: dt.date, date_to: dt.date) -> str:
    return _("From %(start)s to %(end)s", start=fmt_date(date_from), end=fmt_date(date_to))


def write_disbursement_register(
    target: str | IO[bytes],
    rows: Iterable[Mapping[str, Any]],
    *,
    fund_name: str,
    date_from: dt.date,
    date_to: dt.date,
    digits: int,
    progress: Progress | None = None,
) -> dict[str, Decimal]:
    """Tranches paid in the period; ``progress`` hears the rows written (see
    :mod:`loanfund.exports.progress`)."""
    counter = RowCounter(progress)
    book = LedgerBook(target, digits=digits)
    totals = book.sheet(
        _("Disbursements"),
        title=_("Disbursement register — %(fund)s", fund=fund_name),
        subtitle=_period(date_from, date_to),
        columns=[
            Column("value_date", _("Value date"), "date", 12),
            Column("contract_no", _("Loan no."), width=14),
            Column("borrower", _("Borrower"), width=36),
            Column("payee", _("Payee"), width=30),
            Column("account", _("Bank account"), width=24),
            Column("reference", _("Reference"), width=16),
            Column("entry", _("Entry"), "int", 8),
            Column("amount", _("Amount"), "money", 16, total=True),
        ],
        rows=counter.rows(rows),
        totals_label=_("Total"),
    )
    counter.finish()
    book.close()
    return totals


def write_repayment_register(
    target: str | IO[bytes],
    rows: Iterable[Mapping[str, Any]],
    *,
    fund_name: str,
    date_from: dt.date,
    date_to: dt.date,
    digits: int,
    channel_words: Callable[[str], str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Decimal]:
    """Receipts of the period by component; ``progress`` hears the rows written."""
    counter = RowCounter(progress)
    book = LedgerBook(target, digits=digits)

    def shown(row: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**row, "channel": channel_words(row["channel"])} if channel_words else row

    totals = book.sheet(
        _("Repayments"),
        title=_("Repayment register — %(fund)s", fund=fund_name),
        subtitle=_period(date_from, date_to),
        columns=[
            Column("received_on", _("Received on"), "date", 12),
            Column("contract_no", _("Loan no."), width=14),
            Column("borrower", _("Borrower"), width=36),
            Column("channel", _("Received by"), width=14),
            Column("reference", _("Reference"), width=16),
            Column("entry", _("Entry"), "int", 8),
            Column("amount", _("Amount received"), "money", 16, total=True),
            Column("principal", _("Principal"), "money", 16, total=True),
            Column("prepayment", _("Prepaid principal"), "money", 16, total=True),
            Column("interest", _("Interest"), "money", 14, total=True),
            Column("penalty", _("Penalty interest"), "money", 14, total=True),
        ],
        rows=counter.rows(shown(row) for row in rows),
        totals_label=_("Total"),
    )
    counter.finish()
    book.close()
    return totals


def write_journal(
    target: str | IO[bytes],
    rows: Iterable[Mapping[str, Any]],
    trial: Iterable[TrialBalanceRow],
    *,
    fund_name: str,
    date_from: dt.date,
    date_to: dt.date,
    digits: int,
    account_code: Callable[[str], str],
    progress: Progress | None = None,
) -> dict[str, Decimal]:
    """The journal line by line, then the trial balance, for the period; ``progress`` hears
    the rows written on both sheets together."""
    counter = RowCounter(progress)
    book = LedgerBook(target, digits=digits)
    subtitle = _period(date_from, date_to)
    totals = book.sheet(
        _("Journal"),
        title=_("Fund journal — %(fund)s", fund=fund_name),
        subtitle=subtitle,
        columns=[
            Column("value_date", _("Value date"), "date", 12),
            Column("entry", _("Entry"), "int", 8),
            Column("kind", _("Kind"), width=18),
            Column("description", _("Description"), width=44),
            Column("reference", _("Reference"), width=16),
            Column("code", _("Account number"), width=10),
            Column("account_name", _("Account"), width=30),
            Column("debit", _("Debit"), "money", 16, total=True),
            Column("credit", _("Credit"), "money", 16, total=True),
        ],
        rows=counter.rows(
            {
                **row,
                "kind": entry_kind_label(EntryKind(row["kind"])),
                "code": account_code(row["account"]),
                "account_name": account_label(Account(row["account"])),
                "debit": row["debit"] or None,
                "credit": row["credit"] or None,
            }
            for row in rows
        ),
        totals_label=_("Total"),
    )
    book.sheet(
        _("Trial balance"),
        title=_("Trial balance — %(fund)s", fund=fund_name),
        subtitle=subtitle,
        columns=[
            Column("code", _("Account number"), width=10),
            Column("account_name", _("Account"), width=30),
            Column("opening", _("Opening balance"), "money", 18),
            Column("debits", _("Debit"), "money", 18, total=True),
            Column("credits", _("Credit"), "money", 18, total=True),
            Column("closing", _("Closing balance"), "money", 18),
        ],
        rows=counter.rows(
            {
                "code": account_code(row.account.value),
                "account_name": account_label(row.account),
                "opening": row.opening,
                "debits": row.debits,
                "credits": row.credits,
                "closing": row.closing,
            }
            for row in trial
        ),
        totals_label=_("Total"),
    )
    counter.finish()
    book.close()
    return totals


def write_inspection_register(
    target: str | IO[bytes],
    rows: Iterable[Mapping[str, Any]],
    *,
    fund_name: str,
    date_from: dt.date,
    date_to: dt.date,
    digits: int,
    progress: Progress | None = None,
) -> dict[str, Decimal]:
    """Visits made in the period; ``progress`` hears the rows written."""
    counter = RowCounter(progress)

    def shown(row: Mapping[str, Any]) -> Mapping[str, Any]:
        return {
            **row,
            "kind": kind_label(row["kind"]),
            "funds_use": funds_use_label(row["funds_use"]) if row["funds_use"] else "",
            "verdict": verdict_label(row["verdict"]) if row["verdict"] else "",
        }

    book = LedgerBook(target, digits=digits)
    totals = book.sheet(
        _("Inspections"),
        title=_("Inspection register — %(fund)s", fund=fund_name),
        subtitle=_period(date_from, date_to),
        columns=[
            Column("visited_on", _("Visit date"), "date", 12),
            Column("due_on", _("Due date"), "date", 12),
            Column("contract_no", _("Loan no."), width=14),
            Column("borrower", _("Borrower"), width=36),
            Column("inspector", _("Inspector"), width=22),
            Column("kind", _("Kind"), width=24),
            Column("funds_use", _("The loan was used"), width=26),
            Column(
                "amount_verified",
                _("Amount verified as used for the purpose"),
                "money",
                18,
                total=True,
            ),
            Column("verdict", _("Verdict"), width=18),
            Column("follow_ups", _("Follow-up actions"), width=50),
        ],
        rows=counter.rows(shown(row) for row in rows),
        totals_label=_("Total"),
    )
    counter.finish()
    book.close()
    return totals
