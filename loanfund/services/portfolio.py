"""The portfolio ledger's rows: one per loan, as of any business date.

Each loan is replayed as of the date (its receipts and schedule changes dated on or before
it), so the ledger of a past date is what the books said then: principal disbursed, repaid
and outstanding, interest fallen due and paid, interest earned and not paid (on the books for
group 1, off them for the others), days past due, the debt group (its own, the restructuring
floor, the borrower's worst) and the specific provision — the daily close's rules, so a
ledger as of a closed day matches that close to the đồng.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from loanfund.domain.classification import (
    borrower_groups,
    days_past_due,
    interest_earned,
    interest_paid,
    loan_group,
    specific_provision,
)
from loanfund.domain.ledger import Account, EntryKind
from loanfund.domain.loans import LoanStatus
from loanfund.domain.repayments import Component, payoff
from loanfund.models import Inspection, JournalEntry, Loan, Restructuring, ScheduleVersion
from loanfund.models.types import money_digits
from loanfund.services.applications import fund_policy
from loanfund.services.daily_close import thresholds
from loanfund.services.loan_state import posted_receipts_of, replay


def portfolio_rows(session: Session, *, as_of: dt.date) -> Iterator[dict[str, Any]]:
    """The ledger's rows, loan by loan (contract order), for loans paid out by ``as_of``."""
    policy = fund_policy(session)
    limits = thresholds(policy)
    rates = {
        1: policy.provision_group1_pct,
        2: policy.provision_group2_pct,
        3: policy.provision_group3_pct,
        4: policy.provision_group4_pct,
        5: policy.provision_group5_pct,
    }
    digits = money_digits()
    loans = list(
        session.scalars(
            select(Loan)
            .join(
                ScheduleVersion,
                (ScheduleVersion.loan_id == Loan.id) & (ScheduleVersion.version == 1),
            )
            .where(ScheduleVersion.effective_from <= as_of)
            .options(selectinload(Loan.schedules), selectinload(Loan.tranches))
            .order_by(Loan.contract_no)
        )
    )
    receipts = posted_receipts_of(session, [loan.id for loan in loans])
    # Restructurings approved by the day, and each loan's last visit by then: one query each
    # for the whole book, not one per loan.
    restructure_counts: dict[int, int] = dict(
        session.execute(
            select(Restructuring.loan_id, func.count(Restructuring.id))
            .where(Restructuring.status == "approved", Restructuring.decided_on <= as_of)
            .group_by(Restructuring.loan_id)
        ).all()
    )
    last_visits: dict[int, tuple[dt.date, str]] = {}
    for loan_id, visited_on, verdict in session.execute(
        select(Inspection.loan_id, Inspection.visited_on, Inspection.verdict)
        .where(Inspection.status == "done", Inspection.visited_on <= as_of)
        .order_by(Inspection.loan_id, Inspection.visited_on, Inspection.id)
    ):
        last_visits[loan_id] = (visited_on, verdict)
    rows: list[dict[str, Any]] = []
    own: dict[int, tuple[int, int]] = {}
    for loan in loans:
        states, terms = replay(session, loan, as_of=as_of, receipts=receipts[loan.id])
        disbursed = sum(
            (t.amount for t in loan.tranches if t.status == "paid" and t.value_date <= as_of),
            Decimal(0),
        )
        outstanding = sum((max(s.principal_left, Decimal(0)) for s in states), Decimal(0))
        restructured = restructure_counts.get(loan.id, 0)
        dpd = days_past_due(states, as_of)
        group = loan_group(dpd, restructured, limits)
        counted = loan.status in (LoanStatus.ACTIVE, LoanStatus.RECALLED) or (
            loan.status is LoanStatus.CLOSED
            and loan.closed_on is not None
            and loan.closed_on >= as_of
        )
        if counted:  # as the daily close counts a loan on that day
            own[loan.id] = (loan.cooperative_id, group)
        earned = interest_earned(states, terms, as_of)
        paid_interest = interest_paid(states)
        fallen_due = sum((s.interest for s in states if s.due.due_on <= as_of), Decimal(0))
        last_visit = last_visits.get(loan.id)
        cooperative, application = loan.cooperative, loan.application
        collateral = application.collateral
        rows.append(
            {
                "loan_id": loan.id,
                "contract_no": loan.contract_no,
                "signed_on": loan.signed_on,
                "borrower": cooperative.name,
                "legal_type": cooperative.legal_type.value,
                "tax_code": cooperative.tax_code,
                "district": cooperative.district,
                "priority": application.priority.value,
                "purpose": application.purpose.value,
                "product": loan.product.code,
                "approved": loan.amount,
                "disbursed": disbursed,
                "rate_pct": loan.annual_rate_pct,
                "overdue_rate_pct": loan.annual_rate_pct * loan.overdue_rate_pct_of_rate / 100,
                "term_months": loan.term_months,
                "maturity": states[-1].due.due_on if states else None,
                "principal_repaid": disbursed - outstanding,
                "outstanding": outstanding,
                "interest_due": fallen_due,
                "interest_paid": paid_interest,
                "accrued": max(earned - paid_interest, Decimal(0)),
                "penalty": payoff(states, terms, as_of).by_component[Component.PENALTY],
                "days_past_due": dpd,
                "restructure_count": restructured,
                "collateral_kind": collateral[0].kind if collateral else "",
                "collateral_value": sum((c.estimated_value for c in collateral), Decimal(0)),
                "last_inspection": last_visit[0] if last_visit else None,
                "last_verdict": last_visit[1] if last_visit else "",
                "status": loan.status.value,
            }
        )
    final = borrower_groups(own)
    for row in rows:
        group = final.get(row["loan_id"], 1)
        row["debt_group"] = group
        row["accrued_on_books"] = row["accrued"] if group == 1 else Decimal(0)
        row["accrued_off_books"] = row["accrued"] if group > 1 else Decimal(0)
        row["specific_provision"] = specific_provision(row["outstanding"], group, rates, digits)
        yield row


def loan_ledger(session: Session, loan: Loan, *, as_of: dt.date) -> dict[str, Any]:
    """A loan's ledger: its terms, its schedule with what was paid and is left on each
    installment (as of ``as_of``), and its transactions with the running principal balance."""
    states, terms = replay(session, loan, as_of=as_of)
    schedule = []
    for state in states:
        left_principal = max(state.principal_left, Decimal(0))
        left_interest = max(state.interest_left, Decimal(0))
        schedule.append(
            {
                "n": state.due.n,
                "due_on": state.due.due_on,
                "principal": state.due.principal,
                "interest": state.interest,
                "paid_principal": state.principal_paid,
                "paid_interest": state.interest_paid,
                "left": left_principal + left_interest,
            }
        )
    transactions = []
    balance = Decimal(0)
    for entry in session.scalars(
        select(JournalEntry)
        .where(JournalEntry.loan_id == loan.id, JournalEntry.value_date <= as_of)
        .order_by(JournalEntry.value_date, JournalEntry.id)
    ):
        lines = {line.account: (line.debit, line.credit) for line in entry.lines}
        cash_in = lines.get(Account.CASH, (Decimal(0), Decimal(0)))
        principal = lines.get(Account.LOANS_RECEIVABLE, (Decimal(0), Decimal(0)))
        interest = lines.get(Account.INTEREST_INCOME, (Decimal(0), Decimal(0)))
        penalty = lines.get(Account.PENALTY_INCOME, (Decimal(0), Decimal(0)))
        balance += principal[0] - principal[1]
        transactions.append(
            {
                "value_date": entry.value_date,
                "entry": entry.id,
                "kind": entry.kind.value,
                "description": entry.description,
                "disbursed": principal[0],
                # Money in from the borrower (a reversed receipt shows as money back out).
                "received": Decimal(0)
                if entry.kind == EntryKind.DISBURSEMENT
                else cash_in[0] - cash_in[1],
                "principal": principal[1],
                "interest": interest[1] - interest[0],
                "penalty": penalty[1] - penalty[0],
                "balance": balance,
            }
        )
    application = loan.application
    return {
        "terms": [
            ("contract_no", loan.contract_no),
            ("borrower", loan.cooperative.name),
            ("tax_code", loan.cooperative.tax_code),
            ("product", loan.product.name),
            ("purpose", application.purpose_description),
            ("approved", loan.amount),
            ("rate_pct", str(loan.annual_rate_pct)),
            ("overdue_rate_pct", str(loan.annual_rate_pct * loan.overdue_rate_pct_of_rate / 100)),
            ("term_months", loan.term_months),
            ("signed_on", loan.signed_on),
            ("maturity", states[-1].due.due_on if states else None),
            ("restructure_count", loan.restructure_count),
            ("status", loan.status.value),
        ],
        "schedule": schedule,
        "transactions": transactions,
        "terms_digits": terms.digits,
    }
