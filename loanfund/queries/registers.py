"""Rows of the registers for a period: disbursements, repayments by component, and the
journal line by line (the exports write them; every figure comes from the books' tables)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanfund.domain.loans import TrancheStatus
from loanfund.models import (
    Cooperative,
    FollowUp,
    Inspection,
    JournalEntry,
    JournalLine,
    Loan,
    Repayment,
    Tranche,
    User,
)


def disbursement_rows(
    session: Session, *, date_from: dt.date, date_to: dt.date
) -> Iterator[dict[str, Any]]:
    """Tranches paid with a value date in the period, in date order."""
    query = (
        select(Tranche, Loan.contract_no, Cooperative.name)
        .join(Loan, Loan.id == Tranche.loan_id)
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .where(
            Tranche.status == TrancheStatus.PAID,
            Tranche.value_date >= date_from,
            Tranche.value_date <= date_to,
        )
        .order_by(Tranche.value_date, Tranche.id)
    )
    for tranche, contract_no, borrower in session.execute(query):
        yield {
            "value_date": tranche.value_date,
            "contract_no": contract_no,
            "borrower": borrower,
            "payee": tranche.payee,
            "account": tranche.account,
            "reference": tranche.reference,
            "entry": tranche.journal_entry_id,
            "amount": tranche.amount,
        }


def repayment_rows(
    session: Session, *, date_from: dt.date, date_to: dt.date
) -> Iterator[dict[str, Any]]:
    """Receipts dated in the period that stand (reversed ones are left out), each split into
    principal, interest and penalty as allocated."""
    query = (
        select(Repayment, Loan.contract_no, Cooperative.name)
        .join(Loan, Loan.id == Repayment.loan_id)
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .where(
            Repayment.status == "posted",
            Repayment.received_on >= date_from,
            Repayment.received_on <= date_to,
        )
        .order_by(Repayment.received_on, Repayment.id)
    )
    for receipt, contract_no, borrower in session.execute(query):
        parts = {key: Decimal(value) for key, value in receipt.allocation["by_component"].items()}
        yield {
            "received_on": receipt.received_on,
            "contract_no": contract_no,
            "borrower": borrower,
            "channel": receipt.channel,
            "reference": receipt.reference,
            "entry": receipt.journal_entry_id,
            "amount": receipt.amount,
            "principal": parts.get("overdue_principal", Decimal(0))
            + parts.get("current_principal", Decimal(0)),
            "prepayment": parts.get("prepayment", Decimal(0)),
            "interest": parts.get("overdue_interest", Decimal(0))
            + parts.get("current_interest", Decimal(0)),
            "penalty": parts.get("penalty", Decimal(0)),
        }


def journal_rows(
    session: Session, *, date_from: dt.date, date_to: dt.date
) -> Iterator[dict[str, Any]]:
    """Every journal line valued in the period, entry by entry."""
    query = (
        select(JournalEntry, JournalLine)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(JournalEntry.value_date >= date_from, JournalEntry.value_date <= date_to)
        .order_by(JournalEntry.value_date, JournalEntry.id, JournalLine.id)
    )
    for entry, line in session.execute(query):
        yield {
            "value_date": entry.value_date,
            "entry": entry.id,
            "kind": entry.kind.value,
            "description": entry.description,
            "reference": entry.reference,
            "account": line.account.value,
            "debit": line.debit,
            "credit": line.credit,
        }


def inspection_rows(
    session: Session, *, date_from: dt.date, date_to: dt.date
) -> Iterator[dict[str, Any]]:
    """Visits made in the period (by visit date), with their follow-ups."""
    query = (
        select(Inspection, Loan.contract_no, Cooperative.name, User.full_name)
        .join(Loan, Loan.id == Inspection.loan_id)
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .outerjoin(User, User.id == Inspection.inspector_id)
        .where(
            Inspection.status == "done",
            Inspection.visited_on >= date_from,
            Inspection.visited_on <= date_to,
        )
        .order_by(Inspection.visited_on, Inspection.id)
    )
    for inspection, contract_no, borrower, inspector in session.execute(query):
        follow_ups = session.scalars(
            select(FollowUp).where(FollowUp.inspection_id == inspection.id).order_by(FollowUp.id)
        ).all()
        yield {
            "visited_on": inspection.visited_on,
            "due_on": inspection.due_on,
            "contract_no": contract_no,
            "borrower": borrower,
            "inspector": inspector or "",
            "kind": inspection.kind,
            "funds_use": inspection.funds_use,
            "amount_verified": inspection.amount_verified,
            "verdict": inspection.verdict,
            "follow_ups": "; ".join(
                f"{f.action} ({f.owner}, {f.due_on.isoformat()}"
                + (f", done {f.done_on.isoformat()})" if f.done_on else ")")
                for f in follow_ups
            ),
        }
