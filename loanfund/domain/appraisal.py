"""Appraisal maths: a project's cash flows against the loan's schedule, and a risk scorecard.

An officer appraising an application enters the project's figures (:class:`ProjectFigures`: total
cost, the cooperative's own equity, and revenue and operating costs for each projected year);
:func:`check_project` lists every problem with them at once. :func:`analyse` sets them against
the loan's repayment schedule and gives a :class:`FinancialAnalysis`; :func:`explain_analysis`
writes the arithmetic of every figure in sentences with the numbers, for the appraisal report and
for auditors. :func:`score` turns the analysis and the rest of the appraisal into a transparent
:class:`Scorecard`: points per factor, a total out of 100 and a risk grade, each with its reason.

Conventions (each one is what :func:`explain_analysis` says when it applies):

* **Years.** Project year ``t`` is the ``t``-th twelve months after the disbursement: it runs
  from ``add_months(disbursed_on, 12 × (t − 1))`` to ``add_months(disbursed_on, 12 × t)``,
  both stepped from the disbursement date itself (31 Jan → 31 Jan; 29 Feb 2024 → 28 Feb 2025).
  Its net cash flow is revenue − operating costs; it is taken as received by the year's end.
* **Debt service** of year ``t`` is Σ ``total`` of the installments due *after* the year's start
  and *on or before* its end. An installment due on an anniversary of the disbursement belongs
  to the year that ends on it: the 12th monthly installment (or the 1st yearly one) is paid out
  of the first year's cash flow. Installments due after the last projected year are not covered
  by the projections; :attr:`FinancialAnalysis.findings` says how many and how much.
* **DSCR** (debt-service coverage ratio) of year ``t``: net cash flow ÷ debt service; a year
  with no debt service has none (``None``). The lowest and the average are over the years that
  have one.
* **NPV** at the discount rate ``r``: ``−total cost + Σ net_t ÷ (1 + r)^t``, computed in
  :data:`ANALYSIS_CONTEXT` (60 significant digits) and rounded once, half-up, to the currency.
* **IRR** is the rate at which that NPV is zero. It is a ratio, never money: numpy-financial
  finds it in binary floating point (the one place floats are used, converted from and back to
  ``Decimal`` through decimal strings), and it is rounded half-up to 2 decimals of a percent.
  When several rates give a zero NPV (net cash flows that change sign more than once),
  numpy-financial returns the one closest to zero; when none does, there is no IRR (``None``).
* **Payback** is undiscounted: the years until the cumulative net cash flow first reaches the
  total cost, interpolated linearly within the year it does, rounded half-up to 1 decimal.
* **Ratios** (equity ratio, DSCR, averages) are rounded half-up to 2 decimals; the average DSCR
  is the mean of the rounded yearly DSCRs shown, so its arithmetic can be redone by hand.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy_financial as npf

from loanfund.domain import calendar
from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import _, fmt_date, fmt_money, fmt_number
from loanfund.domain.money import MONEY_CONTEXT, MoneyTypeError, is_whole_in, round_money
from loanfund.domain.schedule import Schedule

#: The longest projection an appraisal may hold, in years.
MAX_PROJECTION_YEARS: Final = 30
#: Decimal context of the analysis: 60 significant digits, so that discounting over
#: :data:`MAX_PROJECTION_YEARS` of the largest amounts loses nothing the final rounding keeps.
ANALYSIS_CONTEXT: Final = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
#: Decimal places of percentages and coverage ratios.
RATIO_PLACES: Final = 2
#: Decimal places of the payback period, in years.
PAYBACK_PLACES: Final = 1
#: Decimal places a discount factor is shown with in :func:`explain_analysis`.
FACTOR_PLACES: Final = 6

_HUNDRED: Final = Decimal(100)
_ONE: Final = Decimal(1)


def _exact(owner: str, name: str, value: object) -> Decimal:
    """``value`` as a finite ``Decimal``; floats and other inexact values are refused."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise MoneyTypeError(
            f"{owner}.{name} must be a Decimal or an int, not {type(value).__name__} {value!r}."
        )
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{owner}.{name} must be a finite number, not {value}.")
    return result


def _whole_number(owner: str, name: str, value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"{owner}.{name} must be an int, not {type(value).__name__}.")
    return value


def _round_ratio(value: Decimal, places: int) -> Decimal:
    """A ratio (not money) rounded half-up to ``places`` decimals, by the one rounding function."""
    return round_money(value, places)


def _pct(value: Decimal) -> str:
    """A percentage for a sentence, e.g. ``35.5%`` (``35,5%`` in Vietnamese)."""
    return f"{fmt_number(value)}%"


# --------------------------------------------------------------------------------------------
# The project's figures


@dataclass(frozen=True, slots=True)
class CashFlowYear:
    """One projected year of the financed project.

    Attributes:
        year: 1 for the first twelve months after the disbursement, 2 for the next, …
        revenue: the project's cash receipts in the year.
        operating_costs: its cash operating costs in the year (not the loan's repayments).
    """

    year: int
    revenue: Decimal
    operating_costs: Decimal

    def __post_init__(self) -> None:
        _whole_number("CashFlowYear", "year", self.year)
        for name in ("revenue", "operating_costs"):
            object.__setattr__(self, name, _exact("CashFlowYear", name, getattr(self, name)))

    @property
    def net_cash_flow(self) -> Decimal:
        """Revenue − operating costs, exact."""
        return MONEY_CONTEXT.subtract(self.revenue, self.operating_costs)


@dataclass(frozen=True, slots=True)
class ProjectFigures:
    """What the loan finances, as the officer appraises it.

    Attributes:
        total_cost: the project's total investment cost.
        own_equity: the part the cooperative pays from its own funds.
        cash_flows: the projected years, year 1 first.
    """

    total_cost: Decimal
    own_equity: Decimal
    cash_flows: tuple[CashFlowYear, ...]

    def __post_init__(self) -> None:
        for name in ("total_cost", "own_equity"):
            object.__setattr__(self, name, _exact("ProjectFigures", name, getattr(self, name)))
        flows = tuple(self.cash_flows)
        for flow in flows:
            if not isinstance(flow, CashFlowYear):
                raise TypeError(
                    f"ProjectFigures.cash_flows must hold CashFlowYear, not {type(flow).__name__}."
                )
        object.__setattr__(self, "cash_flows", flows)


def check_project(project: ProjectFigures, *, currency_digits: int | None = None) -> list[str]:
    """Every problem with a project's figures, as sentences with the numbers.

    Rules: the total cost is more than zero; own equity is between zero and the total cost; the
    projection covers 1 to :data:`MAX_PROJECTION_YEARS` years numbered 1, 2, … in order; no
    revenue or operating cost is negative; and, when ``currency_digits`` is given, no amount has
    more decimals than the currency.

    Args:
        project: the figures to check.
        currency_digits: minor-unit digits of the fund's currency, or ``None`` not to check them.

    Returns:
        The problems, in the order of the fields; empty when the figures are sound.
    """
    problems: list[str] = []
    amounts = [
        (_("The total project cost"), project.total_cost),
        (_("Own equity"), project.own_equity),
    ]
    for flow in project.cash_flows:
        amounts.append(
            (_("The revenue of year %(year)s", year=fmt_number(flow.year)), flow.revenue)
        )
        amounts.append(
            (
                _("The operating costs of year %(year)s", year=fmt_number(flow.year)),
                flow.operating_costs,
            )
        )
    cost, equity = project.total_cost, project.own_equity
    if cost <= 0:
        problems.append(
            _("The total project cost must be more than zero, not %(cost)s.", cost=fmt_money(cost))
        )
    if equity > cost > 0:
        problems.append(
            _(
                "Own equity of %(equity)s cannot exceed the total project cost of %(cost)s.",
                equity=fmt_money(equity),
                cost=fmt_money(cost),
            )
        )
    count = len(project.cash_flows)
    if count == 0:
        problems.append(_("Give the projected cash flows of at least one year."))
    elif count > MAX_PROJECTION_YEARS:
        problems.append(
            _(
                "The projection covers %(count)s years; at most %(max)s are allowed.",
                count=fmt_number(count),
                max=fmt_number(MAX_PROJECTION_YEARS),
            )
        )
    years = [flow.year for flow in project.cash_flows]
    if years != list(range(1, count + 1)):
        problems.append(
            _(
                "The projected years must be numbered 1 to %(count)s in order, not %(years)s.",
                count=fmt_number(count),
                years=", ".join(fmt_number(year) for year in years),
            )
        )
    for label, amount in amounts[1:]:
        if amount < 0:
            problems.append(
                _(
                    "%(label)s cannot be negative (%(amount)s).",
                    label=label,
                    amount=fmt_money(amount),
                )
            )
    if currency_digits is not None:
        for label, amount in amounts:
            if not is_whole_in(amount, currency_digits):
                problems.append(
                    _(
                        "%(label)s: %(amount)s has more decimals than the currency allows.",
                        label=label,
                        amount=fmt_money(amount),
                    )
                )
    return problems


# --------------------------------------------------------------------------------------------
# Financial analysis


@dataclass(frozen=True, slots=True)
class AnalysisYear:
    """One projected year of a :class:`FinancialAnalysis`.

    Attributes:
        year: 1, 2, …
        starts_on: the disbursement date or its anniversary the year starts from; an installment
            due on it belongs to the year before.
        ends_on: the anniversary the year ends on; an installment due on it belongs to this year.
        revenue: as projected.
        operating_costs: as projected.
        net_cash_flow: revenue − operating costs.
        present_value: ``net_cash_flow ÷ (1 + r)^year``, rounded to the currency for display (the
            NPV sums the unrounded values).
        cumulative_net_cash_flow: Σ net cash flow of years 1 to ``year``.
        installments_due: how many installments fall due in the year.
        debt_service: Σ total of those installments.
        dscr: net cash flow ÷ debt service, 2 decimals; ``None`` when nothing falls due.
    """

    year: int
    starts_on: dt.date
    ends_on: dt.date
    revenue: Decimal
    operating_costs: Decimal
    net_cash_flow: Decimal
    present_value: Decimal
    cumulative_net_cash_flow: Decimal
    installments_due: int
    debt_service: Decimal
    dscr: Decimal | None


@dataclass(frozen=True, slots=True)
class FinancialAnalysis:
    """A project's figures set against the loan's schedule (see the module's conventions).

    Attributes:
        total_cost: the project's total cost.
        own_equity: the cooperative's own equity in it.
        disbursed_on: the date the years are counted from.
        discount_rate_pct: the discount rate of the NPV, percent per year.
        currency_digits: minor-unit digits amounts are rounded to.
        years: each projected year's figures.
        net_cash_flows: the yearly net cash flows (revenue − operating costs), year 1 first.
        npv: net present value at the discount rate, rounded to the currency.
        irr_pct: internal rate of return in percent, 2 decimals; ``None`` when there is none.
        payback_years: undiscounted payback period in years, 1 decimal; ``None`` when the
            projection never repays the cost.
        equity_ratio_pct: own equity ÷ total cost × 100, 2 decimals.
        dscr_min: the lowest yearly DSCR; ``None`` when no year has debt service.
        dscr_avg: the mean of the yearly DSCRs, 2 decimals; ``None`` likewise.
        uncovered_installments: installments due after the last projected year.
        uncovered_total: Σ total of those installments.
        findings: sentences on what the officer must look at: years whose net cash flow does
            not cover their debt service, and installments beyond the projection.
    """

    total_cost: Decimal
    own_equity: Decimal
    disbursed_on: dt.date
    discount_rate_pct: Decimal
    currency_digits: int
    years: tuple[AnalysisYear, ...]
    net_cash_flows: tuple[Decimal, ...]
    npv: Decimal
    irr_pct: Decimal | None
    payback_years: Decimal | None
    equity_ratio_pct: Decimal
    dscr_min: Decimal | None
    dscr_avg: Decimal | None
    uncovered_installments: int
    uncovered_total: Decimal
    findings: tuple[str, ...]

    @property
    def dscr_by_year(self) -> tuple[Decimal | None, ...]:
        """Each projected year's DSCR (``None`` for a year with no debt service)."""
        return tuple(year.dscr for year in self.years)


def analyse(
    project: ProjectFigures,
    schedule: Schedule,
    *,
    disbursed_on: dt.date,
    discount_rate_pct: Decimal,
    currency_digits: int,
) -> FinancialAnalysis:
    """Set a project's projected cash flows against the loan's schedule.

    Args:
        project: the project's figures.
        schedule: the loan's repayment schedule (proposed or contracted).
        disbursed_on: the (planned) disbursement date the project years are counted from.
        discount_rate_pct: the NPV's discount rate, percent per year, 0–100.
        currency_digits: minor-unit digits of the fund's currency (VND 0, USD 2).

    Returns:
        The analysis; :func:`explain_analysis` tells the arithmetic of every figure.

    Raises:
        RuleViolation: listing every problem with the figures (see :func:`check_project`), a
            discount rate outside 0–100 % and installments due on or before ``disbursed_on``.
        MoneyTypeError: for a float discount rate.
    """
    if type(disbursed_on) is not dt.date:
        raise TypeError(f"disbursed_on must be a date, not {type(disbursed_on).__name__}.")
    _whole_number("analyse", "currency_digits", currency_digits)
    rate_pct = _exact("analyse", "discount_rate_pct", discount_rate_pct)
    problems = check_project(project, currency_digits=currency_digits)
    if not 0 <= rate_pct <= _HUNDRED:
        problems.append(
            _(
                "The discount rate must be between 0%% and 100%%, not %(rate)s.",
                rate=_pct(rate_pct),
            )
        )
    installments = schedule.installments
    for row in installments:
        if row.due_on <= disbursed_on:
            problems.append(
                _(
                    "Installment %(n)s falls due on %(due_on)s, not after the disbursement on "
                    "%(disbursed_on)s.",
                    n=fmt_number(row.n),
                    due_on=fmt_date(row.due_on),
                    disbursed_on=fmt_date(disbursed_on),
                )
            )
            break
    if problems:
        raise RuleViolation(problems)

    cost, digits = project.total_cost, currency_digits
    with decimal.localcontext(ANALYSIS_CONTEXT):
        growth = 1 + rate_pct / _HUNDRED
        nets = tuple(flow.net_cash_flow for flow in project.cash_flows)
        present_values = [net / growth**t for t, net in enumerate(nets, 1)]
        npv = round_money(-cost + sum(present_values, Decimal(0)), digits)

        years: list[AnalysisYear] = []
        cumulative = Decimal(0)
        payback: Decimal | None = None
        for flow, net, present_value in zip(project.cash_flows, nets, present_values, strict=True):
            starts_on = calendar.add_months(disbursed_on, 12 * (flow.year - 1))
            ends_on = calendar.add_months(disbursed_on, 12 * flow.year)
            due = [row.total for row in installments if starts_on < row.due_on <= ends_on]
            service = sum(due, Decimal(0))
            before, cumulative = cumulative, cumulative + net
            if payback is None and cumulative >= cost:
                # before < cost <= cumulative, so net > 0.
                payback = _round_ratio(flow.year - 1 + (cost - before) / net, PAYBACK_PLACES)
            years.append(
                AnalysisYear(
                    year=flow.year,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    revenue=flow.revenue,
                    operating_costs=flow.operating_costs,
                    net_cash_flow=net,
                    present_value=round_money(present_value, digits),
                    cumulative_net_cash_flow=cumulative,
                    installments_due=len(due),
                    debt_service=service,
                    dscr=_round_ratio(net / service, RATIO_PLACES) if service else None,
                )
            )
        ratios = [year.dscr for year in years if year.dscr is not None]
        dscr_min = min(ratios) if ratios else None
        dscr_avg = (
            _round_ratio(sum(ratios, Decimal(0)) / len(ratios), RATIO_PLACES) if ratios else None
        )
        last_day = years[-1].ends_on
        beyond = [row.total for row in installments if row.due_on > last_day]
        uncovered_total = sum(beyond, Decimal(0))
        equity_ratio = _round_ratio(project.own_equity * _HUNDRED / cost, RATIO_PLACES)

    findings = [
        _(
            "In year %(year)s the net cash flow of %(net)s does not cover the debt service of "
            "%(service)s (DSCR %(dscr)s).",
            year=fmt_number(year.year),
            net=fmt_money(year.net_cash_flow),
            service=fmt_money(year.debt_service),
            dscr=fmt_number(year.dscr),
        )
        for year in years
        if year.dscr is not None and year.dscr < 1
    ]
    if beyond:
        findings.append(
            _(
                "The schedule runs beyond the projected years: the installments due after %(end)s "
                "(%(count)s, totalling %(total)s) are not covered by the projections.",
                count=fmt_number(len(beyond)),
                end=fmt_date(last_day),
                total=fmt_money(uncovered_total),
            )
        )
    return FinancialAnalysis(
        total_cost=cost,
        own_equity=project.own_equity,
        disbursed_on=disbursed_on,
        discount_rate_pct=rate_pct,
        currency_digits=digits,
        years=tuple(years),
        net_cash_flows=nets,
        npv=npv,
        irr_pct=irr_pct_of(cost, nets),
        payback_years=payback,
        equity_ratio_pct=equity_ratio,
        dscr_min=dscr_min,
        dscr_avg=dscr_avg,
        uncovered_installments=len(beyond),
        uncovered_total=uncovered_total,
        findings=tuple(findings),
    )


def irr_pct_of(total_cost: Decimal, net_cash_flows: Iterable[Decimal]) -> Decimal | None:
    """The internal rate of return of ``[−total_cost, net_1, …, net_N]``, in percent.

    The IRR is a ratio, never money. It is computed by numpy-financial in binary floating point:
    the flows cross into floats through their decimal strings and the rate comes back through
    ``Decimal(str(rate))``, the only place the appraisal uses floats. With several rates giving
    a zero NPV, numpy-financial returns the one closest to zero.

    Args:
        total_cost: the investment at time 0.
        net_cash_flows: the yearly net cash flows, year 1 first.

    Returns:
        The IRR in percent rounded half-up to 2 decimals (``Decimal('10.00')``), or ``None`` when
        no rate makes the NPV zero.
    """
    flows = np.array([str(amount) for amount in (-total_cost, *net_cash_flows)], dtype=np.float64)
    with np.errstate(all="ignore"):
        rate = npf.irr(flows)
    if not np.isfinite(rate):
        return None
    with decimal.localcontext(ANALYSIS_CONTEXT):
        return _round_ratio(Decimal(str(rate)) * _HUNDRED, RATIO_PLACES)


def explain_analysis(analysis: FinancialAnalysis) -> list[str]:
    """The arithmetic of every figure of an analysis, in sentences with the numbers.

    Args:
        analysis: what :func:`analyse` returned.

    Returns:
        Sentences, in order: each year's net cash flow and present value, the NPV, the IRR, the
        payback period, the equity ratio, each year's debt service and DSCR, and the lowest and
        average DSCR.
    """
    digits = analysis.currency_digits
    rate = _pct(analysis.discount_rate_pct)
    cost = fmt_money(analysis.total_cost)
    steps: list[str] = []
    with decimal.localcontext(ANALYSIS_CONTEXT):
        growth = 1 + analysis.discount_rate_pct / _HUNDRED
        present_sum = Decimal(0)
        for year in analysis.years:
            present_sum += year.net_cash_flow / growth**year.year
            steps.append(
                _(
                    "Year %(year)s (%(start)s to %(end)s): net cash flow = revenue %(revenue)s − "
                    "operating costs %(costs)s = %(net)s.",
                    year=fmt_number(year.year),
                    start=fmt_date(year.starts_on),
                    end=fmt_date(year.ends_on),
                    revenue=fmt_money(year.revenue),
                    costs=fmt_money(year.operating_costs),
                    net=fmt_money(year.net_cash_flow),
                )
            )
            steps.append(
                _(
                    "Year %(year)s: present value = %(net)s ÷ (1 + %(rate)s)^%(year)s = %(net)s ÷ "
                    "%(factor)s = %(value)s.",
                    year=fmt_number(year.year),
                    net=fmt_money(year.net_cash_flow),
                    rate=rate,
                    factor=fmt_number(_round_ratio(growth**year.year, FACTOR_PLACES)),
                    value=fmt_money(year.present_value),
                )
            )
    steps.append(
        _(
            "NPV at %(rate)s = −%(cost)s + Σ present values %(sum)s = %(npv)s (the present values "
            "are summed unrounded and the NPV is rounded to the currency unit).",
            rate=rate,
            cost=cost,
            sum=fmt_money(round_money(present_sum, digits)),
            npv=fmt_money(analysis.npv),
        )
    )
    if analysis.irr_pct is None:
        steps.append(
            _(
                "No IRR: no discount rate makes the NPV of −%(cost)s and the yearly net cash "
                "flows zero.",
                cost=cost,
            )
        )
    else:
        steps.append(
            _(
                "IRR = %(irr)s: the discount rate at which −%(cost)s and the yearly net cash flows "
                "have an NPV of zero (found by numpy-financial in binary floating point, rounded "
                "to 2 decimals).",
                irr=_pct(analysis.irr_pct),
                cost=cost,
            )
        )
    steps.append(_explain_payback(analysis))
    steps.append(
        _(
            "Own equity ratio = %(equity)s ÷ %(cost)s × 100 = %(ratio)s.",
            equity=fmt_money(analysis.own_equity),
            cost=cost,
            ratio=_pct(analysis.equity_ratio_pct),
        )
    )
    for year in analysis.years:
        if year.dscr is None:
            steps.append(
                _(
                    "Year %(year)s: no debt service falls due after %(start)s and on or before "
                    "%(end)s, so the year has no DSCR.",
                    year=fmt_number(year.year),
                    start=fmt_date(year.starts_on),
                    end=fmt_date(year.ends_on),
                )
            )
        else:
            steps.append(
                _(
                    "Year %(year)s: debt service = Σ the installments due after %(start)s and "
                    "on or before %(end)s (%(count)s) = %(service)s; DSCR = %(net)s ÷ "
                    "%(service)s = %(dscr)s.",
                    year=fmt_number(year.year),
                    count=fmt_number(year.installments_due),
                    start=fmt_date(year.starts_on),
                    end=fmt_date(year.ends_on),
                    service=fmt_money(year.debt_service),
                    net=fmt_money(year.net_cash_flow),
                    dscr=fmt_number(year.dscr),
                )
            )
    covered = [year for year in analysis.years if year.dscr is not None]
    if analysis.dscr_min is None or analysis.dscr_avg is None:
        steps.append(_("No debt service falls due within the projected years: there is no DSCR."))
    else:
        lowest = next(year for year in covered if year.dscr == analysis.dscr_min)
        steps.append(
            _(
                "Lowest DSCR = %(min)s (year %(year)s); average DSCR over the %(count)s years "
                "with debt service = (%(values)s) ÷ %(count)s = %(avg)s.",
                min=fmt_number(analysis.dscr_min),
                year=fmt_number(lowest.year),
                count=fmt_number(len(covered)),
                values=" + ".join(
                    fmt_number(year.dscr) for year in covered if year.dscr is not None
                ),
                avg=fmt_number(analysis.dscr_avg),
            )
        )
    return steps


def _explain_payback(analysis: FinancialAnalysis) -> str:
    cost = fmt_money(analysis.total_cost)
    if analysis.payback_years is None:
        last = analysis.years[-1]
        return _(
            "No payback within the projection: the cumulative net cash flow after %(years)s years "
            "is %(total)s, less than the total cost of %(cost)s.",
            years=fmt_number(last.year),
            total=fmt_money(last.cumulative_net_cash_flow),
            cost=cost,
        )
    year = next(y for y in analysis.years if y.cumulative_net_cash_flow >= analysis.total_cost)
    before = year.cumulative_net_cash_flow - year.net_cash_flow
    return _(
        "Payback: the cumulative net cash flow reaches the total cost of %(cost)s in year "
        "%(year)s; it was %(before)s after year %(prior)s, so payback = %(prior)s + (%(cost)s − "
        "%(before)s) ÷ %(net)s = %(payback)s years.",
        cost=cost,
        year=fmt_number(year.year),
        before=fmt_money(before),
        prior=fmt_number(year.year - 1),
        net=fmt_money(year.net_cash_flow),
        payback=fmt_number(analysis.payback_years),
    )


# --------------------------------------------------------------------------------------------
# Scorecard


class Factor(enum.StrEnum):
    """What the scorecard scores, in the order it shows them."""

    EQUITY_RATIO = "equity_ratio"
    DSCR = "dscr"
    COLLATERAL = "collateral"
    IRR = "irr"
    FINDINGS = "findings"
    YEARS_OPERATING = "years_operating"
    CREDIT_BUREAU = "credit_bureau"


class CreditBureauResult(enum.StrEnum):
    """The credit-bureau check an officer records (DESIGN §3: no bad debt elsewhere)."""

    CLEAN = "clean"  # no debt overdue anywhere
    MINOR = "minor"  # small or short delays (debt group 2), since regularised
    BAD = "bad"  # bad debt (debt group 3–5) at another lender


class RiskGrade(enum.StrEnum):
    """Risk grades, A best."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


#: Points each factor can earn; they sum to 100.
DEFAULT_WEIGHTS: Final[Mapping[Factor, Decimal]] = MappingProxyType(
    {
        Factor.EQUITY_RATIO: Decimal(20),
        Factor.DSCR: Decimal(25),
        Factor.COLLATERAL: Decimal(15),
        Factor.IRR: Decimal(10),
        Factor.FINDINGS: Decimal(15),
        Factor.YEARS_OPERATING: Decimal(5),
        Factor.CREDIT_BUREAU: Decimal(10),
    }
)
#: Own equity, % of the project cost, for all / half the points (20 % is the policy minimum).
DEFAULT_EQUITY_FULL_PCT: Final = Decimal(40)
DEFAULT_EQUITY_HALF_PCT: Final = Decimal(20)
#: Lowest yearly DSCR for all / half the points.
DEFAULT_DSCR_FULL: Final = Decimal("1.50")
DEFAULT_DSCR_HALF: Final = Decimal("1.20")
#: Collateral value, % of the loan amount, for all / half the points.
DEFAULT_COLLATERAL_FULL_PCT: Final = Decimal(150)
DEFAULT_COLLATERAL_HALF_PCT: Final = Decimal(100)
#: IRR minus the discount rate, percentage points, for all / half the points.
DEFAULT_IRR_MARGIN_FULL_PCT: Final = Decimal(5)
DEFAULT_IRR_MARGIN_HALF_PCT: Final = Decimal(0)
#: The most checklist concerns (and no fail) that still earn half the findings points.
DEFAULT_FINDINGS_HALF_MAX_CONCERNS: Final = 2
#: Whole years the cooperative has operated, for all / half the points.
DEFAULT_YEARS_FULL: Final = 3
DEFAULT_YEARS_HALF: Final = 1
#: The fewest points of grades A, B, C and D; fewer than D's is E.
DEFAULT_GRADE_A_MIN: Final = Decimal(80)
DEFAULT_GRADE_B_MIN: Final = Decimal(65)
DEFAULT_GRADE_C_MIN: Final = Decimal(50)
DEFAULT_GRADE_D_MIN: Final = Decimal(35)


@dataclass(frozen=True, slots=True)
class ScorecardConfig:
    """Weights and thresholds of the scorecard; the defaults are the module's ``DEFAULT_*``.

    Every factor earns all its weight, half of it or nothing:

    ========================  ====================================  =============================
    factor (default weight)   all points                            half the points
    ========================  ====================================  =============================
    equity ratio (20)         own equity ≥ 40 % of the cost          ≥ 20 %
    lowest DSCR (25)          ≥ 1.50                                ≥ 1.20 (none: no points)
    collateral (15)           ≥ 150 % of the loan                    ≥ 100 % (unsecured: 0 %)
    IRR (10)                  ≥ discount rate + 5 points             ≥ discount rate (none: 0)
    checklist findings (15)   no concern and no fail                 ≤ 2 concerns and no fail
    years operating (5)       ≥ 3 whole years                       ≥ 1
    credit bureau (10)        clean                                 minor
    ========================  ====================================  =============================

    Below the half threshold a factor earns nothing. The grade follows the total: A from 80
    points, B from 65, C from 50, D from 35, E below. A checklist item that fails, or a bad
    credit-bureau result, makes the grade E whatever the points: each breaks a condition of
    lending (DESIGN §3: no bad debt elsewhere), which points earned elsewhere must not hide.

    Raises:
        ValueError: when the weights do not give every factor a weight ≥ 0 summing to 100, a
            half threshold is above its full one, or the grade thresholds do not fall from A to D
            within 0–100.
    """

    weights: Mapping[Factor, Decimal] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    equity_full_pct: Decimal = DEFAULT_EQUITY_FULL_PCT
    equity_half_pct: Decimal = DEFAULT_EQUITY_HALF_PCT
    dscr_full: Decimal = DEFAULT_DSCR_FULL
    dscr_half: Decimal = DEFAULT_DSCR_HALF
    collateral_full_pct: Decimal = DEFAULT_COLLATERAL_FULL_PCT
    collateral_half_pct: Decimal = DEFAULT_COLLATERAL_HALF_PCT
    irr_margin_full_pct: Decimal = DEFAULT_IRR_MARGIN_FULL_PCT
    irr_margin_half_pct: Decimal = DEFAULT_IRR_MARGIN_HALF_PCT
    findings_half_max_concerns: int = DEFAULT_FINDINGS_HALF_MAX_CONCERNS
    years_full: int = DEFAULT_YEARS_FULL
    years_half: int = DEFAULT_YEARS_HALF
    grade_a_min: Decimal = DEFAULT_GRADE_A_MIN
    grade_b_min: Decimal = DEFAULT_GRADE_B_MIN
    grade_c_min: Decimal = DEFAULT_GRADE_C_MIN
    grade_d_min: Decimal = DEFAULT_GRADE_D_MIN

    def __post_init__(self) -> None:
        owner = "ScorecardConfig"
        problems: list[str] = []
        weights = {
            Factor(key): _exact(owner, "weights", value) for key, value in self.weights.items()
        }
        missing = [factor.value for factor in Factor if factor not in weights]
        if missing:
            problems.append(f"weights lack {', '.join(missing)}")
        if any(weight < 0 for weight in weights.values()):
            problems.append("a weight is negative")
        if sum(weights.values(), Decimal(0)) != _HUNDRED:
            problems.append(f"the weights sum to {sum(weights.values(), Decimal(0))}, not 100")
        object.__setattr__(self, "weights", MappingProxyType(weights))
        for name in ("findings_half_max_concerns", "years_full", "years_half"):
            if _whole_number(owner, name, getattr(self, name)) < 0:
                problems.append(f"{name} is negative")
        for prefix in ("equity", "dscr", "collateral", "irr_margin", "years"):
            suffix = "" if prefix in ("dscr", "years") else "_pct"
            full_name, half_name = f"{prefix}_full{suffix}", f"{prefix}_half{suffix}"
            if prefix != "years":
                for name in (full_name, half_name):
                    object.__setattr__(self, name, _exact(owner, name, getattr(self, name)))
            if getattr(self, half_name) > getattr(self, full_name):
                problems.append(f"{half_name} is above {full_name}")
        grades = []
        for name in ("grade_a_min", "grade_b_min", "grade_c_min", "grade_d_min"):
            object.__setattr__(self, name, _exact(owner, name, getattr(self, name)))
            grades.append(getattr(self, name))
        if not (_HUNDRED >= grades[0] > grades[1] > grades[2] > grades[3] >= 0):
            problems.append("the grade thresholds must fall from A to D within 0-100")
        if problems:
            raise ValueError(f"Invalid scorecard configuration: {'; '.join(problems)}.")

    def grade_for(self, points: Decimal) -> RiskGrade:
        """The grade a total of ``points`` earns, before any cap."""
        for grade, minimum in (
            (RiskGrade.A, self.grade_a_min),
            (RiskGrade.B, self.grade_b_min),
            (RiskGrade.C, self.grade_c_min),
            (RiskGrade.D, self.grade_d_min),
        ):
            if points >= minimum:
                return grade
        return RiskGrade.E


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    """What the scorecard scores.

    Attributes:
        equity_ratio_pct: own equity, % of the project cost.
        dscr_min: the lowest yearly DSCR; ``None`` when no installment falls due within the
            projection.
        collateral_coverage_pct: collateral value, % of the loan amount (0 for unsecured).
        irr_pct: the project's IRR in percent; ``None`` when it has none.
        discount_rate_pct: the discount rate the IRR is compared with.
        concern_count: appraisal checklist items marked "concern".
        fail_count: appraisal checklist items marked "fail".
        years_operating: whole years the cooperative has operated.
        credit_bureau: the credit-bureau result.
    """

    equity_ratio_pct: Decimal
    dscr_min: Decimal | None
    collateral_coverage_pct: Decimal
    irr_pct: Decimal | None
    discount_rate_pct: Decimal
    concern_count: int
    fail_count: int
    years_operating: int
    credit_bureau: CreditBureauResult

    def __post_init__(self) -> None:
        owner = "ScoreInputs"
        for name in ("equity_ratio_pct", "collateral_coverage_pct", "discount_rate_pct"):
            object.__setattr__(self, name, _exact(owner, name, getattr(self, name)))
        for name in ("dscr_min", "irr_pct"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _exact(owner, name, getattr(self, name)))
        for name in ("concern_count", "fail_count", "years_operating"):
            if _whole_number(owner, name, getattr(self, name)) < 0:
                raise ValueError(f"{owner}.{name} cannot be negative.")
        if self.collateral_coverage_pct < 0:
            raise ValueError(f"{owner}.collateral_coverage_pct cannot be negative.")
        object.__setattr__(self, "credit_bureau", CreditBureauResult(self.credit_bureau))


def collateral_coverage_pct(collateral_value: Decimal, loan_amount: Decimal) -> Decimal:
    """Collateral value ÷ loan amount × 100, 2 decimals (0 for an unsecured loan).

    Raises:
        ValueError: when the loan amount is not positive or the collateral value is negative.
    """
    value = _exact("collateral_coverage_pct", "collateral_value", collateral_value)
    amount = _exact("collateral_coverage_pct", "loan_amount", loan_amount)
    if amount <= 0 or value < 0:
        raise ValueError("The loan amount must be positive and the collateral value not negative.")
    with decimal.localcontext(ANALYSIS_CONTEXT):
        return _round_ratio(value * _HUNDRED / amount, RATIO_PLACES)


def scorecard_inputs(
    analysis: FinancialAnalysis,
    *,
    collateral_coverage_pct: Decimal,
    concern_count: int,
    fail_count: int,
    years_operating: int,
    credit_bureau: CreditBureauResult,
) -> ScoreInputs:
    """The scorecard's inputs: the analysis's figures plus the rest of the appraisal."""
    return ScoreInputs(
        equity_ratio_pct=analysis.equity_ratio_pct,
        dscr_min=analysis.dscr_min,
        collateral_coverage_pct=collateral_coverage_pct,
        irr_pct=analysis.irr_pct,
        discount_rate_pct=analysis.discount_rate_pct,
        concern_count=concern_count,
        fail_count=fail_count,
        years_operating=years_operating,
        credit_bureau=credit_bureau,
    )


@dataclass(frozen=True, slots=True)
class FactorScore:
    """The points one factor earned, and why.

    Attributes:
        factor: the factor.
        weight: the most it could earn.
        points: what it earned: the weight, half of it or 0.
        reason: a sentence with the value, the threshold it met and the points.
    """

    factor: Factor
    weight: Decimal
    points: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class Scorecard:
    """The scorecard of one appraisal.

    Attributes:
        factors: each factor's points and reason, in :class:`Factor` order.
        total: Σ points, 0–100.
        points_grade: the grade the total earns.
        grade: the risk grade: ``points_grade``, or E when a cap applies.
        caps: a sentence for each reason the grade is capped at E (empty when none is).
        summary: a sentence with the total, the grade and the grade thresholds.
    """

    factors: tuple[FactorScore, ...]
    total: Decimal
    points_grade: RiskGrade
    grade: RiskGrade
    caps: tuple[str, ...]
    summary: str

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every sentence: each factor's reason, the summary, then the caps."""
        return (*(factor.reason for factor in self.factors), self.summary, *self.caps)


def score(inputs: ScoreInputs, config: ScorecardConfig | None = None) -> Scorecard:
    """Score an appraisal (see :class:`ScorecardConfig` for the rules).

    Args:
        inputs: the values scored.
        config: weights and thresholds; ``None`` for the defaults.

    Returns:
        Each factor's points and reason, the total, and the grade with any cap.
    """
    if config is None:
        config = ScorecardConfig()
    factors = [
        _banded(
            Factor.EQUITY_RATIO,
            config,
            inputs.equity_ratio_pct,
            (config.equity_full_pct, config.equity_half_pct),
            _("Own equity is %(value)s of the project cost", value=_pct(inputs.equity_ratio_pct)),
            _pct,
        ),
        _dscr(inputs, config),
        _banded(
            Factor.COLLATERAL,
            config,
            inputs.collateral_coverage_pct,
            (config.collateral_full_pct, config.collateral_half_pct),
            _(
                "Collateral covers %(value)s of the loan",
                value=_pct(inputs.collateral_coverage_pct),
            ),
            _pct,
        ),
        _irr(inputs, config),
        _findings(inputs, config),
        _banded(
            Factor.YEARS_OPERATING,
            config,
            Decimal(inputs.years_operating),
            (Decimal(config.years_full), Decimal(config.years_half)),
            _(
                "Whole years the cooperative has operated: %(value)s",
                value=fmt_number(inputs.years_operating),
            ),
            fmt_number,
        ),
        _credit_bureau(inputs, config),
    ]
    total = _tidy(sum((factor.points for factor in factors), Decimal(0)))
    points_grade = config.grade_for(total)
    caps = []
    if inputs.fail_count:
        caps.append(_("A checklist item fails, so the grade is E whatever the points."))
    if inputs.credit_bureau is CreditBureauResult.BAD:
        caps.append(
            _("The credit-bureau check shows bad debt, so the grade is E whatever the points.")
        )
    summary = _(
        "Total %(total)s of 100 points: grade %(grade)s (A from %(a)s points, B from %(b)s, C "
        "from %(c)s, D from %(d)s, E below).",
        total=fmt_number(total),
        grade=points_grade.value,
        a=fmt_number(config.grade_a_min),
        b=fmt_number(config.grade_b_min),
        c=fmt_number(config.grade_c_min),
        d=fmt_number(config.grade_d_min),
    )
    return Scorecard(
        factors=tuple(factors),
        total=total,
        points_grade=points_grade,
        grade=RiskGrade.E if caps else points_grade,
        caps=tuple(caps),
        summary=summary,
    )


_FULL: Final = Decimal(1)
_HALF: Final = Decimal("0.5")
_NONE: Final = Decimal(0)


def _share_of(config: ScorecardConfig, factor: Factor, share: Decimal) -> tuple[Decimal, Decimal]:
    """``(weight, points)``: ``share`` (1, ½ or 0) of the factor's weight, exact (10, not 10.0)."""
    weight = config.weights[factor]
    return weight, _tidy(MONEY_CONTEXT.multiply(weight, share))


def _tidy(points: Decimal) -> Decimal:
    """Whole points without a decimal part (``10``, not ``10.0``); others as they are."""
    return points.quantize(_ONE) if points == points.to_integral_value() else points


def _banded(
    factor: Factor,
    config: ScorecardConfig,
    value: Decimal,
    thresholds: tuple[Decimal, Decimal],
    what: str,
    show: Callable[[Decimal], str],
) -> FactorScore:
    """All the weight when ``value ≥ full``, half of it when ``value ≥ half``, else nothing."""
    full, half = thresholds
    if value >= full:
        share, band = _FULL, _("at least %(full)s", full=show(full))
    elif value >= half:
        share = _HALF
        band = _("at least %(half)s but below %(full)s", half=show(half), full=show(full))
    else:
        share, band = _NONE, _("below %(half)s", half=show(half))
    weight, points = _share_of(config, factor, share)
    reason = _(
        "%(what)s, %(band)s: %(points)s of %(weight)s points.",
        what=what,
        band=band,
        points=fmt_number(points),
        weight=fmt_number(weight),
    )
    return FactorScore(factor, weight, points, reason)


def _dscr(inputs: ScoreInputs, config: ScorecardConfig) -> FactorScore:
    if inputs.dscr_min is not None:
        return _banded(
            Factor.DSCR,
            config,
            inputs.dscr_min,
            (config.dscr_full, config.dscr_half),
            _("The lowest yearly DSCR is %(value)s", value=fmt_number(inputs.dscr_min)),
            fmt_number,
        )
    weight, points = _share_of(config, Factor.DSCR, _NONE)
    reason = _(
        "No debt service falls due within the projected years, so there is no DSCR: "
        "%(points)s of %(weight)s points.",
        points=fmt_number(points),
        weight=fmt_number(weight),
    )
    return FactorScore(Factor.DSCR, weight, points, reason)


def _irr(inputs: ScoreInputs, config: ScorecardConfig) -> FactorScore:
    if inputs.irr_pct is not None:
        margin = inputs.irr_pct - inputs.discount_rate_pct
        return _banded(
            Factor.IRR,
            config,
            margin,
            (config.irr_margin_full_pct, config.irr_margin_half_pct),
            _(
                "The IRR of %(irr)s less the discount rate of %(rate)s is %(margin)s percentage "
                "points",
                irr=_pct(inputs.irr_pct),
                rate=_pct(inputs.discount_rate_pct),
                margin=fmt_number(margin),
            ),
            fmt_number,
        )
    weight, points = _share_of(config, Factor.IRR, _NONE)
    reason = _(
        "The project's cash flows have no IRR: %(points)s of %(weight)s points.",
        points=fmt_number(points),
        weight=fmt_number(weight),
    )
    return FactorScore(Factor.IRR, weight, points, reason)


def _findings(inputs: ScoreInputs, config: ScorecardConfig) -> FactorScore:
    concerns, most = inputs.concern_count, config.findings_half_max_concerns
    if inputs.fail_count:
        weight, points = _share_of(config, Factor.FINDINGS, _NONE)
        reason = _(
            "Checklist items marked fail: %(fails)s; any fail earns %(points)s of %(weight)s "
            "points.",
            fails=fmt_number(inputs.fail_count),
            points=fmt_number(points),
            weight=fmt_number(weight),
        )
    elif not concerns:
        weight, points = _share_of(config, Factor.FINDINGS, _FULL)
        reason = _(
            "No checklist item is marked concern or fail: %(points)s of %(weight)s points.",
            points=fmt_number(points),
            weight=fmt_number(weight),
        )
    elif concerns <= most:
        weight, points = _share_of(config, Factor.FINDINGS, _HALF)
        reason = _(
            "Checklist items marked concern: %(concerns)s, at most %(most)s, and none marked "
            "fail: %(points)s of %(weight)s points.",
            concerns=fmt_number(concerns),
            most=fmt_number(most),
            points=fmt_number(points),
            weight=fmt_number(weight),
        )
    else:
        weight, points = _share_of(config, Factor.FINDINGS, _NONE)
        reason = _(
            "Checklist items marked concern: %(concerns)s, more than %(most)s: %(points)s of "
            "%(weight)s points.",
            concerns=fmt_number(concerns),
            most=fmt_number(most),
            points=fmt_number(points),
            weight=fmt_number(weight),
        )
    return FactorScore(Factor.FINDINGS, weight, points, reason)


def _credit_bureau(inputs: ScoreInputs, config: ScorecardConfig) -> FactorScore:
    result = inputs.credit_bureau
    if result is CreditBureauResult.CLEAN:
        weight, points = _share_of(config, Factor.CREDIT_BUREAU, _FULL)
        reason = _(
            "The credit-bureau check is clean: %(points)s of %(weight)s points.",
            points=fmt_number(points),
            weight=fmt_number(weight),
        )
    elif result is CreditBureauResult.MINOR:
        weight, points = _share_of(config, Factor.CREDIT_BUREAU, _HALF)
        reason = _(
            "The credit-bureau check shows minor, regularised delays: %(points)s of %(weight)s "
            "points.",
            points=fmt_number(points),
            weight=fmt_number(weight),
        )
    else:
        weight, points = _share_of(config, Factor.CREDIT_BUREAU, _NONE)
        reason = _(
            "The credit-bureau check shows bad debt: %(points)s of %(weight)s points.",
            points=fmt_number(points),
            weight=fmt_number(weight),
        )
    return FactorScore(Factor.CREDIT_BUREAU, weight, points, reason)
