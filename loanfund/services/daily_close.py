"""The daily close of a business date (DESIGN §3–5): ageing, debt groups, accruals,
provisions and the portfolio snapshot.

Closing day D is idempotent and resumable, in bounded transactions:

1. **Ageing**, loan by loan in batches: each loan is replayed as of D (its receipts and
   schedule changes dated on or before D); its days past due, own debt group, principal
   outstanding, interest earned and not paid, and penalty interest owed are stored with
   ``closed_through = D``, and each batch is committed. A re-run skips the loans already done.
2. **Debt groups**: every loan of a borrower takes the worst group among them; changes are
   recorded with the date and the reason; provisions are computed per loan from the group.
3. **The books**, one entry per kind, for the difference between what the journal holds and
   what it should hold after D: interest earned and not paid on G1 loans is income (interest
   receivable), on the others it is tracked off the books (memo); the provision account holds
   the specific and general provisions. A re-run finds nothing to post.
4. **The snapshot** of the portfolio (outstanding by group, PAR30, PAR90, counts), then D is
   marked done.

A crash leaves the finished batches committed; the next run completes the rest and reaches
the same state. Missed days are closed in order (:func:`close_through`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from loanfund.domain.access import SYSTEM
from loanfund.domain.classification import (
    LoanFigures,
    Thresholds,
    borrower_groups,
    general_provision,
    group_by_days,
    loan_group,
    portfolio,
    specific_provision,
)
from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.ledger import Account, EntryKind, Line
from loanfund.domain.loans import LoanStatus
from loanfund.domain.policy import Policy
from loanfund.domain.repayments import state_from_row, state_row
from loanfund.models import (
    BusinessDay,
    DebtGroupChange,
    Loan,
    LoanReplay,
    PortfolioSnapshot,
    Repayment,
    ScheduleVersion,
)
from loanfund.models.types import money_digits, utcnow
from loanfund.queries.ledger import account_balances
from loanfund.services.applications import fund_policy
from loanfund.services.forecast import record_forecast
from loanfund.services.inspection_planning import plan_periodic
from loanfund.services.ledger import post_entry, record_totals
from loanfund.services.loan_state import (
    Figures,
    figures_on,
    posted_receipts_of,
    replay,
    terms_of,
)

BATCH = 500


def thresholds(policy: Policy) -> Thresholds:
    return Thresholds(
        policy.group2_from_days,
        policy.group3_from_days,
        policy.group4_from_days,
        policy.group5_from_days,
    )


def _in_books_on(day: dt.date):  # type: ignore[no-untyped-def]
    """Loans that count on ``day``: disbursed by then, and open (or closed on or after it)."""
    disbursed = exists().where(
        ScheduleVersion.loan_id == Loan.id,
        ScheduleVersion.version == 1,
        ScheduleVersion.effective_from <= day,
    )
    return disbursed & or_(
        Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.RECALLED)),
        (Loan.status == LoanStatus.CLOSED) & (Loan.closed_on >= day),
    )


def _batches(session: Session, day: dt.date) -> Iterator[list[int]]:
    while True:
        ids = list(
            session.scalars(
                select(Loan.id)
                .where(
                    _in_books_on(day),
                    or_(Loan.closed_through.is_(None), Loan.closed_through < day),
                )
                .order_by(Loan.id)
                .limit(BATCH)
            )
        )
        if not ids:
            return
        yield ids


def _figure_values(
    figures: Figures, restructure_count: int, day: dt.date, limits: Thresholds
) -> dict[str, Any]:
    """The loan's columns the close stores from its figures as of ``day``."""
    return {
        "days_past_due": figures.days_past_due,
        "own_group": loan_group(figures.days_past_due, restructure_count, limits),
        "principal_outstanding": figures.outstanding,
        "interest_accrued": figures.interest_accrued,
        "penalty_accrued": figures.penalty,
        "interest_fallen_due": figures.interest_fallen_due,
        "interest_paid": figures.interest_paid,
        "matures_on": figures.matures_on,
        "closed_through": day,
    }


def _age(
    session: Session,
    loan: Loan,
    day: dt.date,
    limits: Thresholds,
    receipts: list[Any] | None = None,
) -> None:
    figures = figures_on(*replay(session, loan, as_of=day, receipts=receipts), day)
    for name, value in _figure_values(figures, loan.restructure_count, day, limits).items():
        setattr(loan, name, value)


def _what_was_read(receipts: list[Any], loan: Loan) -> tuple[int, int, int]:
    """What a loan was aged with, in three numbers: its posted receipts, the last one's
    sequence, its schedule versions. A receipt recorded or reversed, or a schedule change
    made, later changes one of them for good: a new receipt's sequence is above every earlier
    one, a reversed receipt is never posted again, and versions are only added."""
    last = max((receipt.sequence for receipt in receipts), default=0)
    return len(receipts), last, len(loan.schedules)


def _replay_inputs(session: Session, ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """The same three numbers (see :func:`_what_was_read`) for each loan as they are now."""
    now = {loan_id: [0, 0, 0] for loan_id in ids}
    for loan_id, count, last in session.execute(
        select(Repayment.loan_id, func.count(), func.max(Repayment.sequence))
        .where(Repayment.loan_id.in_(ids), Repayment.status == "posted")
        .group_by(Repayment.loan_id)
    ):
        now[loan_id][:2] = [count, last]
    for loan_id, versions in session.execute(
        select(ScheduleVersion.loan_id, func.count())
        .where(ScheduleVersion.loan_id.in_(ids))
        .group_by(ScheduleVersion.loan_id)
    ):
        now[loan_id][2] = versions
    return {loan_id: (numbers[0], numbers[1], numbers[2]) for loan_id, numbers in now.items()}


def _reopen_changed(session: Session, read: dict[int, tuple[int, int, int]]) -> None:
    """Loans whose receipts or schedule versions are no longer what they were aged with (see
    :func:`_what_was_read`) stop claiming figures as of the day: the batch loop ages them
    again."""
    now = _replay_inputs(session, list(read))
    changed = [loan_id for loan_id, numbers in now.items() if numbers != read[loan_id]]
    if changed:
        session.execute(
            update(Loan)
            .where(Loan.id.in_(changed))
            .values(closed_through=None)
            .execution_options(synchronize_session=False)
        )


def _replayed_in_full(loan: Loan, receipts: list[Any], day: dt.date) -> bool:
    """Whether a replay as of ``day`` used every receipt and schedule version of the loan
    (none is dated after it): then it holds, unchanged, for every later day."""
    return all(receipt.received_on <= day for receipt in receipts) and all(
        version.effective_from <= day for version in loan.schedules
    )


def _age_batch(session: Session, ids: list[int], day: dt.date, limits: Thresholds) -> int:
    """Store the figures as of ``day`` of the loans ``ids``; returns how many were replayed
    from their receipts (the others started from their replay kept by an earlier close,
    ``LoanReplay``, their receipts and schedule versions being still the same)."""
    inputs = _replay_inputs(session, ids)
    kept = {
        row.loan_id: row
        for row in session.execute(
            select(
                LoanReplay.loan_id,
                LoanReplay.through,
                LoanReplay.receipts,
                LoanReplay.last_sequence,
                LoanReplay.versions,
                LoanReplay.state,
            ).where(LoanReplay.loan_id.in_(ids))
        )
    }
    reusable = {
        loan_id
        for loan_id, row in kept.items()
        if row.through <= day and (row.receipts, row.last_sequence, row.versions) == inputs[loan_id]
    }
    # The settings of the loans started from a kept replay (the others are read whole below).
    settings = {
        row.id: row
        for row in session.execute(
            select(
                Loan.id,
                Loan.restructure_count,
                Loan.annual_rate_pct,
                Loan.overdue_rate_pct_of_rate,
                Loan.allocation_order,
                Loan.prepayment_mode,
                Loan.late_interest_rate_pct,
            ).where(Loan.id.in_(sorted(reusable)))
        )
    }
    read: dict[int, tuple[int, int, int]] = {}
    values: list[dict[str, Any]] = []
    replays: list[dict[str, Any]] = []
    stale = [loan_id for loan_id in ids if loan_id not in reusable]
    receipts = posted_receipts_of(session, stale) if stale else {}
    for loan in (
        session.scalars(
            select(Loan).where(Loan.id.in_(stale)).options(selectinload(Loan.schedules))
        )
        if stale
        else ()
    ):
        states, terms = replay(session, loan, as_of=day, receipts=receipts[loan.id])
        read[loan.id] = _what_was_read(receipts[loan.id], loan)
        stored = _figure_values(figures_on(states, terms, day), loan.restructure_count, day, limits)
        values.append({"id": loan.id, **stored})
        if _replayed_in_full(loan, receipts[loan.id], day):
            count, last, versions = read[loan.id]
            replays.append(
                {
                    "loan_id": loan.id,
                    "through": day,
                    "receipts": count,
                    "last_sequence": last,
                    "versions": versions,
                    "state": {
                        "disbursed_on": terms.disbursed_on.isoformat(),
                        "days_in_year": terms.days_in_year,
                        "installments": [state_row(state) for state in states],
                    },
                }
            )
    for loan_id in sorted(reusable):
        row, loan = kept[loan_id], settings[loan_id]
        terms = terms_of(
            loan,
            disbursed_on=dt.date.fromisoformat(row.state["disbursed_on"]),
            days_in_year=int(row.state["days_in_year"]),
        )
        states = [state_from_row(installment) for installment in row.state["installments"]]
        read[loan_id] = inputs[loan_id]
        stored = _figure_values(figures_on(states, terms, day), loan.restructure_count, day, limits)
        values.append({"id": loan_id, **stored})
    # The figures are written first: from then on the rows are held (row locks on PostgreSQL,
    # the write lock on SQLite), so a receipt or change committed later waits and clears them
    # itself (loan_state.figures_changed). One committed after they were read and before this
    # is missing from them: those loans are aged again.
    if values:
        session.execute(update(Loan), values)
    if replays:
        session.execute(
            delete(LoanReplay).where(LoanReplay.loan_id.in_([r["loan_id"] for r in replays]))
        )
        session.execute(insert(LoanReplay), replays)
    _reopen_changed(session, read)
    return len(stale)


def _age_repaid(session: Session, day: dt.date, limits: Thresholds) -> int:
    """Loans repaid and closed before ``day`` whose figures were never stored as of their
    last day (closed by a receipt recorded after that day's close, or before the close ran at
    all) are aged once as of the day they closed: nothing changes after it, so every later
    ledger reads them as they are instead of replaying them."""
    aged = 0
    while True:
        ids = list(
            session.scalars(
                select(Loan.id)
                .where(
                    Loan.status == LoanStatus.CLOSED,
                    Loan.closed_on < day,
                    or_(Loan.closed_through.is_(None), Loan.closed_through != Loan.closed_on),
                )
                .order_by(Loan.id)
                .limit(BATCH)
            )
        )
        if not ids:
            return aged
        receipts = posted_receipts_of(session, ids)
        for loan in session.scalars(
            select(Loan).where(Loan.id.in_(ids)).options(selectinload(Loan.schedules))
        ):
            assert loan.closed_on is not None
            _age(session, loan, loan.closed_on, limits, receipts[loan.id])
            loan.specific_provision = loan.general_provision = Decimal(0)
            aged += 1
        session.commit()


def _zero_the_rest(session: Session, day: dt.date) -> int:
    """Loans closed before ``day`` (or not yet counted) hold nothing after it."""
    result = session.execute(
        update(Loan)
        .where(
            ~_in_books_on(day),
            or_(
                Loan.principal_outstanding != 0,
                Loan.interest_accrued != 0,
                Loan.penalty_accrued != 0,
                Loan.specific_provision != 0,
                Loan.general_provision != 0,
                Loan.days_past_due != 0,
            ),
        )
        .values(
            principal_outstanding=0,
            interest_accrued=0,
            penalty_accrued=0,
            specific_provision=0,
            general_provision=0,
            days_past_due=0,
            # Zeroed, not replayed: its other figures (interest fallen due and paid) are not
            # as of this day, so no ledger takes them as such.
            closed_through=None,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _classify(session: Session, day: dt.date, policy: Policy, limits: Thresholds) -> int:
    """Borrower-wide groups, the changes recorded, and each loan's provisions (read and
    written set-wise: only the loans whose group or provisions change are written)."""
    loans = session.execute(
        select(
            Loan.id,
            Loan.cooperative_id,
            Loan.own_group,
            Loan.debt_group,
            Loan.days_past_due,
            Loan.principal_outstanding,
            Loan.specific_provision,
            Loan.general_provision,
        ).where(_in_books_on(day))
    ).all()
    final = borrower_groups({loan.id: (loan.cooperative_id, loan.own_group) for loan in loans})
    rates = {
        1: policy.provision_group1_pct,
        2: policy.provision_group2_pct,
        3: policy.provision_group3_pct,
        4: policy.provision_group4_pct,
        5: policy.provision_group5_pct,
    }
    digits = money_digits()
    changes: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for loan in loans:
        group = final[loan.id]
        values: dict[str, Any] = {}
        if group != loan.debt_group:
            if group > loan.own_group:
                reason = "borrower"
            elif loan.own_group > group_by_days(loan.days_past_due, limits):
                reason = "restructuring"
            else:
                reason = "days"
            changes.append(
                {
                    "loan_id": loan.id,
                    "business_date": day,
                    "from_group": loan.debt_group,
                    "to_group": group,
                    "days_past_due": loan.days_past_due,
                    "reason": reason,
                }
            )
            values["debt_group"] = group
        specific = specific_provision(loan.principal_outstanding, group, rates, digits)
        general = general_provision(
            loan.principal_outstanding, group, policy.general_provision_pct, digits
        )
        if specific != loan.specific_provision:
            values["specific_provision"] = specific
        if general != loan.general_provision:
            values["general_provision"] = general
        if values:
            updates.append({"id": loan.id, **values})
    if changes:
        session.execute(insert(DebtGroupChange), changes)
    # One statement per set of columns changed (a bulk update groups rows by their keys).
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in updates:
        by_columns.setdefault(tuple(sorted(values)), []).append(values)
    for rows in by_columns.values():
        session.execute(update(Loan), rows)
    return len(changes)


def _adjust(target: Decimal, held: Decimal, up: tuple[Account, Account]) -> list[Line]:
    """Lines moving ``held`` to ``target``: debit the first account and credit the second
    by the difference when it grows, the other way round when it shrinks."""
    difference = target - held
    if difference > 0:
        return [Line.dr(up[0], difference), Line.cr(up[1], difference)]
    if difference < 0:
        return [Line.dr(up[1], -difference), Line.cr(up[0], -difference)]
    return []


def _held_figures(session: Session, day: dt.date) -> dict[str, Decimal]:
    """Sums over the loans in the books on ``day`` of what the close stored: interest earned
    and not paid on group-1 loans (on the books) and on the others (off them), and the
    provisions."""
    loans = session.execute(
        select(
            Loan.debt_group,
            Loan.interest_accrued,
            Loan.specific_provision,
            Loan.general_provision,
        ).where(_in_books_on(day))
    )
    sums = {"on_books": Decimal(0), "off_books": Decimal(0), "provisions": Decimal(0)}
    for group, accrued, specific, general in loans:
        sums["on_books" if group == 1 else "off_books"] += accrued
        sums["provisions"] += specific + general
    return sums


def _post_books(session: Session, day: dt.date) -> int:
    sums = _held_figures(session, day)
    on_books, off_books, provisions = sums["on_books"], sums["off_books"], sums["provisions"]
    held = account_balances(session)
    posted = 0
    accrual = _adjust(
        on_books,
        held[Account.INTEREST_RECEIVABLE],
        (Account.INTEREST_RECEIVABLE, Account.INTEREST_INCOME),
    ) + _adjust(
        off_books,
        held[Account.OFF_BOOK_INTEREST],
        (Account.OFF_BOOK_INTEREST, Account.OFF_BOOK_INTEREST_CONTRA),
    )
    if accrual:
        post_entry(
            session,
            actor=SYSTEM,
            kind=EntryKind.INTEREST_ACCRUAL,
            value_date=day,
            lines=accrual,
            description=_(
                "Interest earned and not yet paid at the close of %(date)s: %(on)s on the books "
                "(debt group 1), %(off)s off the books",
                date=fmt_date(day),
                on=str(on_books),
                off=str(off_books),
            ),
            reference=f"close {day.isoformat()}",
        )
        posted += 1
    provision = _adjust(
        provisions, held[Account.PROVISION], (Account.PROVISION_EXPENSE, Account.PROVISION)
    )
    if provision:
        post_entry(
            session,
            actor=SYSTEM,
            kind=EntryKind.PROVISION,
            value_date=day,
            lines=provision,
            description=_(
                "Provisions at the close of %(date)s: %(total)s",
                date=fmt_date(day),
                total=str(provisions),
            ),
            reference=f"close {day.isoformat()}",
        )
        posted += 1
    return posted


def _snapshot(session: Session, day: dt.date) -> None:
    if session.get(PortfolioSnapshot, day) is not None:
        return
    loans = session.execute(
        select(
            Loan.id,
            Loan.principal_outstanding,
            Loan.days_past_due,
            Loan.debt_group,
            Loan.specific_provision,
            Loan.general_provision,
            Loan.interest_accrued,
        ).where(_in_books_on(day), Loan.principal_outstanding > 0)
    ).all()
    figures = portfolio(
        LoanFigures(loan.id, loan.principal_outstanding, loan.days_past_due, loan.debt_group)
        for loan in loans
    )
    session.add(
        PortfolioSnapshot(
            business_date=day,
            loans=len(loans),
            outstanding=figures.outstanding,
            by_group={str(g): str(v) for g, v in figures.by_group.items()},
            count_by_group={str(g): n for g, n in figures.count_by_group.items()},
            par30_pct=figures.par30_pct,
            par90_pct=figures.par90_pct,
            bad_debt_pct=figures.bad_debt_pct,
            specific_provision=sum((loan.specific_provision for loan in loans), Decimal(0)),
            general_provision=sum((loan.general_provision for loan in loans), Decimal(0)),
            interest_accrued=sum(
                (loan.interest_accrued for loan in loans if loan.debt_group == 1), Decimal(0)
            ),
            interest_off_books=sum(
                (loan.interest_accrued for loan in loans if loan.debt_group > 1), Decimal(0)
            ),
        )
    )


def close_day(session: Session, *, day: dt.date) -> dict[str, Any]:
    """Close business date ``day`` (see the module's description). Returns what it did;
    ``{"skipped": True}`` when the day was already closed."""
    marker = session.get(BusinessDay, day)
    if marker is not None and marker.status == "done":
        return {"business_date": day.isoformat(), "skipped": True}
    if marker is None:
        session.add(BusinessDay(business_date=day, status="running", counts={}))
        try:
            session.commit()
        except IntegrityError:  # another process started it a moment ago
            session.rollback()
    policy = fund_policy(session)
    limits = thresholds(policy)
    aged = replayed = 0
    for ids in _batches(session, day):
        replayed += _age_batch(session, ids, day, limits)
        aged += len(ids)
        session.commit()
    repaid = _age_repaid(session, day, limits)
    cleared = _zero_the_rest(session, day)
    changes = _classify(session, day, policy, limits)
    planning = plan_periodic(session, policy)
    session.commit()
    entries = _post_books(session, day)
    session.commit()
    _snapshot(session, day)
    session.commit()
    # Short transactions of their own: on PostgreSQL each holds back new journal entries or
    # schedule versions until it commits.
    record_totals(session)
    session.commit()
    recounted = record_forecast(session, day)
    counts = {
        "business_date": day.isoformat(),
        "loans_aged": aged,
        "loans_replayed": replayed,
        "repaid_loans_aged": repaid,
        "loans_cleared": cleared,
        "group_changes": changes,
        "inspections_planned": planning["planned"],
        "inspections_moved": planning["moved"],
        "entries": entries,
        "inflows_recounted": recounted,
    }
    session.execute(
        update(BusinessDay)
        .where(BusinessDay.business_date == day)
        .values(status="done", finished_at=utcnow(), counts=counts)
    )
    session.commit()
    return counts


def last_closed(session: Session) -> dt.date | None:
    return session.scalar(
        select(BusinessDay.business_date)
        .where(BusinessDay.status == "done")
        .order_by(BusinessDay.business_date.desc())
        .limit(1)
    )


def close_through(
    session: Session, *, through: dt.date, start: dt.date | None = None
) -> list[dict[str, Any]]:
    """Close every business date not closed yet, in order, up to ``through``: from the day
    after the last one closed, or from ``start`` (default ``through``) when none was."""
    last = last_closed(session)
    day = last + dt.timedelta(days=1) if last else (start or through)
    done = []
    while day <= through:
        done.append(close_day(session, day=day))
        day += dt.timedelta(days=1)
    return done
