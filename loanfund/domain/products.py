"""Loan products: what the fund lends, for what, within which limits, on which schedule terms.

A product fixes the rate, the overdue rate and the limits on amount and term, and proposes the
schedule terms (method, frequency, grace…) an officer starts from. An officer may change the
amount, the term and the schedule terms of one loan, but only within the product's limits:
:func:`check_within_product` says what breaks them.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from loanfund.domain import calendar
from loanfund.domain.documents import DocumentKind
from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import _, fmt_date, fmt_money, fmt_number
from loanfund.domain.money import is_whole_in
from loanfund.domain.schedule import ScheduleTerms, due_dates, parse_terms


class PurposeCategory(enum.StrEnum):
    """What a loan pays for (the fund reports lending by these)."""

    EQUIPMENT = "equipment"
    WORKSHOP = "workshop"
    WORKING_CAPITAL = "working_capital"
    CROPS_LIVESTOCK = "crops_livestock"
    TRADE = "trade"
    OTHER = "other"


def purpose_label(purpose: PurposeCategory) -> str:
    return {
        PurposeCategory.EQUIPMENT: _("Machinery and equipment"),
        PurposeCategory.WORKSHOP: _("Workshops, warehouses and other construction"),
        PurposeCategory.WORKING_CAPITAL: _("Working capital (materials, inputs)"),
        PurposeCategory.CROPS_LIVESTOCK: _("Seedlings, crops and livestock"),
        PurposeCategory.TRADE: _("Sales points, marketing and e-commerce"),
        PurposeCategory.OTHER: _("Other production and business purposes"),
    }[purpose]


class ProductStatus(enum.StrEnum):
    ACTIVE = "active"  # offered to new applications
    RETIRED = "retired"  # kept for the loans made under it; no new applications


#: The schedule terms a product proposes and an officer may change for one loan.
SCHEDULE_OPTIONS: Final = (
    "frequency",
    "every",
    "method",
    "interest_basis",
    "days_in_year",
    "principal_grace",
    "interest_deferred",
    "interest_free",
    "principal_every",
    "rounding",
    "installment_multiple",
    "installment_rounding",
)

#: The longest term a product may allow (50 years).
MAX_TERM_MONTHS: Final = 600
#: The highest overdue rate, in percent of the contractual rate (the Civil Code's 150 %).
MAX_OVERDUE_PCT_OF_RATE: Final = Decimal(150)
_CODE: Final = re.compile(r"[A-Z0-9][A-Z0-9-]{1,19}")


@dataclass(frozen=True, slots=True)
class ProductTerms:
    """A loan product as an administrator defines it.

    Attributes:
        code: a short unique code printed on contracts (``VUD-2026``).
        name: the product's name.
        description: who it is for and what it finances.
        purposes: the purpose categories it may finance.
        min_amount / max_amount: the amount one loan may have.
        min_term_months / max_term_months: from disbursement to the last installment.
        annual_rate_pct: the preferential rate, percent per year.
        overdue_rate_pct_of_rate: interest on overdue principal, in percent of the rate.
        schedule_options: the proposed schedule terms (keys of :data:`SCHEDULE_OPTIONS`, in the
            engine's JSON form).
        default_term_months: the term the calculator and new applications start from.
        required_documents: the documents every application needs; ``None`` for the default.
    """

    code: str
    name: str
    description: str
    purposes: frozenset[PurposeCategory]
    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    default_term_months: int
    annual_rate_pct: Decimal
    overdue_rate_pct_of_rate: Decimal
    schedule_options: Mapping[str, Any] = field(default_factory=dict)
    #: The dossier's documents (``None``: the fund's default list, see ``domain.documents``).
    required_documents: frozenset[DocumentKind] | None = None


#: Decimals a rate keeps (the rate columns store millionths of a percent).
RATE_DECIMALS: Final = 6


def check_product(product: ProductTerms, *, currency_digits: int) -> list[str]:
    """Every problem with a product definition, as sentences (empty when it is sound)."""
    problems: list[str] = []
    if not _CODE.fullmatch(product.code):
        problems.append(
            _(
                "The code “%(code)s” must be 2–20 capital letters, digits or hyphens, "
                "e.g. VUD-2026.",
                code=product.code[:30],
            )
        )
    if not product.name.strip():
        problems.append(_("Give the product a name."))
    if not product.purposes:
        problems.append(_("Choose at least one purpose the product finances."))
    for label, amount in ((_("minimum"), product.min_amount), (_("maximum"), product.max_amount)):
        if amount <= 0:
            problems.append(_("The %(which)s amount must be more than zero.", which=label))
        elif not is_whole_in(amount, currency_digits):
            problems.append(
                _(
                    "The %(which)s amount %(amount)s has more decimals than the currency.",
                    which=label,
                    amount=str(amount),
                )
            )
    if 0 < product.max_amount < product.min_amount:
        problems.append(
            _(
                "The minimum amount (%(minimum)s) is more than the maximum (%(maximum)s).",
                minimum=fmt_money(product.min_amount),
                maximum=fmt_money(product.max_amount),
            )
        )
    terms_ok = 1 <= product.min_term_months <= product.max_term_months <= MAX_TERM_MONTHS
    if not terms_ok:
        problems.append(
            _(
                "Terms must satisfy 1 ≤ minimum (%(minimum)s) ≤ maximum (%(maximum)s) ≤ "
                "%(limit)s months.",
                minimum=product.min_term_months,
                maximum=product.max_term_months,
                limit=MAX_TERM_MONTHS,
            )
        )
    elif not product.min_term_months <= product.default_term_months <= product.max_term_months:
        problems.append(
            _(
                "The usual term (%(term)s months) must lie between the minimum and the maximum "
                "(%(minimum)s–%(maximum)s months).",
                term=product.default_term_months,
                minimum=product.min_term_months,
                maximum=product.max_term_months,
            )
        )
    if not 0 <= product.annual_rate_pct <= 100:
        problems.append(
            _(
                "The annual rate must be between 0 and 100 %%; %(rate)s was entered.",
                rate=fmt_number(product.annual_rate_pct),
            )
        )
    if not 0 <= product.overdue_rate_pct_of_rate <= MAX_OVERDUE_PCT_OF_RATE:
        problems.append(
            _(
                "The overdue rate must be between 0 and %(limit)s %% of the rate; %(rate)s was "
                "entered.",
                limit=fmt_number(MAX_OVERDUE_PCT_OF_RATE),
                rate=fmt_number(product.overdue_rate_pct_of_rate),
            )
        )
    for rate in (product.annual_rate_pct, product.overdue_rate_pct_of_rate):
        if not is_whole_in(rate, RATE_DECIMALS):
            problems.append(
                _(
                    "Rates have at most %(digits)s decimals; %(rate)s was entered.",
                    digits=RATE_DECIMALS,
                    rate=str(rate),
                )
            )
    unknown = sorted(set(product.schedule_options) - set(SCHEDULE_OPTIONS))
    if unknown:
        problems.append(_("Unknown schedule terms: %(names)s.", names=", ".join(unknown)))
    elif not problems:
        # The proposed terms must give a valid schedule for the usual loan.
        try:
            sample_terms(product, today=dt.date(2000, 1, 1), currency_digits=currency_digits)
        except RuleViolation as error:
            problems.extend(error.problems)
    return problems


def require_product(product: ProductTerms, *, currency_digits: int) -> None:
    problems = check_product(product, currency_digits=currency_digits)
    if problems:
        raise RuleViolation(problems)


def installments_for(months: int, frequency: str, every: int) -> int:
    """How many installments of ``every`` × ``frequency`` fit in ``months`` (at least one).

    Month-based frequencies divide exactly (36 months quarterly: 12); day and week periods are
    counted on an average month of 365 / 12 days, rounded down (12 months every 2 weeks: 26).
    """
    if frequency in calendar.MONTHS_PER_STEP:
        return max(1, months // (calendar.MONTHS_PER_STEP[frequency] * every))
    days = months * 365 // 12
    return max(1, days // (calendar.DAYS_PER_STEP[frequency] * every))


def terms_data(
    product: ProductTerms, *, principal: Decimal, months: int, disbursed_on: dt.date
) -> dict[str, Any]:
    """The engine's JSON terms for a loan of this product: its options, its rate, and the
    number of installments that fits the term."""
    options = dict(product.schedule_options)
    frequency = str(options.get("frequency", "month"))
    every = int(options.get("every", 1))
    return {
        **options,
        "principal": str(principal),
        "annual_rate_pct": str(product.annual_rate_pct),
        "installments": installments_for(months, frequency, every),
        "disbursed_on": disbursed_on.isoformat(),
    }


def sample_terms(product: ProductTerms, *, today: dt.date, currency_digits: int) -> ScheduleTerms:
    """The usual loan of the product (the minimum amount over the usual term), disbursed today."""
    return parse_terms(
        terms_data(
            product,
            principal=product.min_amount,
            months=product.default_term_months,
            disbursed_on=today,
        ),
        default_currency_digits=currency_digits,
    )


def check_within_product(product: ProductTerms, terms: ScheduleTerms) -> list[str]:
    """What in these loan terms the product does not allow (empty when all is within it).

    The amount must lie within the product's limits, the rate must be the product's, and the
    last installment must fall between the minimum and the maximum term after disbursement.
    """
    problems: list[str] = []
    if not product.min_amount <= terms.principal <= product.max_amount:
        problems.append(
            _(
                "%(product)s lends between %(minimum)s and %(maximum)s; %(amount)s was asked.",
                product=product.name,
                minimum=fmt_money(product.min_amount),
                maximum=fmt_money(product.max_amount),
                amount=fmt_money(terms.principal),
            )
        )
    if terms.annual_rate_pct != product.annual_rate_pct:
        problems.append(
            _(
                "The rate of %(product)s is %(rate)s %% a year, not %(asked)s %%.",
                product=product.name,
                rate=fmt_number(product.annual_rate_pct),
                asked=fmt_number(terms.annual_rate_pct),
            )
        )
    last_due = due_dates(terms)[-1]
    earliest = calendar.add_months(terms.disbursed_on, product.min_term_months)
    latest = calendar.add_months(terms.disbursed_on, product.max_term_months)
    if not earliest <= last_due <= latest:
        problems.append(
            _(
                "The last installment falls on %(last)s; %(product)s allows terms of "
                "%(minimum)s–%(maximum)s months, so it must fall between %(earliest)s and "
                "%(latest)s.",
                last=fmt_date(last_due),
                product=product.name,
                minimum=product.min_term_months,
                maximum=product.max_term_months,
                earliest=fmt_date(earliest),
                latest=fmt_date(latest),
            )
        )
    return problems
