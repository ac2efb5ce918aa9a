"""Repayments: how a receipt is allocated, penalty interest, and the payoff figure (DESIGN §3).

Conventions (each stated so an officer can redo the arithmetic):

* **Overdue** installments are those due *before* the receipt date and not fully paid; the
  **current** installment is the first one due on or after it that is not fully paid. Paying on
  the due date is on time.
* **Penalty interest** runs on each overdue installment's unpaid principal, per day overdue,
  at the contractual rate × the overdue rate (default 150 % of it), actual days ÷ ``days_in_year``.
  It accrues exactly and is rounded once, when it falls due (total accrued, rounded, less what
  was paid), so no đồng is gained or lost to rounding along the way.
* **Current interest** paid before the due date is the interest accrued so far: the scheduled
  interest × the days elapsed in the period ÷ the period's days (the schedule's interest is the
  balance × rate × days ÷ days in year, so this is the same daily accrual); on the due date, all
  of it. Interest carried into an installment by a schedule change was earned before it, and
  is owed in full from the start.
* **Allocation order** (a fund setting): ``principal_first`` — the Vietnamese rule on overdue
  debt: overdue principal, overdue interest, penalty, current interest, current principal —
  or ``interest_first``: penalty, overdue interest, current interest, overdue principal, current
  principal. Within a component the oldest installment is paid first.
* What is left is a **prepayment** of principal. With ``keep_term`` (the default) it is shared
  over the installments still to come in proportion to their principal, and their interest
  falls in the same proportion (interest is the balance × rate × days, and every later balance
  falls by that proportion), from the installment after the current one; the dates stay. With
  ``shorten_term`` it is taken from the last installments first and the term shortens.
* **Interest on late interest** (a fund setting, default 0 % a year) runs like penalty interest
  on each overdue installment's unpaid interest and is collected as penalty.
* A **schedule change** (a later tranche, or a restructuring) keeps the installments due before
  it with what was paid on them, and replaces the rest with new installments built on what was
  still owed (:func:`change_basis`); a restructuring also moves the kept installments' unpaid
  principal and interest into the new ones (:func:`apply_change`). Penalty accrued until then
  stays owed.
* A receipt above the **payoff** (everything overdue, penalty to date, current interest accrued
  to date and all principal still owed) is refused with the payoff figure.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final

from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import _, fmt_date, fmt_money
from loanfund.domain.money import MONEY_CONTEXT, round_money


class Component(enum.StrEnum):
    OVERDUE_PRINCIPAL = "overdue_principal"
    OVERDUE_INTEREST = "overdue_interest"
    PENALTY = "penalty"
    CURRENT_INTEREST = "current_interest"
    CURRENT_PRINCIPAL = "current_principal"
    PREPAYMENT = "prepayment"


ORDERS: Final[dict[str, tuple[Component, ...]]] = {
    "principal_first": (
        Component.OVERDUE_PRINCIPAL,
        Component.OVERDUE_INTEREST,
        Component.PENALTY,
        Component.CURRENT_INTEREST,
        Component.CURRENT_PRINCIPAL,
    ),
    "interest_first": (
        Component.PENALTY,
        Component.OVERDUE_INTEREST,
        Component.CURRENT_INTEREST,
        Component.OVERDUE_PRINCIPAL,
        Component.CURRENT_PRINCIPAL,
    ),
}

#: Components that repay principal (the rest is income: interest or penalty).
PRINCIPAL_COMPONENTS: Final = frozenset(
    {Component.OVERDUE_PRINCIPAL, Component.CURRENT_PRINCIPAL, Component.PREPAYMENT}
)


def component_label(component: Component) -> str:
    return {
        Component.OVERDUE_PRINCIPAL: _("Overdue principal"),
        Component.OVERDUE_INTEREST: _("Overdue interest"),
        Component.PENALTY: _("Penalty interest"),
        Component.CURRENT_INTEREST: _("Interest"),
        Component.CURRENT_PRINCIPAL: _("Principal"),
        Component.PREPAYMENT: _("Prepaid principal"),
    }[component]


@dataclass(frozen=True, slots=True)
class Due:
    """One installment of the schedule: when, and how much principal and interest."""

    n: int
    due_on: dt.date
    principal: Decimal
    interest: Decimal
    #: Part of ``interest`` already earned when the installment was made (interest owed at a
    #: schedule change): owed in full from the start, not accrued day by day.
    carried: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Terms:
    """What allocation needs to know about the loan."""

    disbursed_on: dt.date
    annual_rate_pct: Decimal
    overdue_rate_pct_of_rate: Decimal
    order: str = "principal_first"
    days_in_year: int = 365
    digits: int = 0
    prepayment_mode: str = "keep_term"
    #: Interest on overdue interest, % a year (0: none).
    late_interest_rate_pct: Decimal = Decimal(0)


@dataclass(slots=True)
class InstallmentState:
    """What has been paid on one installment, and its penalty so far."""

    due: Due
    period_start: dt.date
    principal_paid: Decimal = Decimal(0)
    interest_paid: Decimal = Decimal(0)
    #: Penalty accrued exactly (unrounded) up to ``accrued_to``, and paid.
    penalty_accrued: Decimal = Decimal(0)
    accrued_to: dt.date | None = None
    penalty_paid: Decimal = Decimal(0)
    #: Interest no longer owed because a prepayment lowered the balance (``keep_term``).
    interest_cut: Decimal = Decimal(0)

    @property
    def interest(self) -> Decimal:
        """The interest owed on this installment, after any prepayment's cut."""
        return self.due.interest - self.interest_cut

    @property
    def principal_left(self) -> Decimal:
        return self.due.principal - self.principal_paid

    @property
    def interest_left(self) -> Decimal:
        return self.interest - self.interest_paid


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one receipt was applied: amounts by component, and by installment."""

    received_on: dt.date
    amount: Decimal
    by_component: dict[Component, Decimal]
    #: ``(installment n, component, amount)`` lines, in the order applied.
    lines: tuple[tuple[int, Component, Decimal], ...] = field(default_factory=tuple)

    @property
    def principal(self) -> Decimal:
        return sum(
            (v for c, v in self.by_component.items() if c in PRINCIPAL_COMPONENTS), Decimal(0)
        )

    @property
    def interest(self) -> Decimal:
        return self.by_component.get(Component.OVERDUE_INTEREST, Decimal(0)) + (
            self.by_component.get(Component.CURRENT_INTEREST, Decimal(0))
        )

    @property
    def penalty(self) -> Decimal:
        return self.by_component.get(Component.PENALTY, Decimal(0))


def state_row(state: InstallmentState) -> list[int | str | None]:
    """One installment's state as a JSON-safe row that keeps every figure exactly (decimals as
    text, the penalty unrounded); :func:`state_from_row` reads it back."""
    due = state.due
    return [
        due.n,
        due.due_on.isoformat(),
        str(due.principal),
        str(due.interest),
        str(due.carried),
        state.period_start.isoformat(),
        str(state.principal_paid),
        str(state.interest_paid),
        str(state.penalty_accrued),
        state.accrued_to.isoformat() if state.accrued_to else None,
        str(state.penalty_paid),
        str(state.interest_cut),
    ]


def state_from_row(row: Sequence[Any]) -> InstallmentState:
    """The state :func:`state_row` wrote."""
    n, due_on, principal, interest, carried, start, p_paid, i_paid, accrued, to, paid, cut = row
    return InstallmentState(
        due=Due(
            int(n),
            dt.date.fromisoformat(due_on),
            Decimal(principal),
            Decimal(interest),
            Decimal(carried),
        ),
        period_start=dt.date.fromisoformat(start),
        principal_paid=Decimal(p_paid),
        interest_paid=Decimal(i_paid),
        penalty_accrued=Decimal(accrued),
        accrued_to=dt.date.fromisoformat(to) if to else None,
        penalty_paid=Decimal(paid),
        interest_cut=Decimal(cut),
    )


def initial_state(dues: Sequence[Due], disbursed_on: dt.date) -> list[InstallmentState]:
    states = []
    start = disbursed_on
    for due in dues:
        states.append(InstallmentState(due=due, period_start=start))
        start = due.due_on
    return states


def _penalty_rates(terms: Terms) -> tuple[Decimal, Decimal]:
    """The overdue rate (rate% × overdue%) and the late-interest rate (× 100), each to be
    divided by 10,000 and the days in the year."""
    return (
        MONEY_CONTEXT.multiply(terms.annual_rate_pct, terms.overdue_rate_pct_of_rate),
        MONEY_CONTEXT.multiply(terms.late_interest_rate_pct, Decimal(100)),
    )


def _penalty_since(
    state: InstallmentState, terms: Terms, day: dt.date, rates: tuple[Decimal, Decimal]
) -> Decimal:
    """The penalty interest an installment past due accrues from where it was accrued to
    (or its due date) until ``day``, unrounded; 0 for one not past due on ``day``."""
    if state.due.due_on >= day:
        return Decimal(0)
    days = (day - (state.accrued_to or state.due.due_on)).days
    if days <= 0:
        return Decimal(0)
    principal_left, interest_left = state.principal_left, state.interest_left
    if principal_left <= 0 and interest_left <= 0:  # settled: nothing to accrue on
        return Decimal(0)
    # principal × rate% × overdue% ÷ 10,000 × days ÷ days in year, exactly; and the unpaid
    # interest × late-interest rate% (× 100 ÷ 10,000) × days ÷ days in year.
    base = MONEY_CONTEXT.add(
        MONEY_CONTEXT.multiply(max(principal_left, Decimal(0)), rates[0]),
        MONEY_CONTEXT.multiply(max(interest_left, Decimal(0)), rates[1]),
    )
    if not base:
        return Decimal(0)
    return MONEY_CONTEXT.divide(
        MONEY_CONTEXT.multiply(base, days), Decimal(10_000 * terms.days_in_year)
    )


def _accrue_penalty(states: Iterable[InstallmentState], terms: Terms, day: dt.date) -> None:
    rates = _penalty_rates(terms)
    for state in states:
        if state.due.due_on >= day:
            continue
        extra = _penalty_since(state, terms, day, rates)
        if extra:
            state.penalty_accrued += extra
        state.accrued_to = day


def _penalty_due(state: InstallmentState, terms: Terms, extra: Decimal = Decimal(0)) -> Decimal:
    """The penalty an installment owes: what it accrued (plus ``extra`` not yet added),
    rounded, less what was paid."""
    accrued = state.penalty_accrued + extra if extra else state.penalty_accrued
    if not accrued:
        return Decimal(0)
    return max(round_money(accrued, terms.digits) - state.penalty_paid, Decimal(0))


def _current(states: Sequence[InstallmentState], day: dt.date) -> InstallmentState | None:
    return next(
        (
            state
            for state in states
            if state.due.due_on >= day and (state.principal_left > 0 or state.interest_left > 0)
        ),
        None,
    )


def accrued_interest(state: InstallmentState, terms: Terms, day: dt.date) -> Decimal:
    """An installment's interest accrued to ``day`` (all of it on the due date), paid or not."""
    period = (state.due.due_on - state.period_start).days
    elapsed = (day - state.period_start).days
    carried = min(state.due.carried, state.interest)
    if day >= state.due.due_on or period <= 0:
        accrued = state.interest
    elif elapsed <= 0:
        accrued = carried
    else:
        accrued = carried + round_money(
            MONEY_CONTEXT.divide(MONEY_CONTEXT.multiply(state.interest - carried, elapsed), period),
            terms.digits,
        )
    return accrued


def _current_interest_due(state: InstallmentState, terms: Terms, day: dt.date) -> Decimal:
    """The current installment's interest accrued to ``day`` and not yet paid."""
    return max(accrued_interest(state, terms, day) - state.interest_paid, Decimal(0))


@dataclass(frozen=True, slots=True)
class Payoff:
    """Everything that settles the loan on a day, by component."""

    day: dt.date
    by_component: dict[Component, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.by_component.values(), Decimal(0))


def penalty_owed(states: Sequence[InstallmentState], terms: Terms, day: dt.date) -> Decimal:
    """The penalty interest owed on ``day``: each installment's accrued to that day, rounded,
    less what was paid on it (the states are not changed)."""
    # The penalty to ``day`` is reckoned beside each state, not added to it: nothing is copied.
    rates = _penalty_rates(terms)
    return sum(
        (_penalty_due(s, terms, _penalty_since(s, terms, day, rates)) for s in states), Decimal(0)
    )


def payoff(states: Sequence[InstallmentState], terms: Terms, day: dt.date) -> Payoff:
    """What repays the loan in full on ``day`` (the states are not changed)."""
    overdue = [s for s in states if s.due.due_on < day]
    current = _current(states, day)
    parts = {
        Component.OVERDUE_PRINCIPAL: sum((s.principal_left for s in overdue), Decimal(0)),
        Component.OVERDUE_INTEREST: sum((s.interest_left for s in overdue), Decimal(0)),
        Component.PENALTY: penalty_owed(states, terms, day),
        Component.CURRENT_INTEREST: _current_interest_due(current, terms, day)
        if current
        else Decimal(0),
        Component.CURRENT_PRINCIPAL: sum(
            (s.principal_left for s in states if s.due.due_on >= day), Decimal(0)
        ),
    }
    return Payoff(day, parts)


def allocate(
    states: Sequence[InstallmentState],
    terms: Terms,
    received_on: dt.date,
    amount: Decimal,
    *,
    posted: bool = False,
) -> Allocation:
    """Apply a receipt to the loan (changing ``states``) and say where each đồng went.

    Args:
        posted: the receipt is one already posted, being replayed: it was checked against the
            payoff when it was recorded, so the payoff is not worked out again.

    Raises:
        RuleViolation: a receipt of zero or less, or more than the payoff on that day.
    """
    if amount <= 0:
        raise RuleViolation(_("The amount received must be more than zero."))
    quote = None if posted else payoff(states, terms, received_on)
    if quote is not None and amount > quote.total:
        raise RuleViolation(
            _(
                "%(amount)s is more than everything the loan owes on %(day)s: the payoff is "
                "%(payoff)s.",
                amount=fmt_money(amount),
                day=fmt_date(received_on),
                payoff=fmt_money(quote.total),
            )
        )
    _accrue_penalty(states, terms, received_on)
    left = amount
    by_component: dict[Component, Decimal] = {}
    lines: list[tuple[int, Component, Decimal]] = []

    def pay(state: InstallmentState, component: Component, owed: Decimal) -> None:
        nonlocal left
        take = min(owed, left)
        if take <= 0:
            return
        left -= take
        by_component[component] = by_component.get(component, Decimal(0)) + take
        lines.append((state.due.n, component, take))
        if component in PRINCIPAL_COMPONENTS:
            state.principal_paid += take
        elif component is Component.PENALTY:
            state.penalty_paid += take
        else:
            state.interest_paid += take

    overdue = [s for s in states if s.due.due_on < received_on]
    current = _current(states, received_on)
    # Once the receipt is spent nothing more is paid: the loops stop there (a replay of a
    # loan's history allocates every receipt again, most of them spent on the first lines).
    for component in ORDERS[terms.order]:
        if left <= 0:
            break
        # (``pay`` takes nothing where nothing is owed: settled installments are passed by.)
        if component is Component.OVERDUE_PRINCIPAL:
            for state in overdue:
                if left <= 0:
                    break
                owed = state.principal_left
                if owed > 0:
                    pay(state, component, owed)
        elif component is Component.OVERDUE_INTEREST:
            for state in overdue:
                if left <= 0:
                    break
                owed = state.interest_left
                if owed > 0:
                    pay(state, component, owed)
        elif component is Component.PENALTY:
            for state in states:
                if left <= 0:
                    break
                if state.penalty_accrued:
                    pay(state, component, _penalty_due(state, terms))
        elif component is Component.CURRENT_INTEREST and current is not None:
            pay(current, component, _current_interest_due(current, terms, received_on))
        elif component is Component.CURRENT_PRINCIPAL and current is not None:
            pay(current, component, current.principal_left)
    if left > 0:
        _prepay(states, terms, received_on, left, pay, current)
    assert left == 0, "a receipt within the payoff is always fully allocated"
    return Allocation(received_on, amount, by_component, tuple(lines))


def _shares(weights: Sequence[Decimal], total: Decimal, digits: int) -> list[Decimal]:
    """``total`` split in proportion to ``weights``, each share rounded, summing to ``total``
    exactly and never above its weight (``total`` ≤ Σ weights)."""
    whole = sum(weights, Decimal(0))
    shares: list[Decimal] = []
    before = Decimal(0)
    running = Decimal(0)
    for weight in weights:
        running += weight
        upto = round_money(
            MONEY_CONTEXT.divide(MONEY_CONTEXT.multiply(total, running), whole), digits
        )
        shares.append(upto - before)
        before = upto
    # Rounding may put a unit above a weight: move it to the next share with room.
    spill = Decimal(0)
    for index, weight in enumerate(weights):
        shares[index] += spill
        spill = max(shares[index] - weight, Decimal(0))
        shares[index] -= spill
    for index in reversed(range(len(weights))):
        if spill <= 0:
            break
        room = weights[index] - shares[index]
        take = min(room, spill)
        shares[index] += take
        spill -= take
    return shares


def _prepay(
    states: Sequence[InstallmentState],
    terms: Terms,
    day: dt.date,
    amount: Decimal,
    pay: Callable[[InstallmentState, Component, Decimal], None],
    current: InstallmentState | None,
) -> None:
    """Prepay ``amount`` of principal on the installments to come, and lower their interest.

    ``keep_term`` shares it by their principal; ``shorten_term`` takes it from the last one
    back. Either way, the interest of each installment after the current one falls by the
    share of its period's balance that was prepaid: the balance in installment j's period is
    the principal of installments j, j+1, … still owed, so its interest is cut by
    interest × (prepaid on j, j+1, …) ÷ (principal owed on j, j+1, … before the prepayment),
    rounded. (The current period keeps its interest: the prepayment counts from the next.)
    """
    coming = [s for s in states if s.due.due_on >= day]
    before = [max(s.principal_left, Decimal(0)) for s in coming]
    if terms.prepayment_mode == "keep_term":
        shares = _shares(before, amount, terms.digits)
    else:
        shares, left = [], amount
        for owed in reversed(before):
            shares.append(min(owed, left))
            left -= shares[-1]
        shares.reverse()
    for state, share in zip(coming, shares, strict=True):
        pay(state, Component.PREPAYMENT, share)
    owed_from = prepaid_from = Decimal(0)
    for state, owed, share in reversed(list(zip(coming, before, shares, strict=True))):
        owed_from += owed
        prepaid_from += share
        if current is None or state.due.due_on <= current.due.due_on or not prepaid_from:
            continue
        # Interest carried in from a schedule change was earned before: it is not cut.
        base = state.interest_left - max(state.due.carried - state.interest_paid, Decimal(0))
        cut = round_money(
            MONEY_CONTEXT.divide(
                MONEY_CONTEXT.multiply(max(base, Decimal(0)), prepaid_from), owed_from
            ),
            terms.digits,
        )
        state.interest_cut += min(cut, max(base, Decimal(0)))


@dataclass(frozen=True, slots=True)
class ChangeBasis:
    """What a schedule change on ``day`` starts from.

    Attributes:
        kept: how many installments (the first ones) stay as they are.
        principal: the principal the new installments must carry.
        interest: interest owed at the change that the new installments must carry.
    """

    day: dt.date
    kept: int
    principal: Decimal
    interest: Decimal


def change_basis(
    states: Sequence[InstallmentState], terms: Terms, day: dt.date, *, restructure: bool
) -> ChangeBasis:
    """What new installments from ``day`` must carry, from the loan's replayed ``states``.

    * A **later tranche** keeps the installments due on or before ``day``; the new ones carry
      the principal still owed on the others and the current installment's interest accrued to
      ``day`` and not yet paid (the tranche is added by the caller).
    * A **restructuring** keeps the installments due before ``day`` but settles them: the new
      installments carry every unpaid principal, and the first of them the kept installments'
      unpaid interest and the current installment's interest accrued to ``day``.

    Either way the payoff on ``day`` is unchanged (plus the tranche).
    """
    kept = sum(1 for s in states if (s.due.due_on < day if restructure else s.due.due_on <= day))
    rest = states[kept:]
    # The installment whose period the change falls in: its interest accrued so far is owed.
    accrued = _current_interest_due(rest[0], terms, day) if rest else Decimal(0)
    principal = sum((s.principal_left for s in (states if restructure else rest)), Decimal(0))
    interest = accrued
    if restructure:
        interest += sum((s.interest_left for s in states[:kept]), Decimal(0))
    return ChangeBasis(day, kept, principal, interest)


@dataclass(frozen=True, slots=True)
class Change:
    """A schedule change as the replay applies it: from ``day``, the first ``kept``
    installments stay and ``dues`` follow; ``settle`` (a restructuring) moves the kept
    installments' unpaid principal and interest into ``dues``."""

    day: dt.date
    kept: int
    dues: tuple[Due, ...]
    settle: bool
    #: Where the first new installment's interest period starts.
    accrues_from: dt.date


def apply_change(
    states: Sequence[InstallmentState], terms: Terms, change: Change
) -> list[InstallmentState]:
    """The installments after ``change``: the kept ones with what was paid on them (and the
    penalty accrued to the change's day), then the new ones, unpaid."""
    _accrue_penalty(states, terms, change.day)
    kept = list(states[: change.kept])
    if change.settle:
        for state in kept:
            state.due = replace(
                state.due, principal=state.principal_paid, interest=state.interest_paid
            )
            state.interest_cut = Decimal(0)
    fresh = initial_state(change.dues, change.accrues_from)
    return kept + fresh


def installment_status(state: InstallmentState, day: dt.date) -> str:
    """``paid``, ``partly_paid``, ``overdue`` or ``due`` (not yet due, nothing paid)."""
    if state.principal_left <= 0 and state.interest_left <= 0:
        return "paid"
    if state.due.due_on < day:
        return "overdue"
    if state.principal_paid > 0 or state.interest_paid > 0:
        return "partly_paid"
    return "due"
