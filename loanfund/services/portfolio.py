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

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session, selectinload

from loanfund.domain.classification import (
    Thresholds,
    borrower_groups,
    loan_group,
    specific_provision,
)
from loanfund.domain.ledger import Account, EntryKind
from loanfund.domain.loans import LoanStatus, TrancheStatus
from loanfund.domain.money import from_minor_units, to_minor_units
from loanfund.models import (
    Collateral,
    Cooperative,
    Inspection,
    JournalEntry,
    Loan,
    LoanApplication,
    LoanProduct,
    Restructuring,
    ScheduleVersion,
    Tranche,
)
from loanfund.models.types import money_digits
from loanfund.services.applications import fund_policy
from loanfund.services.daily_close import thresholds
from loanfund.services.loan_state import Figures, figures_on, posted_receipts_of, replay

#: Loans read and replayed at a time: the rows' memory grows with the book only by the compact
#: record each row waits in (see :func:`portfolio_rows`), not by its loans, schedules and receipts.
CHUNK = 500

#: A waiting row's keys, in order (its borrower and product still ids, its group unknown).
_KEYS = (
    "loan_id",
    "contract_no",
    "signed_on",
    "cooperative_id",
    "product_id",
    "priority",
    "purpose",
    "approved",
    "disbursed",
    "rate_pct",
    "overdue_rate_pct",
    "term_months",
    "maturity",
    "principal_repaid",
    "outstanding",
    "interest_due",
    "interest_paid",
    "accrued",
    "penalty",
    "days_past_due",
    "restructure_count",
    "collateral_kind",
    "collateral_value",
    "last_inspection",
    "last_verdict",
    "status",
)
#: The amounts among them: a waiting row keeps them as integer minor units.
_AMOUNTS = frozenset(
    {
        "approved",
        "disbursed",
        "principal_repaid",
        "outstanding",
        "interest_due",
        "interest_paid",
        "accrued",
        "penalty",
        "collateral_value",
    }
)
#: Values many rows have in common: a waiting row refers to one shared copy.
_REPEATED = frozenset(
    {
        "signed_on",
        "rate_pct",
        "overdue_rate_pct",
        "maturity",
        "collateral_kind",
        "last_inspection",
        "last_verdict",
    }
)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def figures_hold(
    status: LoanStatus, closed_on: dt.date | None, closed_through: dt.date | None, as_of: dt.date
) -> bool:
    """True when the figures the daily close stored on a loan are its figures as of ``as_of``:
    they were stored by the close of that very day (and nothing dated on or before it was
    recorded since, or ``closed_through`` would have been cleared), or the loan was repaid
    and closed on the day of its last close, before ``as_of`` — nothing changes after that."""
    if closed_through is None:
        return False
    if closed_through == as_of:
        return True
    return status is LoanStatus.CLOSED and closed_on == closed_through and closed_on < as_of


def _counts_on(status: LoanStatus, closed_on: dt.date | None, as_of: dt.date) -> bool:
    """The loan is in the books on ``as_of`` (as the daily close counts it) and takes part in
    its borrower's worst group."""
    return status in (LoanStatus.ACTIVE, LoanStatus.RECALLED) or (
        status is LoanStatus.CLOSED and closed_on is not None and closed_on >= as_of
    )


def portfolio_rows(
    session: Session, *, as_of: dt.date, replay_all: bool = False
) -> Iterator[dict[str, Any]]:
    """The ledger's rows, loan by loan (contract order), for loans paid out by ``as_of``.

    A loan whose stored close figures hold for ``as_of`` (:func:`figures_hold`: after the
    close of that day, nearly every loan) is read from them; the others are replayed. A loan's
    debt group is its borrower's worst, so the replayed loans come first: their rows wait
    (compact tuples, amounts in minor units) while every loan's own group is gathered; then the
    rows are written in contract order, :data:`CHUNK` loans read at a time.

    Args:
        as_of: the ledger's date.
        replay_all: replay every loan, stored figures or not (what the stored figures are
            checked against).
    """
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
    book = session.execute(
        select(
            Loan.id,
            Loan.cooperative_id,
            Loan.status,
            Loan.closed_on,
            Loan.closed_through,
            Loan.own_group,
        )
        .join(
            ScheduleVersion,
            (ScheduleVersion.loan_id == Loan.id) & (ScheduleVersion.version == 1),
        )
        .where(ScheduleVersion.effective_from <= as_of)
        .order_by(Loan.contract_no)
    ).all()
    loan_ids = [loan.id for loan in book]
    own: dict[int, tuple[int, int]] = {}
    to_replay: list[int] = []
    for loan in book:
        if not replay_all and figures_hold(loan.status, loan.closed_on, loan.closed_through, as_of):
            if _counts_on(loan.status, loan.closed_on, as_of):
                own[loan.id] = (loan.cooperative_id, loan.own_group)
        else:
            to_replay.append(loan.id)
    del book
    borrowers = {
        row.id: (row.name, row.legal_type.value, row.tax_code, row.district)
        for row in session.execute(
            select(
                Cooperative.id,
                Cooperative.name,
                Cooperative.legal_type,
                Cooperative.tax_code,
                Cooperative.district,
            )
        )
    }
    products = dict(session.execute(select(LoanProduct.id, LoanProduct.code)).all())
    shared: dict[tuple[type, Any], Any] = {}  # one object for each repeated word, date, rate

    def keep(key: str, value: Any) -> Any:
        if key in _AMOUNTS:
            return pack(value)
        if key in _REPEATED:
            return shared.setdefault((type(value), value), value)
        return value

    def pack(amount: Decimal) -> int | Decimal:
        try:
            return to_minor_units(amount, digits)
        except ValueError:  # more places than the currency has: kept as it is
            return amount

    def unpack(record: tuple[Any, ...]) -> dict[str, Any]:
        return {
            key: from_minor_units(value, digits)
            if key in _AMOUNTS and type(value) is int
            else value
            for key, value in zip(_KEYS, record, strict=True)
        }

    waiting: dict[int, tuple[Any, ...]] = {}
    for chunk in _chunks(to_replay):
        for loan, row in _chunk_rows(session, chunk, as_of=as_of, limits=limits):
            if _counts_on(loan.status, loan.closed_on, as_of):
                own[loan.id] = (loan.cooperative_id, row["own_group"])
            waiting[loan.id] = tuple(keep(key, row[key]) for key in _KEYS)
    final = borrower_groups(own)
    del own

    def finish(row: dict[str, Any]) -> dict[str, Any]:
        cooperative_id = row.pop("cooperative_id")
        row.update(
            zip(
                ("borrower", "legal_type", "tax_code", "district"),
                borrowers[cooperative_id],
                strict=True,
            ),
            product=products[row.pop("product_id")],
        )
        group = final.get(row["loan_id"], 1)
        row["debt_group"] = group
        row["accrued_on_books"] = row["accrued"] if group == 1 else Decimal(0)
        row["accrued_off_books"] = row["accrued"] if group > 1 else Decimal(0)
        row["specific_provision"] = specific_provision(row["outstanding"], group, rates, digits)
        return row

    replayed = set(to_replay)
    # What the stored rows take from other tables, read once for the whole book: a statement
    # each per chunk of 500 loans cost a fifth of the ledger's reading at 100,000 loans.
    book_extras = _extras(session, None, None, as_of=as_of)
    for chunk in _chunks(loan_ids):
        stored = [loan_id for loan_id in chunk if loan_id not in replayed]
        rows = (
            dict(_stored_rows(session, stored, as_of=as_of, extras=book_extras)) if stored else {}
        )
        for loan_id in chunk:
            row = rows.pop(loan_id, None)
            if row is None:
                row = unpack(waiting.pop(loan_id))
            yield finish(row)


def _extras(
    session: Session,
    loan_ids: list[int] | None,
    application_ids: list[int] | None,
    *,
    as_of: dt.date,
) -> dict[str, dict[int, Any]]:
    """What some loans' rows take from other tables as of ``as_of``: ``applications``
    (priority, purpose), ``collateral`` (the first kind, the total value), ``disbursed``
    (tranches paid out), ``restructurings`` (approved by the day) and ``visits`` (the last
    inspection done by then: its date and verdict). ``None`` for the ids: every loan's, in
    one statement each (the whole ledger), instead of a statement each per chunk."""

    def loans_among(column: Any) -> Any:
        return column.in_(loan_ids) if loan_ids is not None else true()

    def applications_among(column: Any) -> Any:
        return column.in_(application_ids) if application_ids is not None else true()

    # Plain rows through the session's connection: the ORM's result handling cost more than
    # the queries on a ledger of 100,000 loans.
    connection = session.connection()
    applications = {
        row.id: (row.priority.value, row.purpose.value)
        for row in connection.execute(
            select(LoanApplication.id, LoanApplication.priority, LoanApplication.purpose).where(
                applications_among(LoanApplication.id)
            )
        )
    }
    collateral: dict[int, tuple[str, Decimal]] = {}
    for application_id, kind, value in connection.execute(
        select(Collateral.application_id, Collateral.kind, Collateral.estimated_value)
        .where(applications_among(Collateral.application_id))
        .order_by(Collateral.id)
    ):
        first_kind, total = collateral.get(application_id, (kind, Decimal(0)))
        collateral[application_id] = (first_kind, total + value)
    disbursed: dict[int, Decimal] = {}
    # The status is checked here too (see the visits below): with it in SQL, SQLite walks the
    # index of tranches by status (every tranche paid out, for each chunk).
    for loan_id, amount, status in connection.execute(
        select(Tranche.loan_id, Tranche.amount, Tranche.status).where(
            loans_among(Tranche.loan_id), Tranche.value_date <= as_of
        )
    ):
        if status is TrancheStatus.PAID:
            disbursed[loan_id] = disbursed.get(loan_id, Decimal(0)) + amount
    restructurings: dict[int, int] = dict(
        connection.execute(
            select(Restructuring.loan_id, func.count(Restructuring.id))
            .where(
                loans_among(Restructuring.loan_id),
                Restructuring.status == "approved",
                Restructuring.decided_on <= as_of,
            )
            .group_by(Restructuring.loan_id)
        ).all()
    )
    visits: dict[int, tuple[dt.date, str]] = {}
    # The status is checked here, not in SQL: with it there, SQLite walks the status index
    # (every visit done, for each chunk) instead of the loans' own visits.
    for loan_id, visited_on, verdict, status in connection.execute(
        select(Inspection.loan_id, Inspection.visited_on, Inspection.verdict, Inspection.status)
        .where(loans_among(Inspection.loan_id), Inspection.visited_on <= as_of)
        .order_by(Inspection.loan_id, Inspection.visited_on, Inspection.id)
    ):
        if status == "done":
            visits[loan_id] = (visited_on, verdict)
    return {
        "applications": applications,
        "collateral": collateral,
        "disbursed": disbursed,
        "restructurings": restructurings,
        "visits": visits,
    }


def _stored_rows(
    session: Session, loan_ids: list[int], *, as_of: dt.date, extras: dict[str, dict[int, Any]]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Some loans' rows from the figures their last close stored (``cooperative_id`` and
    ``product_id`` left for the caller to put into words; the debt group too)."""
    loans = (
        session.connection()
        .execute(
            select(
                Loan.id,
                Loan.application_id,
                Loan.cooperative_id,
                Loan.product_id,
                Loan.contract_no,
                Loan.signed_on,
                Loan.amount,
                Loan.annual_rate_pct,
                Loan.overdue_rate_pct_of_rate,
                Loan.term_months,
                Loan.matures_on,
                Loan.principal_outstanding,
                Loan.interest_fallen_due,
                Loan.interest_paid,
                Loan.interest_accrued,
                Loan.penalty_accrued,
                Loan.days_past_due,
                Loan.status,
            ).where(Loan.id.in_(loan_ids))
        )
        .all()
    )
    for loan in loans:
        figures = Figures(
            days_past_due=loan.days_past_due,
            outstanding=loan.principal_outstanding,
            interest_fallen_due=loan.interest_fallen_due,
            interest_paid=loan.interest_paid,
            interest_accrued=loan.interest_accrued,
            penalty=loan.penalty_accrued,
            matures_on=loan.matures_on,
        )
        yield loan.id, _row(loan, figures, extras)


def _row(loan: Any, figures: Figures, extras: dict[str, dict[int, Any]]) -> dict[str, Any]:
    """A loan's row (``cooperative_id`` and ``product_id`` left for the caller to put into
    words) from its figures and what :func:`_extras` read for it."""
    paid_out = extras["disbursed"].get(loan.id, Decimal(0))
    priority, purpose = extras["applications"][loan.application_id]
    collateral_kind, collateral_value = extras["collateral"].get(
        loan.application_id, ("", Decimal(0))
    )
    last_visit = extras["visits"].get(loan.id)
    return {
        "loan_id": loan.id,
        "cooperative_id": loan.cooperative_id,
        "product_id": loan.product_id,
        "contract_no": loan.contract_no,
        "signed_on": loan.signed_on,
        "priority": priority,
        "purpose": purpose,
        "approved": loan.amount,
        "disbursed": paid_out,
        "rate_pct": loan.annual_rate_pct,
        "overdue_rate_pct": loan.annual_rate_pct * loan.overdue_rate_pct_of_rate / 100,
        "term_months": loan.term_months,
        "maturity": figures.matures_on,
        "principal_repaid": paid_out - figures.outstanding,
        "outstanding": figures.outstanding,
        "interest_due": figures.interest_fallen_due,
        "interest_paid": figures.interest_paid,
        "accrued": figures.interest_accrued,
        "penalty": figures.penalty,
        "days_past_due": figures.days_past_due,
        "restructure_count": extras["restructurings"].get(loan.id, 0),
        "collateral_kind": collateral_kind,
        "collateral_value": collateral_value,
        "last_inspection": last_visit[0] if last_visit else None,
        "last_verdict": last_visit[1] if last_visit else "",
        "status": loan.status.value,
    }


def _chunk_rows(
    session: Session, loan_ids: list[int], *, as_of: dt.date, limits: Thresholds
) -> Iterator[tuple[Loan, dict[str, Any]]]:
    """Some loans' rows, replayed as of ``as_of`` (their own group in ``own_group``;
    ``cooperative_id`` and ``product_id`` left for the caller to put into words), in the
    order of ``loan_ids``."""
    loans = {
        loan.id: loan
        for loan in session.scalars(
            select(Loan).where(Loan.id.in_(loan_ids)).options(selectinload(Loan.schedules))
        )
    }
    receipts = posted_receipts_of(session, loan_ids)
    extras = _extras(
        session, loan_ids, [loan.application_id for loan in loans.values()], as_of=as_of
    )
    for loan_id in loan_ids:
        loan = loans[loan_id]
        states, terms = replay(session, loan, as_of=as_of, receipts=receipts[loan_id])
        figures = figures_on(states, terms, as_of)
        row = _row(loan, figures, extras)
        row["own_group"] = loan_group(figures.days_past_due, row["restructure_count"], limits)
        yield loan, row


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
