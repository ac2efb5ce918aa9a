"""The semi-annual and annual lending report, as pure functions.

* A **reporting period** is a half-year (``2025-H1``: 1 January to 30 June; ``2025-H2``: 1 July
  to 31 December) or a calendar year (``2025``). The report is drawn up **as of** the period's
  last day, or as of today while the period is still running.
* The **portfolio** at that date is every loan with principal outstanding (a loan repaid in
  full is in the portfolio ledger with nothing outstanding, and in no section here): counted,
  summed and provided for by debt group, by the borrower's sector, by the borrower's type
  (legal form) and by the application's priority category. Every section adds up to the
  portfolio ledger's totals of the same day.
* The **bad-debt ratio** is the outstanding principal in groups 3 to 5 ÷ all outstanding
  principal (percent, 2 decimals, half up), the daily close's rule.
* **Disbursed and collected**: tranches paid and receipts standing, dated in the period (to the
  as-of date), month by month; collected principal includes prepayments.
* **Inspections**: visits made in the period; *on time* when made on or before their due
  date; *verified purpose* when the inspector found the loan used fully for its stated purpose.
* **Cooperatives financed**: the borrowers of the loans in the portfolio, each counted once,
  with their members, women members, ethnic-minority members, and the jobs their financed
  projects create.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loanfund.domain.calendar import days_in_month
from loanfund.domain.classification import BAD_DEBT_GROUPS, GROUPS, LoanFigures, portfolio
from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.inspections import FundsUse, InspectionKind, Verdict
from loanfund.domain.money import ratio_pct, round_money

#: ``2025``, ``2025-H1`` or ``2025-H2`` (an ``h`` in lower case is read the same).
_PERIOD = re.compile(r"([1-9]\d{3})(?:-[Hh]([12]))?")
#: The earliest year a report may be asked for (a typo such as ``1025`` is refused).
FIRST_YEAR = 1990


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """A half-year (``half`` 1 or 2) or a whole calendar year (``half`` ``None``)."""

    year: int
    half: int | None = None

    @classmethod
    def parse(cls, text: str) -> ReportPeriod:
        """The period ``text`` names (``2025-H1``, ``2025-H2`` or ``2025``).

        Raises:
            RuleViolation: anything else, with the forms that are understood.
        """
        shown = (text or "").strip()
        match = _PERIOD.fullmatch(shown)
        if match is None or int(match.group(1)) < FIRST_YEAR:
            raise RuleViolation(
                _(
                    "“%(text)s” is not a reporting period. Give a half-year, such as 2025-H1 "
                    "(January to June) or 2025-H2 (July to December), or a year, such as 2025.",
                    text=shown[:20],
                )
            )
        half = match.group(2)
        return cls(int(match.group(1)), int(half) if half else None)

    @property
    def code(self) -> str:
        """How the period is written on the command line and in links: ``2025-H1``."""
        return f"{self.year}-H{self.half}" if self.half else str(self.year)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 7 if self.half == 2 else 1, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 6, 30) if self.half == 1 else dt.date(self.year, 12, 31)

    @property
    def label(self) -> str:
        """The period in the reader's words: "First half of 2025", "Year 2025"."""
        year = str(self.year)
        if self.half == 1:
            return _("First half of %(year)s", year=year)
        if self.half == 2:
            return _("Second half of %(year)s", year=year)
        return _("Year %(year)s", year=year)

    def as_of(self, today: dt.date) -> dt.date:
        """The date the report is drawn up as of: the period's last day, or ``today`` while
        the period runs.

        Raises:
            RuleViolation: the period has not started by ``today``.
        """
        if self.start > today:
            raise RuleViolation(
                _(
                    "%(period)s has not started yet: it begins on %(start)s and today is "
                    "%(today)s.",
                    period=self.label,
                    start=fmt_date(self.start),
                    today=fmt_date(today),
                )
            )
        return min(self.end, today)


def recent_periods(today: dt.date, *, years: int = 3) -> list[ReportPeriod]:
    """The periods a reader may want on ``today``, newest first: for this year and the
    ``years - 1`` before it, the halves that have started, then the year itself."""
    periods: list[ReportPeriod] = []
    for year in range(today.year, today.year - years, -1):
        halves = (2, 1) if year < today.year or today.month >= 7 else (1,)
        periods.extend(ReportPeriod(year, half) for half in halves)
        periods.append(ReportPeriod(year))
    return periods


def latest_ended(periods: Iterable[ReportPeriod], today: dt.date) -> ReportPeriod | None:
    """The first of ``periods`` (newest first) that ended before ``today``."""
    return next((period for period in periods if period.end < today), None)


def share_pct(part: Decimal | int, whole: Decimal | int) -> Decimal:
    """``part ÷ whole`` in percent, 2 decimals, half up; 0 when there is no whole."""
    if whole <= 0:
        return Decimal("0.00")
    return round_money(ratio_pct(Decimal(part), Decimal(whole)), 2)


# --- the portfolio -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportLoan:
    """A loan with principal outstanding on the as-of date, and whom it finances."""

    loan_id: int
    cooperative_id: int
    legal_type: str
    sector: str
    priority: str
    debt_group: int
    days_past_due: int
    outstanding: Decimal
    specific_provision: Decimal
    general_provision: Decimal
    jobs_created: int


def breakdown(
    loans: Sequence[ReportLoan],
    key: Callable[[ReportLoan], Hashable],
    *,
    listed: Iterable[Hashable] = (),
) -> list[dict[str, Any]]:
    """Loans, outstanding principal, its share of the whole, and provisions, by ``key``.

    The ``listed`` keys come first, in their order, even with no loan; any other key found
    follows, the largest outstanding first.
    """
    listed = tuple(listed)
    lines: dict[Hashable, dict[str, Any]] = {value: _line(value) for value in listed}
    for loan in loans:
        value = key(loan)
        line = lines.get(value) or lines.setdefault(value, _line(value))
        line["loans"] += 1
        line["outstanding"] += loan.outstanding
        line["specific_provision"] += loan.specific_provision
        line["general_provision"] += loan.general_provision
    whole = sum((loan.outstanding for loan in loans), Decimal(0))
    first = [lines.pop(value) for value in listed]
    rest = sorted(lines.values(), key=lambda line: (-line["outstanding"], str(line["key"])))
    for line in first + rest:
        line["share_pct"] = share_pct(line["outstanding"], whole)
    return first + rest


def _line(key: Hashable) -> dict[str, Any]:
    return {
        "key": key,
        "loans": 0,
        "outstanding": Decimal(0),
        "specific_provision": Decimal(0),
        "general_provision": Decimal(0),
    }


# --- money in and out -------------------------------------------------------------------------


def month_starts(start: dt.date, through: dt.date) -> list[dt.date]:
    """The first day of every month from ``start``'s to ``through``'s."""
    months, day = [], start.replace(day=1)
    while day <= through:
        months.append(day)
        day = day.replace(day=days_in_month(day.year, day.month)) + dt.timedelta(days=1)
    return months


def monthly_flows(
    start: dt.date,
    through: dt.date,
    disbursements: Iterable[tuple[dt.date, Decimal]],
    receipts: Iterable[tuple[dt.date, Decimal, Decimal, Decimal]],
) -> list[dict[str, Any]]:
    """Disbursed and collected (principal, interest, penalty) month by month.

    Args:
        start: the period's first day.
        through: the as-of date (the last month ends on it).
        disbursements: (value date, amount) of every tranche paid in the period.
        receipts: (date received, principal with prepayments, interest, penalty) of every
            receipt that stands.
    """
    months = {
        (first.year, first.month): {
            "month": first.strftime("%m/%Y"),
            "date_from": max(first, start),
            "date_to": min(first.replace(day=days_in_month(first.year, first.month)), through),
            "disbursed": Decimal(0),
            "principal": Decimal(0),
            "interest": Decimal(0),
            "penalty": Decimal(0),
            "collected": Decimal(0),
        }
        for first in month_starts(start, through)
    }
    for day, amount in disbursements:
        months[(day.year, day.month)]["disbursed"] += amount
    for day, principal, interest, penalty in receipts:
        month = months[(day.year, day.month)]
        month["principal"] += principal
        month["interest"] += interest
        month["penalty"] += penalty
        month["collected"] += principal + interest + penalty
    return list(months.values())


# --- inspections ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visit:
    """A visit made in the period, as its minutes recorded it."""

    kind: str
    due_on: dt.date
    visited_on: dt.date
    funds_use: str | None
    verdict: str | None
    amount_verified: Decimal | None


def visits_by_kind(visits: Iterable[Visit]) -> list[dict[str, Any]]:
    """Per kind of inspection: visits made, made on time, each verdict, visits that found the
    loan used fully for its stated purpose, the amount verified, and the two rates."""
    lines = {
        kind.value: {
            "kind": kind.value,
            "done": 0,
            "on_time": 0,
            Verdict.COMPLIANT.value: 0,
            Verdict.CONCERNS.value: 0,
            Verdict.MISUSE.value: 0,
            "verified_purpose": 0,
            "amount_verified": Decimal(0),
        }
        for kind in InspectionKind
    }
    for visit in visits:
        line = lines[visit.kind]
        line["done"] += 1
        line["on_time"] += int(visit.visited_on <= visit.due_on)
        if visit.verdict:
            line[visit.verdict] += 1
        line["verified_purpose"] += int(visit.funds_use == FundsUse.FULLY)
        line["amount_verified"] += visit.amount_verified or Decimal(0)
    for line in lines.values():
        line["on_time_pct"] = share_pct(line["on_time"], line["done"])
        line["verified_purpose_pct"] = share_pct(line["verified_purpose"], line["done"])
    return list(lines.values())


# --- the cooperatives financed ----------------------------------------------------------------


def financed_cooperatives(
    loans: Iterable[ReportLoan], profiles: Mapping[int, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One line per borrower of the portfolio (each once, by name): its profile (``name``,
    ``legal_type``, ``sector``, ``district``, ``members``, ``women_members``,
    ``ethnic_minority_members``), its loans and outstanding principal, and the jobs its
    financed projects create."""
    lines: dict[int, dict[str, Any]] = {}
    for loan in loans:
        line = lines.get(loan.cooperative_id)
        if line is None:
            line = lines[loan.cooperative_id] = {
                **profiles[loan.cooperative_id],
                "loans": 0,
                "outstanding": Decimal(0),
                "specific_provision": Decimal(0),
                "jobs_created": 0,
            }
        line["loans"] += 1
        line["outstanding"] += loan.outstanding
        line["specific_provision"] += loan.specific_provision
        line["jobs_created"] += loan.jobs_created
    return sorted(lines.values(), key=lambda line: str(line["name"]))


# --- the report -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LendingReport:
    """Every section of the report, with the figures of its summary."""

    period: ReportPeriod
    as_of: dt.date
    by_group: list[dict[str, Any]]
    by_sector: list[dict[str, Any]]
    by_legal_type: list[dict[str, Any]]
    by_priority: list[dict[str, Any]]
    flows: list[dict[str, Any]]
    inspections: list[dict[str, Any]]
    cooperatives: list[dict[str, Any]]
    summary: dict[str, Any]


def build_report(
    period: ReportPeriod,
    as_of: dt.date,
    *,
    loans: Sequence[ReportLoan],
    flows: list[dict[str, Any]],
    visits: Sequence[Visit],
    profiles: Mapping[int, Mapping[str, Any]],
    legal_types: Iterable[str],
    priorities: Iterable[str],
) -> LendingReport:
    """Put the report together from the portfolio's loans (those with principal outstanding
    on ``as_of``), the month-by-month flows, the visits of the period and the borrowers'
    profiles. ``legal_types`` and ``priorities`` are listed even when no loan has them."""
    figures = portfolio(
        LoanFigures(loan.loan_id, loan.outstanding, loan.days_past_due, loan.debt_group)
        for loan in loans
    )
    by_group = breakdown(loans, lambda loan: loan.debt_group, listed=GROUPS)
    inspections = visits_by_kind(visits)
    cooperatives = financed_cooperatives(loans, profiles)

    def amount(lines: Iterable[Mapping[str, Any]], key: str) -> Decimal:
        return sum((line[key] for line in lines), Decimal(0))

    def count(lines: Iterable[Mapping[str, Any]], key: str) -> int:
        return sum(int(line[key]) for line in lines)

    done, on_time = count(inspections, "done"), count(inspections, "on_time")
    verified = count(inspections, "verified_purpose")
    specific = amount(by_group, "specific_provision")
    general = amount(by_group, "general_provision")
    bad = amount((line for line in by_group if line["key"] in BAD_DEBT_GROUPS), "outstanding")
    summary = {
        "loans": len(loans),
        "outstanding": figures.outstanding,
        "bad_debt": bad,
        "bad_debt_pct": figures.bad_debt_pct,
        "par30_pct": figures.par30_pct,
        "par90_pct": figures.par90_pct,
        "specific_provision": specific,
        "general_provision": general,
        "provisions": specific + general,
        "disbursed": amount(flows, "disbursed"),
        "principal": amount(flows, "principal"),
        "interest": amount(flows, "interest"),
        "penalty": amount(flows, "penalty"),
        "collected": amount(flows, "collected"),
        "inspections": done,
        "on_time": on_time,
        "on_time_pct": share_pct(on_time, done),
        "verified_purpose": verified,
        "verified_purpose_pct": share_pct(verified, done),
        "compliant": count(inspections, Verdict.COMPLIANT.value),
        "concerns": count(inspections, Verdict.CONCERNS.value),
        "misuse": count(inspections, Verdict.MISUSE.value),
        "cooperatives": len(cooperatives),
        "members": count(cooperatives, "members"),
        "women_members": count(cooperatives, "women_members"),
        "ethnic_minority_members": count(cooperatives, "ethnic_minority_members"),
        "jobs_created": count(cooperatives, "jobs_created"),
    }
    return LendingReport(
        period=period,
        as_of=as_of,
        by_group=by_group,
        by_sector=breakdown(loans, lambda loan: loan.sector),
        by_legal_type=breakdown(loans, lambda loan: loan.legal_type, listed=legal_types),
        by_priority=breakdown(loans, lambda loan: loan.priority, listed=priorities),
        flows=flows,
        inspections=inspections,
        cooperatives=cooperatives,
        summary=summary,
    )
