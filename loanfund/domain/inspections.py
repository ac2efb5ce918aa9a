"""Post-disbursement inspections (DESIGN §3): when they are due, what a visit records, and
what its verdict leads to.

Planning (each interval a fund setting):

* after each disbursement, a **first** inspection within ``first_inspection_days`` (30) of
  the tranche's value date;
* then **periodic** inspections while the loan is active: ``inspection_interval_days`` (180)
  after the last visit — or after the first disbursement when no visit was made yet — or
  ``watch_inspection_interval_days`` (90) when the loan is in debt group 2 or worse, or its
  last visit found concerns;
* **ad hoc** inspections whenever staff decide.

A visit's verdict: **compliant** closes it; **concerns** opens follow-up actions and tightens
the next inspection to the watch interval; **misuse** opens a recall proposal.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from loanfund.domain.i18n import _, fmt_date, fmt_money


class InspectionKind(enum.StrEnum):
    FIRST = "first"
    PERIODIC = "periodic"
    AD_HOC = "ad_hoc"


class InspectionStatus(enum.StrEnum):
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


class Verdict(enum.StrEnum):
    COMPLIANT = "compliant"
    CONCERNS = "concerns"
    MISUSE = "misuse"


#: The tabs of the visits page: due soon (or overdue), overdue, every planned visit, done.
INSPECTION_TABS: Final = ("due", "overdue", "planned", "done")


class FundsUse(enum.StrEnum):
    FULLY = "fully"
    PARTLY = "partly"
    NOT = "not"


def kind_label(kind: str) -> str:
    return {
        InspectionKind.FIRST: _("first inspection after a disbursement"),
        InspectionKind.PERIODIC: _("periodic inspection"),
        InspectionKind.AD_HOC: _("ad hoc inspection"),
    }.get(InspectionKind(kind), kind)


def verdict_label(verdict: str) -> str:
    return {
        Verdict.COMPLIANT: _("compliant"),
        Verdict.CONCERNS: _("concerns"),
        Verdict.MISUSE: _("misuse of the loan"),
    }[Verdict(verdict)]


def funds_use_label(use: str) -> str:
    return {
        FundsUse.FULLY: _("fully for the stated purpose"),
        FundsUse.PARTLY: _("partly for the stated purpose"),
        FundsUse.NOT: _("not for the stated purpose"),
    }[FundsUse(use)]


@dataclass(frozen=True, slots=True)
class Intervals:
    """Days to the first inspection after a disbursement, between periodic inspections, and
    between them on watch (debt group 2 or worse, or concerns at the last visit)."""

    first: int = 30
    periodic: int = 180
    watch: int = 90


def first_due(value_date: dt.date, intervals: Intervals) -> dt.date:
    """The first inspection after a disbursement paid on ``value_date``."""
    return value_date + dt.timedelta(days=intervals.first)


def periodic_due(
    *,
    first_disbursed_on: dt.date,
    last_visit_on: dt.date | None,
    debt_group: int,
    last_verdict: str | None,
    intervals: Intervals,
) -> dt.date:
    """The next periodic inspection: the interval after the last visit (or the first
    disbursement), shorter on watch."""
    watch = debt_group >= 2 or last_verdict == Verdict.CONCERNS
    days = intervals.watch if watch else intervals.periodic
    return (last_visit_on or first_disbursed_on) + dt.timedelta(days=days)


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """What an inspector records at a visit (the form, once submitted)."""

    visited_on: dt.date
    people_met: str
    signatory: str
    funds_use: str
    amount_verified: Decimal
    progress_pct: int
    business_status: str
    collateral_condition: str
    risks: str
    verdict: str
    follow_ups: tuple[tuple[str, str, dt.date], ...]  # (action, owner, due on)


def visit_problems(record: VisitRecord, *, disbursed: Decimal, today: dt.date) -> list[str]:
    """Every reason the visit cannot be submitted, each in the inspector's words."""
    problems: list[str] = []
    if record.visited_on > today:
        problems.append(
            _(
                "The visit date %(date)s is in the future (today is %(today)s).",
                date=fmt_date(record.visited_on),
                today=fmt_date(today),
            )
        )
    if not record.people_met.strip():
        problems.append(_("Say whom you met."))
    if not record.signatory.strip():
        problems.append(_("Give the name of the borrower's representative who signs the minutes."))
    if record.funds_use not in {use.value for use in FundsUse}:
        problems.append(_("Say how the loan was used."))
    if record.amount_verified < 0 or record.amount_verified > disbursed:
        problems.append(
            _(
                "The amount verified as used must be between 0 and the %(disbursed)s disbursed; "
                "%(amount)s was entered.",
                disbursed=fmt_money(disbursed),
                amount=fmt_money(record.amount_verified),
            )
        )
    if not 0 <= record.progress_pct <= 100:
        problems.append(_("Project progress is a percentage from 0 to 100."))
    if record.verdict not in {verdict.value for verdict in Verdict}:
        problems.append(_("Choose a verdict."))
    if record.verdict == Verdict.COMPLIANT and record.funds_use == FundsUse.NOT:
        problems.append(
            _("A loan not used for its stated purpose cannot be found compliant: choose misuse.")
        )
    if record.verdict == Verdict.CONCERNS and not record.follow_ups:
        problems.append(_("Concerns need at least one follow-up action, with its owner and date."))
    for action, owner, due_on in record.follow_ups:
        if not action.strip() or not owner.strip():
            problems.append(_("Each follow-up action needs what is to be done and by whom."))
        if due_on <= record.visited_on:
            problems.append(
                _(
                    "The follow-up “%(action)s” must be due after the visit (%(date)s).",
                    action=action[:60],
                    date=fmt_date(record.visited_on),
                )
            )
    return problems
