"""Ageing, debt groups, provisions and portfolio at risk (DESIGN §3), as pure functions.

* **Days past due** on a day D: the days since the oldest installment due before D that is not
  fully paid (principal or interest); 0 when none is.
* **Debt group** (1 to 5) by days past due against the fund's thresholds (default G2 from 10
  days, G3 from 30, G4 from 90, G5 from 180), raised to the restructuring floor (a first
  restructuring: at least G2; a second: G4; a third or more: G5). All the loans of one
  borrower then take the worst group among them. Bad debt is G3–G5.
* **Provisions**: specific = the group's rate × the outstanding principal; general = the
  general rate × the outstanding principal of loans in groups 1 to 4 (a G5 loan is provided
  for in full by its specific provision). Each rounded once, per loan, to the currency unit.
* **Portfolio at risk** (balance-weighted): outstanding principal of loans with any
  installment more than 30 (90) days past due ÷ gross outstanding principal.
* **Interest earned** to D: the interest of every installment due on or before D, and the
  current installment's interest accrued to D (the same daily accrual as an early payment).
  For a G1 loan what is earned and not yet paid is income on the books (interest
  receivable); for the others it is tracked off the books until paid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from loanfund.domain.money import MONEY_CONTEXT, round_money
from loanfund.domain.repayments import InstallmentState, Terms, accrued_interest

GROUPS = (1, 2, 3, 4, 5)
BAD_DEBT_GROUPS = frozenset({3, 4, 5})


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Days past due from which a loan is in groups 2, 3, 4 and 5."""

    group2: int = 10
    group3: int = 30
    group4: int = 90
    group5: int = 180


def days_past_due(states: Sequence[InstallmentState], day: dt.date) -> int:
    """Days since the oldest installment due before ``day`` and not fully paid."""
    for state in states:
        if state.due.due_on >= day:
            return 0
        if state.principal_left > 0 or state.interest_left > 0:
            return (day - state.due.due_on).days
    return 0


def group_by_days(days: int, thresholds: Thresholds) -> int:
    """The debt group the days past due alone put a loan in."""
    for group, start in (
        (5, thresholds.group5),
        (4, thresholds.group4),
        (3, thresholds.group3),
        (2, thresholds.group2),
    ):
        if days >= start:
            return group
    return 1


def restructure_floor(count: int) -> int:
    """The lowest group a loan restructured ``count`` times may be in."""
    return {0: 1, 1: 2, 2: 4}.get(count, 5)


def loan_group(days: int, restructure_count: int, thresholds: Thresholds) -> int:
    """The loan's own group: by days past due, at least its restructuring floor."""
    return max(group_by_days(days, thresholds), restructure_floor(restructure_count))


def borrower_groups(own: Mapping[int, tuple[int, int]]) -> dict[int, int]:
    """Each loan's group once every loan of a borrower takes the worst group among them.

    Args:
        own: loan id → (borrower id, the loan's own group).
    """
    worst: dict[int, int] = {}
    for borrower, group in own.values():
        worst[borrower] = max(worst.get(borrower, 1), group)
    return {loan: worst[borrower] for loan, (borrower, _group) in own.items()}


def specific_provision(
    outstanding: Decimal, group: int, rates: Mapping[int, Decimal], digits: int
) -> Decimal:
    """The group's rate (percent) × the outstanding principal, rounded."""
    return round_money(MONEY_CONTEXT.multiply(outstanding, rates[group]) / 100, digits)


def general_provision(outstanding: Decimal, group: int, rate: Decimal, digits: int) -> Decimal:
    """The general rate (percent) × the outstanding principal for groups 1 to 4; 0 for G5."""
    if group == 5:
        return Decimal(0)
    return round_money(MONEY_CONTEXT.multiply(outstanding, rate) / 100, digits)


def interest_earned(states: Sequence[InstallmentState], terms: Terms, day: dt.date) -> Decimal:
    """Interest earned to ``day``: installments due on or before it in full, and the current
    one's accrued to it."""
    earned = Decimal(0)
    for state in states:
        if state.due.due_on <= day:
            earned += state.interest
        else:
            earned += accrued_interest(state, terms, day)
            break
    return earned


def interest_paid(states: Iterable[InstallmentState]) -> Decimal:
    return sum((state.interest_paid for state in states), Decimal(0))


@dataclass(frozen=True, slots=True)
class LoanFigures:
    """One loan's figures at the close of a day, for the snapshot."""

    loan_id: int
    outstanding: Decimal
    days_past_due: int
    group: int


@dataclass(frozen=True, slots=True)
class PortfolioFigures:
    """The portfolio on a day: outstanding and counts by group, PAR30 and PAR90 (percent)."""

    outstanding: Decimal
    by_group: dict[int, Decimal]
    count_by_group: dict[int, int]
    par30_pct: Decimal
    par90_pct: Decimal
    bad_debt_pct: Decimal


def portfolio(loans: Iterable[LoanFigures]) -> PortfolioFigures:
    """Outstanding by group and the ratios at risk (each ratio to 2 decimals, half up)."""
    by_group = dict.fromkeys(GROUPS, Decimal(0))
    counts = dict.fromkeys(GROUPS, 0)
    total = at_risk30 = at_risk90 = Decimal(0)
    for loan in loans:
        by_group[loan.group] += loan.outstanding
        counts[loan.group] += 1
        total += loan.outstanding
        if loan.days_past_due > 30:
            at_risk30 += loan.outstanding
        if loan.days_past_due > 90:
            at_risk90 += loan.outstanding
    bad = sum((by_group[g] for g in BAD_DEBT_GROUPS), Decimal(0))

    def pct(part: Decimal) -> Decimal:
        if total <= 0:
            return Decimal(0)
        return round_money(MONEY_CONTEXT.divide(part * 100, total), 2)

    return PortfolioFigures(total, by_group, counts, pct(at_risk30), pct(at_risk90), pct(bad))
