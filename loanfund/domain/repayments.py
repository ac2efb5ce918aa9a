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
  of it.
* **Allocation order** (a fund setting): ``principal_first`` — the Vietnamese rule on overdue
  debt: overdue principal, overdue interest, penalty, current interest, current principal —
  or ``interest_first``: penalty, overdue interest, current interest, overdue principal, current
  principal. Within a component the oldest installment is paid first.
* What is left is a **prepayment** of principal, taken from the last installments first
  (the term shortens; a fund keeping the term regenerates the schedule from the new balance).
* A receipt above the **payoff** (everything overdue, penalty to date, current interest accrued
  to date and all principal still owed) is refused with the payoff figure.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final

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


@dataclass(frozen=True, slots=True)
class Terms:
    """What allocation needs to know about the loan."""

    disbursed_on: dt.date
    annual_rate_pct: Decimal
    overdue_rate_pct_of_rate: Decimal
    order: str = "principal_first"
    days_in_year: int = 365
    digits: int = 0


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

    @property
    def principal_left(self) -> Decimal:
        return self.due.principal - self.principal_paid

    @property
    def interest_left(self) -> Decimal:
        return self.due.interest - self.interest_paid


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


def initial_state(dues: Sequence[Due], disbursed_on: dt.date) -> list[InstallmentState]:
    states = []
    start = disbursed_on
    for due in dues:
        states.append(InstallmentState(due=due, period_start=start))
        start = due.due_on
    return states


def _accrue_penalty(states: Iterable[InstallmentState], terms: Terms, day: dt.date) -> None:
    rate = MONEY_CONTEXT.multiply(terms.annual_rate_pct, terms.overdue_rate_pct_of_rate)
    for state in states:
        if state.due.due_on >= day or state.principal_left <= 0:
            if state.due.due_on < day:
                state.accrued_to = day
            continue
        since = state.accrued_to or state.due.due_on
        days = (day - since).days
        if days > 0:
            # principal × rate% × overdue% ÷ 10,000 × days ÷ days in year, exactly.
            increment = MONEY_CONTEXT.divide(
                MONEY_CONTEXT.multiply(MONEY_CONTEXT.multiply(state.principal_left, rate), days),
                Decimal(10_000 * terms.days_in_year),
            )
            state.penalty_accrued += increment
        state.accrued_to = day


def _penalty_due(state: InstallmentState, terms: Terms) -> Decimal:
    return max(round_money(state.penalty_accrued, terms.digits) - state.penalty_paid, Decimal(0))


def _current(states: Sequence[InstallmentState], day: dt.date) -> InstallmentState | None:
    return next(
        (
            state
            for state in states
            if state.due.due_on >= day and (state.principal_left > 0 or state.interest_left > 0)
        ),
        None,
    )


def _current_interest_due(state: InstallmentState, terms: Terms, day: dt.date) -> Decimal:
    """The current installment's interest accrued to ``day`` (all of it on the due date)."""
    period = (state.due.due_on - state.period_start).days
    elapsed = (day - state.period_start).days
    if day >= state.due.due_on or period <= 0:
        accrued = state.due.interest
    elif elapsed <= 0:
        accrued = Decimal(0)
    else:
        accrued = round_money(
            MONEY_CONTEXT.divide(MONEY_CONTEXT.multiply(state.due.interest, elapsed), period),
            terms.digits,
        )
    return max(accrued - state.interest_paid, Decimal(0))


@dataclass(frozen=True, slots=True)
class Payoff:
    """Everything that settles the loan on a day, by component."""

    day: dt.date
    by_component: dict[Component, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.by_component.values(), Decimal(0))


def payoff(states: Sequence[InstallmentState], terms: Terms, day: dt.date) -> Payoff:
    """What repays the loan in full on ``day`` (the states are not changed)."""
    work = [replace(state) for state in states]
    _accrue_penalty(work, terms, day)
    overdue = [s for s in work if s.due.due_on < day]
    current = _current(work, day)
    parts = {
        Component.OVERDUE_PRINCIPAL: sum((s.principal_left for s in overdue), Decimal(0)),
        Component.OVERDUE_INTEREST: sum((s.interest_left for s in overdue), Decimal(0)),
        Component.PENALTY: sum((_penalty_due(s, terms) for s in work), Decimal(0)),
        Component.CURRENT_INTEREST: _current_interest_due(current, terms, day)
        if current
        else Decimal(0),
        Component.CURRENT_PRINCIPAL: sum(
            (s.principal_left for s in work if s.due.due_on >= day), Decimal(0)
        ),
    }
    return Payoff(day, parts)


def allocate(
    states: Sequence[InstallmentState], terms: Terms, received_on: dt.date, amount: Decimal
) -> Allocation:
    """Apply a receipt to the loan (changing ``states``) and say where each đồng went.

    Raises:
        RuleViolation: a receipt of zero or less, or more than the payoff on that day.
    """
    if amount <= 0:
        raise RuleViolation(_("The amount received must be more than zero."))
    quote = payoff(states, terms, received_on)
    if amount > quote.total:
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
    for component in ORDERS[terms.order]:
        if component is Component.OVERDUE_PRINCIPAL:
            for state in overdue:
                pay(state, component, state.principal_left)
        elif component is Component.OVERDUE_INTEREST:
            for state in overdue:
                pay(state, component, state.interest_left)
        elif component is Component.PENALTY:
            for state in states:
                pay(state, component, _penalty_due(state, terms))
        elif component is Component.CURRENT_INTEREST and current is not None:
            pay(current, component, _current_interest_due(current, terms, received_on))
        elif component is Component.CURRENT_PRINCIPAL and current is not None:
            pay(current, component, current.principal_left)
    # The rest prepays principal, from the last installment back (the term shortens).
    for state in reversed(states):
        if left <= 0:
            break
        if state.due.due_on >= received_on:
            pay(state, Component.PREPAYMENT, state.principal_left)
    assert left == 0, "a receipt within the payoff is always fully allocated"
    return Allocation(received_on, amount, by_component, tuple(lines))


def installment_status(state: InstallmentState, day: dt.date) -> str:
    """``paid``, ``partly_paid``, ``overdue`` or ``due`` (not yet due, nothing paid)."""
    if state.principal_left <= 0 and state.interest_left <= 0:
        return "paid"
    if state.due.due_on < day:
        return "overdue"
    if state.principal_paid > 0 or state.interest_paid > 0:
        return "partly_paid"
    return "due"
