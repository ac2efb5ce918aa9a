"""Loan products: a sound definition, and loan terms within a product's limits."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from loanfund.domain.products import (
    ProductTerms,
    PurposeCategory,
    check_product,
    check_within_product,
    installments_for,
)
from loanfund.domain.schedule import ScheduleTerms

D = Decimal

EQUIPMENT = ProductTerms(
    code="TB-2026",
    name="Equipment loan",
    description="Machines and packaging lines.",
    purposes=frozenset({PurposeCategory.EQUIPMENT}),
    min_amount=D(100_000_000),
    max_amount=D(1_000_000_000),
    min_term_months=12,
    max_term_months=60,
    default_term_months=36,
    annual_rate_pct=D("5.4"),
    overdue_rate_pct_of_rate=D(150),
    schedule_options={"method": "equal_principal", "principal_every": 3},
)


def test_a_sound_product_has_no_problems():
    assert check_product(EQUIPMENT, currency_digits=0) == []


def test_every_problem_of_a_bad_product_is_listed():
    bad = replace(
        EQUIPMENT,
        code="tb 2026",
        name=" ",
        purposes=frozenset(),
        min_amount=D(2_000_000_000),
        min_term_months=72,
        annual_rate_pct=D(101),
        overdue_rate_pct_of_rate=D(160),
    )
    problems = check_product(bad, currency_digits=0)
    assert len(problems) == 7, problems
    assert any("2,000,000,000" in p and "1,000,000,000" in p for p in problems)
    assert any("minimum (72) ≤ maximum (60)" in p for p in problems)
    assert any("160" in p and "150" in p for p in problems)


def test_proposed_schedule_terms_are_checked_by_the_engine():
    # An annuity cannot have principal only every third installment (its installments would
    # not all be equal): the engine's own message is the product's problem.
    product = replace(EQUIPMENT, schedule_options={"method": "annuity", "principal_every": 3})
    problems = check_product(product, currency_digits=0)
    assert len(problems) == 1 and "annuity" in problems[0].lower()
    unknown = replace(EQUIPMENT, schedule_options={"principal": "5"})
    assert check_product(unknown, currency_digits=0) == ["Unknown schedule terms: principal."]


@pytest.mark.parametrize(
    ("months", "frequency", "every", "expected"),
    [
        (36, "month", 1, 36),
        (36, "quarter", 1, 12),  # 36 ÷ 3
        (36, "month", 2, 18),  # 36 ÷ 2
        (12, "half_year", 1, 2),
        (6, "year", 1, 1),  # never fewer than one installment
        (12, "week", 2, 26),  # 12 × 365 ÷ 12 = 365 days; 365 ÷ 14 = 26 (rounded down)
        (1, "day", 15, 2),  # 1 × 365 ÷ 12 = 30 days (rounded down); 30 ÷ 15 = 2
    ],
)
def test_installments_that_fit_a_term(months, frequency, every, expected):
    assert installments_for(months, frequency, every) == expected


def test_terms_outside_the_product_are_each_explained_with_the_limits():
    # 72 monthly installments from 15 Jan 2026 end on 15 Jan 2032; the product allows
    # 12–60 months, i.e. a last installment between 15 Jan 2027 and 15 Jan 2031.
    terms = ScheduleTerms(
        principal=D(1_200_000_000),
        annual_rate_pct=D(5),
        installments=72,
        disbursed_on=dt.date(2026, 1, 15),
    )
    problems = check_within_product(EQUIPMENT, terms)
    assert len(problems) == 3
    assert "1,000,000,000" in problems[0] and "1,200,000,000" in problems[0]
    assert "5.4" in problems[1]
    assert "2032-01-15" in problems[2]
    assert "2027-01-15" in problems[2] and "2031-01-15" in problems[2]


def test_terms_inside_the_product_pass():
    terms = ScheduleTerms(
        principal=D(300_000_000),
        annual_rate_pct=D("5.4"),
        installments=36,
        disbursed_on=dt.date(2026, 1, 15),
    )
    assert check_within_product(EQUIPMENT, terms) == []
