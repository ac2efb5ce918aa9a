"""A loan's repayment state, replayed from its schedule versions and its posted receipts.

The state is never stored as running balances. It is the first schedule version's
installments, to which the posted receipts are applied in the order they were recorded
(``domain.repayments.allocate``); each later version (a later tranche, a restructuring) takes
effect between the receipts recorded before it and those recorded after it
(``domain.repayments.apply_change``). A new version is built from this replay on its day, so a
version always rests on the receipts before it: those can no longer be added to or reversed
(``services.repayments`` refuses it, with the date of the change).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from loanfund.domain.classification import days_past_due, interest_earned, interest_paid
from loanfund.domain.errors import InvalidTransition, RuleViolation
from loanfund.domain.i18n import _
from loanfund.domain.products import installments_for
from loanfund.domain.repayments import (
    Allocation,
    Change,
    ChangeBasis,
    Due,
    InstallmentState,
    Terms,
    allocate,
    apply_change,
    change_basis,
    initial_state,
    penalty_owed,
)
from loanfund.domain.schedule import build_schedule, parse_terms, to_json_dict
from loanfund.models import Loan, Repayment, ScheduleVersion
from loanfund.models.types import money_digits

#: Schedule options a restructured schedule keeps from the contract (grace, deferral and
#: interest-free periods belong to the original plan and are not repeated).
_KEPT_OPTIONS = (
    "frequency",
    "every",
    "method",
    "interest_basis",
    "days_in_year",
    "rounding",
    "installment_multiple",
    "installment_rounding",
)


@dataclass(frozen=True, slots=True)
class Figures:
    """A loan's figures as of a day, from its replay: what the daily close stores and the
    portfolio ledger shows."""

    days_past_due: int
    outstanding: Decimal
    interest_fallen_due: Decimal
    interest_paid: Decimal
    #: Interest earned and not paid.
    interest_accrued: Decimal
    penalty: Decimal
    matures_on: dt.date | None


def figures_on(states: list[InstallmentState], terms: Terms, day: dt.date) -> Figures:
    """The replayed installments' figures as of ``day``."""
    paid = interest_paid(states)
    return Figures(
        days_past_due=days_past_due(states, day),
        outstanding=sum((max(s.principal_left, Decimal(0)) for s in states), Decimal(0)),
        interest_fallen_due=sum((s.interest for s in states if s.due.due_on <= day), Decimal(0)),
        interest_paid=paid,
        interest_accrued=max(interest_earned(states, terms, day) - paid, Decimal(0)),
        penalty=penalty_owed(states, terms, day),
        matures_on=states[-1].due.due_on if states else None,
    )


def figures_changed(session: Session, loan: Loan, day: dt.date) -> None:
    """A receipt, tranche or schedule change dated ``day`` was recorded on the loan: the
    figures the daily close stored no longer hold for a close on or after ``day``, so they stop
    claiming to (``closed_through`` is cleared; the next close stores them again). Figures of a
    close before ``day`` still hold and are kept.

    The row is written whatever it holds, so that it stays locked to the end of the
    transaction: a daily close storing the loan's figures at the same moment either commits
    first (and this clears them once it has) or stores them after this change is committed
    (``daily_close.close_day`` checks for one). A WHERE on ``closed_through`` would skip the
    row, and not wait, while the close's figures are not yet committed."""
    session.execute(
        update(Loan)
        .where(Loan.id == loan.id)
        .values(closed_through=case((Loan.closed_through >= day, None), else_=Loan.closed_through))
        .execution_options(synchronize_session=False)
    )
    session.expire(loan, ["closed_through"])


def versions_of(loan: Loan) -> list[ScheduleVersion]:
    return sorted(loan.schedules, key=lambda version: version.version)


def _versions(loan: Loan) -> list[ScheduleVersion]:
    versions = versions_of(loan)
    if not versions:
        raise InvalidTransition(_("The loan has no schedule yet: nothing has been disbursed."))
    return versions


def repayment_terms(loan: Loan) -> Terms:
    """What allocation needs, as fixed for the loan when it was made."""
    first = _versions(loan)[0]
    return terms_of(
        loan,
        disbursed_on=dt.date.fromisoformat(first.terms["disbursed_on"]),
        days_in_year=int(first.terms.get("days_in_year") or 365),
    )


def terms_of(loan: Any, *, disbursed_on: dt.date, days_in_year: int) -> Terms:
    """The terms from the loan's settings (a ``Loan`` or a row with its columns) and its first
    schedule's start and year."""
    return Terms(
        disbursed_on=disbursed_on,
        annual_rate_pct=loan.annual_rate_pct,
        overdue_rate_pct_of_rate=loan.overdue_rate_pct_of_rate,
        order=loan.allocation_order,
        prepayment_mode=loan.prepayment_mode,
        late_interest_rate_pct=loan.late_interest_rate_pct,
        days_in_year=days_in_year,
        digits=money_digits(),
    )


def posted_receipts_of(session: Session, loan_ids: list[int]) -> dict[int, list[Any]]:
    """Several loans' posted receipts in one query, each loan's in the order recorded: rows
    with what a replay reads (``id``, ``loan_id``, ``sequence``, ``received_on``, ``amount``),
    not ORM objects — a daily close reads millions of them."""
    found: dict[int, list[Any]] = {loan_id: [] for loan_id in loan_ids}
    for receipt in session.execute(
        select(
            Repayment.id,
            Repayment.loan_id,
            Repayment.sequence,
            Repayment.received_on,
            Repayment.amount,
        )
        .where(Repayment.loan_id.in_(loan_ids), Repayment.status == "posted")
        .order_by(Repayment.loan_id, Repayment.sequence)
    ):
        found[receipt.loan_id].append(receipt)
    return found


def posted_receipts(session: Session, loan: Loan) -> list[Repayment]:
    """The receipts that count, in the order they were recorded."""
    return list(
        session.scalars(
            select(Repayment)
            .where(Repayment.loan_id == loan.id, Repayment.status == "posted")
            .order_by(Repayment.sequence)
        )
    )


def last_sequence(session: Session, loan: Loan) -> int:
    """The number of the last receipt recorded on the loan, reversed or not (0: none)."""
    return (
        session.scalar(select(func.max(Repayment.sequence)).where(Repayment.loan_id == loan.id))
        or 0
    )


def _dues(rows: list[dict[str, Any]]) -> list[Due]:
    return [
        Due(
            int(row["n"]),
            dt.date.fromisoformat(row["due_on"]),
            Decimal(row["principal"]),
            Decimal(row["interest"]),
            Decimal(row.get("carried", 0)),
        )
        for row in rows
    ]


def _change(version: ScheduleVersion, states: list[InstallmentState], terms: Terms) -> Change:
    kept = version.kept
    rows = version.installments["installments"]
    start = version.accrues_from or (states[kept - 1].due.due_on if kept else terms.disbursed_on)
    return Change(
        day=version.effective_from,
        kept=kept,
        dues=tuple(_dues(rows[kept:])),
        settle=version.settles,
        accrues_from=start,
    )


def replay(
    session: Session,
    loan: Loan,
    *,
    as_of: dt.date | None = None,
    receipts: list[Any] | None = None,
) -> tuple[list[InstallmentState], Terms]:
    """The loan's installments with what its posted receipts paid on each (``as_of``: only
    the receipts and schedule changes dated on or before that day; ``receipts``: the loan's
    posted receipts in order, when the caller read them already)."""
    states, terms, _allocations = replay_receipts(session, loan, as_of=as_of, receipts=receipts)
    return states, terms


def replay_receipts(
    session: Session,
    loan: Loan,
    *,
    as_of: dt.date | None = None,
    receipts: list[Any] | None = None,
) -> tuple[list[InstallmentState], Terms, list[tuple[Repayment, Allocation]]]:
    """The replay, with each posted receipt and how it allocates on it, in order."""
    versions = _versions(loan)
    if as_of is not None:
        versions = [version for version in versions if version.effective_from <= as_of]
        if not versions:
            raise InvalidTransition(_("Nothing had been disbursed on the loan by that day."))
    terms = repayment_terms(loan)
    states = initial_state(_dues(versions[0].installments["installments"]), terms.disbursed_on)
    pending = list(versions[1:])
    allocations = []
    for receipt in posted_receipts(session, loan) if receipts is None else receipts:
        if as_of is not None and receipt.received_on > as_of:
            break
        while pending and receipt.sequence > pending[0].after_sequence:
            states = apply_change(states, terms, _change(pending.pop(0), states, terms))
        allocations.append(
            (receipt, allocate(states, terms, receipt.received_on, receipt.amount, posted=True))
        )
    for version in pending:
        states = apply_change(states, terms, _change(version, states, terms))
    return states, terms, allocations


def _totals(rows: list[dict[str, Any]]) -> dict[str, str]:
    return {
        key: str(sum((Decimal(row[key]) for row in rows), Decimal(0)))
        for key in ("principal", "interest", "total")
    }


def _merge(
    kept: list[dict[str, Any]], new: list[dict[str, Any]], carried: list[Decimal]
) -> dict[str, Any]:
    """The kept rows, then the new ones renumbered, each carrying its share of interest."""
    rows = list(kept)
    for index, row in enumerate(new):
        extra = carried[index] if index < len(carried) else Decimal(0)
        row = dict(row, n=len(kept) + index + 1)
        if extra:
            row["interest"] = str(Decimal(row["interest"]) + extra)
            row["total"] = str(Decimal(row["total"]) + extra)
            row["carried"] = str(extra)
        rows.append(row)
    return {"installments": rows, "totals": _totals(rows)}


def first_version(session: Session, loan: Loan, *, principal: Decimal, day: dt.date) -> None:
    """The loan's schedule from its first tranche."""
    options = dict(loan.schedule_options)
    terms: dict[str, object] = {
        **options,
        "annual_rate_pct": str(loan.annual_rate_pct),
        "disbursed_on": day.isoformat(),
        "principal": str(principal),
        "installments": installments_for(
            loan.term_months, str(options.get("frequency", "month")), int(options.get("every", 1))
        ),
    }
    digits = money_digits()
    schedule = build_schedule(parse_terms(terms, default_currency_digits=digits))
    session.add(
        ScheduleVersion(
            loan_id=loan.id,
            version=1,
            reason="first_tranche",
            effective_from=day,
            terms=terms,
            installments=to_json_dict(schedule, digits),
        )
    )
    figures_changed(session, loan, day)


def tranche_version(session: Session, loan: Loan, *, amount: Decimal, day: dt.date) -> None:
    """A later tranche: the installments due on or before its value date stay; the rest are
    rebuilt by the engine on the principal still owed on them plus the tranche, from the value
    date, keeping their due dates. The current installment's interest accrued to the value
    date and not yet paid is added to the first rebuilt installment."""
    versions = _versions(loan)
    states, terms = replay(session, loan)
    basis = change_basis(states, terms, day, restructure=False)
    rows = versions[-1].installments["installments"]
    remaining = rows[basis.kept :]
    if not remaining:
        raise RuleViolation(_("The loan's term has ended: no installment is left to pay into."))
    options = dict(loan.schedule_options)
    elapsed = basis.kept
    every_k = int(options.get("principal_every", 1))
    shifted = int(options.get("principal_grace", 0)) - elapsed
    engine_terms: dict[str, object] = {
        **options,
        "annual_rate_pct": str(loan.annual_rate_pct),
        "disbursed_on": day.isoformat(),
        "principal": str(basis.principal + amount),
        "installments": len(remaining),
        "first_due_on": remaining[0]["due_on"],
        # Keep the old rhythm: the periods already past come off the grace, deferral and
        # interest-free counts, and principal keeps falling on the same installments.
        "principal_grace": shifted if shifted >= 0 else shifted % every_k,
        **{
            name: max(0, int(options.get(name, 0)) - elapsed)
            for name in ("interest_deferred", "interest_free")
        },
    }
    _add_version(
        session,
        loan,
        reason="tranche",
        day=day,
        basis=basis,
        engine_terms=engine_terms,
        carried=[basis.interest],
        settles=False,
        accrues_from=None,
    )


def _restructuring(
    session: Session, loan: Loan, *, installments: int, first_due_on: dt.date, day: dt.date
) -> tuple[ChangeBasis, dict[str, object], list[Decimal]]:
    states, terms = replay(session, loan)
    basis = change_basis(states, terms, day, restructure=True)
    options = dict(loan.schedule_options)
    engine_terms: dict[str, object] = {
        **{name: options[name] for name in _KEPT_OPTIONS if name in options},
        "annual_rate_pct": str(loan.annual_rate_pct),
        "disbursed_on": day.isoformat(),
        "principal": str(basis.principal),
        "installments": installments,
        "first_due_on": first_due_on.isoformat(),
    }
    return basis, engine_terms, [basis.interest]


def restructure_preview(
    session: Session, loan: Loan, *, installments: int, first_due_on: dt.date, day: dt.date
) -> tuple[ChangeBasis, dict[str, Any]]:
    """What a restructuring decided on ``day`` would start from, and the new schedule: the
    kept installments, then new ones on all the principal owed, the first of them carrying
    the interest owed (the kept installments' and the current one's accrued to ``day``).

    Raises:
        RuleViolation: the engine refuses the terms (every problem).
    """
    basis, engine_terms, carried = _restructuring(
        session, loan, installments=installments, first_due_on=first_due_on, day=day
    )
    kept = _versions(loan)[-1].installments["installments"][: basis.kept]
    return basis, _merge(kept, _build(engine_terms), carried)


def restructure_version(
    session: Session, loan: Loan, *, installments: int, first_due_on: dt.date, day: dt.date
) -> ScheduleVersion:
    """The version an approved restructuring makes, from the decision date ``day``."""
    basis, engine_terms, carried = _restructuring(
        session, loan, installments=installments, first_due_on=first_due_on, day=day
    )
    return _add_version(
        session,
        loan,
        reason="restructuring",
        day=day,
        basis=basis,
        engine_terms=engine_terms,
        carried=carried,
        settles=True,
        accrues_from=day,
    )


def _build(engine_terms: dict[str, object]) -> list[dict[str, Any]]:
    digits = money_digits()
    schedule = build_schedule(parse_terms(engine_terms, default_currency_digits=digits))
    return to_json_dict(schedule, digits)["installments"]


def _add_version(
    session: Session,
    loan: Loan,
    *,
    reason: str,
    day: dt.date,
    basis: ChangeBasis,
    engine_terms: dict[str, object],
    carried: list[Decimal],
    settles: bool,
    accrues_from: dt.date | None,
) -> ScheduleVersion:
    versions = _versions(loan)
    kept = versions[-1].installments["installments"][: basis.kept]
    version = ScheduleVersion(
        loan_id=loan.id,
        version=len(versions) + 1,
        reason=reason,
        effective_from=day,
        terms=engine_terms,
        installments=_merge(kept, _build(engine_terms), carried),
        after_sequence=last_sequence(session, loan),
        kept=basis.kept,
        settles=settles,
        accrues_from=accrues_from,
    )
    session.add(version)
    session.flush()
    figures_changed(session, loan, day)
    return version


def recall_version(
    session: Session, loan: Loan, *, day: dt.date
) -> tuple[ChangeBasis, ScheduleVersion]:
    """The version a recall makes: the installments due on or before ``day`` stay (still owed,
    overdue as they were), and one installment due on ``day`` carries all the principal still
    owed and the interest accrued to ``day`` — after it, penalty interest runs on it."""
    states, terms = replay(session, loan)
    basis = change_basis(states, terms, day, restructure=False)
    versions = _versions(loan)
    kept = versions[-1].installments["installments"][: basis.kept]
    row = {
        "n": basis.kept + 1,
        "due_on": day.isoformat(),
        "principal": str(basis.principal),
        "interest": str(basis.interest),
        "total": str(basis.principal + basis.interest),
        "outstanding": "0",
        "carried": str(basis.interest),
    }
    rows = [*kept, row]
    version = ScheduleVersion(
        loan_id=loan.id,
        version=len(versions) + 1,
        reason="recall",
        effective_from=day,
        terms={"recalled_on": day.isoformat()},
        installments={"installments": rows, "totals": _totals(rows)},
        after_sequence=last_sequence(session, loan),
        kept=basis.kept,
        settles=False,
        accrues_from=None,
    )
    session.add(version)
    session.flush()
    figures_changed(session, loan, day)
    return basis, version


def maturity(loan: Loan, *, original: bool = False) -> dt.date:
    """The last due date of the contract's schedule (``original``) or of the current one."""
    versions = _versions(loan)
    rows = versions[0 if original else -1].installments["installments"]
    return dt.date.fromisoformat(rows[-1]["due_on"])


def last_change(loan: Loan) -> ScheduleVersion | None:
    """The latest version after the first: receipts before it are settled history."""
    versions = versions_of(loan)
    return versions[-1] if len(versions) > 1 else None
