"""Invariants every schedule keeps, over wide ranges of terms (Hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import numpy_financial as npf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanfund.domain.schedule import (
    Schedule,
    ScheduleTerms,
    build_schedule,
    explain_installment,
    parse_terms,
    to_json_dict,
)

PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def term_mappings(draw: st.DrawFn) -> dict[str, object]:
    """JSON-like terms that are valid: principal 1–10^12, 0–40 %, 1–360 installments."""
    digits = draw(st.sampled_from([0, 2]))
    method = draw(st.sampled_from(["equal_principal", "annuity", "flat", "bullet"]))
    principal_every = 1 if method == "annuity" else draw(st.sampled_from([1, 1, 2, 3, 6]))
    grace = draw(st.integers(0, 24))
    bearing = draw(st.integers(1, (360 - grace) // principal_every))
    installments = grace + bearing * principal_every
    whole = draw(st.integers(1, 10**12))
    cents = draw(st.integers(0, 99)) if digits == 2 else 0
    frequency = draw(st.sampled_from(["day", "week", "month", "quarter", "half_year", "year"]))
    every = draw(st.integers(1, 30 if frequency == "day" else 3))
    disbursed_on = draw(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))
    first_due_on = draw(
        st.none() | st.integers(1, 120).map(lambda days: disbursed_on + dt.timedelta(days=days))
    )
    if digits == 0:
        multiple = draw(st.sampled_from([None, "1000", "500", "1"]))
    else:
        multiple = draw(st.sampled_from([None, "0.05", "1", "10.00"]))
    data: dict[str, object] = {
        "principal": f"{whole}.{cents:02d}" if digits == 2 else str(whole),
        "annual_rate_pct": str(Decimal(draw(st.integers(0, 4000))) / 100),
        "installments": installments,
        "frequency": frequency,
        "every": every,
        "disbursed_on": disbursed_on.isoformat(),
        "first_due_on": first_due_on.isoformat() if first_due_on else None,
        "method": method,
        "interest_basis": draw(st.sampled_from(["daily", "periodic"])),
        "days_in_year": draw(st.sampled_from(["365", "360", "364", "actual"])),
        "principal_grace": grace,
        "interest_deferred": draw(st.integers(0, installments)),
        "interest_free": draw(st.integers(0, installments)),
        "principal_every": principal_every,
        "currency_digits": digits,
        "rounding": draw(st.sampled_from(["half_up", "half_even"])),
        "installment_multiple": multiple,
        "installment_rounding": draw(st.sampled_from(["nearest", "up"])),
    }
    # Keep some schedules simple, so that plain cases are tried often too.
    if draw(st.booleans()):
        for key in ("interest_deferred", "interest_free"):
            data[key] = 0
    return data


def built(data: dict[str, object]) -> tuple[ScheduleTerms, Schedule]:
    terms = parse_terms(data, default_currency_digits=0)
    return terms, build_schedule(terms)


@PROPERTY_SETTINGS
@given(term_mappings())
def test_principal_parts_add_up_to_the_principal_and_the_balance_ends_at_zero(data):
    terms, schedule = built(data)
    rows = schedule.installments

    assert sum((row.principal for row in rows), Decimal(0)) == terms.principal
    assert rows[-1].outstanding == 0
    balance = terms.principal
    for row in rows:
        balance -= row.principal
        assert row.outstanding == balance
        assert row.outstanding >= 0


@PROPERTY_SETTINGS
@given(term_mappings())
def test_no_installment_component_is_negative_and_totals_are_sums(data):
    terms, schedule = built(data)
    rows = schedule.installments

    for row in rows:
        assert row.principal >= 0 and row.interest >= 0
        assert row.total == row.principal + row.interest
        for amount in (row.principal, row.interest, row.total, row.outstanding):
            assert amount == amount.quantize(Decimal(1).scaleb(-terms.currency_digits))
            assert not str(amount).startswith("-")
    assert schedule.total_principal == sum((row.principal for row in rows), Decimal(0))
    assert schedule.total_interest == sum((row.interest for row in rows), Decimal(0))
    assert schedule.total == sum((row.total for row in rows), Decimal(0))


@PROPERTY_SETTINGS
@given(term_mappings())
def test_dates_strictly_increase_and_days_count_the_periods(data):
    terms, schedule = built(data)
    rows = schedule.installments

    assert [row.n for row in rows] == list(range(1, terms.installments + 1))
    previous_on = terms.disbursed_on
    for row in rows:
        assert row.due_on > previous_on
        assert row.days == (row.due_on - previous_on).days
        previous_on = row.due_on
    if terms.first_due_on is not None:
        assert rows[0].due_on == terms.first_due_on


@PROPERTY_SETTINGS
@given(term_mappings())
def test_zero_rate_gives_zero_interest(data):
    data["annual_rate_pct"] = "0"
    _terms, schedule = built(data)

    assert all(row.interest == 0 for row in schedule.installments)
    assert schedule.total_interest == 0


@PROPERTY_SETTINGS
@given(term_mappings())
def test_interest_free_and_deferred_periods_carry_no_interest(data):
    terms, schedule = built(data)
    quiet = max(terms.interest_free, terms.interest_deferred)
    target = terms.interest_deferred + 1 if terms.interest_deferred else None

    for row in schedule.installments:
        if row.n <= quiet and row.n != target and row.n != terms.installments:
            assert row.interest == 0


def nominal_period_years(frequency: str, every: int, days_in_year: str) -> Fraction:
    """Month 1/12, quarter 1/4, half year 1/2, year 1, week 7/days, day 1/days; × every."""
    year_days = 365 if days_in_year == "actual" else int(days_in_year)
    per_period = {
        "month": Fraction(1, 12),
        "quarter": Fraction(1, 4),
        "half_year": Fraction(1, 2),
        "year": Fraction(1),
        "week": Fraction(7, year_days),
        "day": Fraction(1, year_days),
    }[frequency]
    return per_period * every


@PROPERTY_SETTINGS
@given(term_mappings().filter(lambda data: data["method"] == "annuity"))
def test_regular_annuity_installments_are_all_equal_to_the_rounded_payment(data):
    terms, schedule = built(data)
    rows = schedule.installments
    quiet = max(
        terms.principal_grace,
        terms.interest_free,
        terms.interest_deferred + 1 if terms.interest_deferred else 0,
    )
    regular = [
        row
        for row in rows
        if quiet < row.n < terms.installments and row.outstanding > 0 and row.principal > 0
    ]
    assert len({row.total for row in regular}) <= 1
    if not regular:
        return

    # numpy-financial's float payment (converted here only) must round to the same amount.
    rate = float(
        Fraction(str(terms.annual_rate_pct))
        / 100
        * nominal_period_years(terms.frequency, terms.every, terms.days_in_year)
    )
    count = terms.installments - terms.principal_grace
    payment = Decimal(str(npf.pmt(rate, count, -float(terms.principal))))
    step = terms.installment_multiple or Decimal(1).scaleb(-terms.currency_digits)
    difference = regular[0].total - payment
    slack = payment * Decimal("1e-9")  # the float's own error
    if terms.installment_rounding == "up":
        assert -slack <= difference < step + slack
    else:
        assert abs(difference) <= step / 2 + slack


@PROPERTY_SETTINGS
@given(term_mappings().filter(lambda data: data["method"] == "equal_principal"))
def test_equal_principal_parts_are_equal_until_the_last(data):
    _terms, schedule = built(data)
    parts = {
        row.principal
        for row in schedule.installments[:-1]
        if row.principal > 0 and row.outstanding > 0
    }

    assert len(parts) <= 1


@PROPERTY_SETTINGS
@given(term_mappings().filter(lambda data: data["method"] == "bullet"))
def test_bullet_loans_repay_all_principal_in_the_last_installment(data):
    terms, schedule = built(data)

    assert all(row.principal == 0 for row in schedule.installments[:-1])
    assert schedule.installments[-1].principal == terms.principal


@PROPERTY_SETTINGS
@given(term_mappings())
def test_json_form_has_exactly_the_currency_digits(data):
    terms, schedule = built(data)
    written = to_json_dict(schedule, terms.currency_digits)

    for row, json_row in zip(schedule.installments, written["installments"], strict=True):
        for field in ("principal", "interest", "total", "outstanding"):
            text = json_row[field]
            assert Decimal(text) == getattr(row, field)
            decimals = len(text.partition(".")[2])
            assert decimals == terms.currency_digits
        assert json_row["due_on"] == row.due_on.isoformat()
    assert Decimal(written["totals"]["total"]) == schedule.total


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(term_mappings(), st.data())
def test_every_installment_can_be_explained(data, choice):
    terms, schedule = built(data)
    n = choice.draw(st.integers(1, terms.installments))

    steps = explain_installment(terms, schedule, n)

    assert steps and all(isinstance(step, str) and step for step in steps)
    assert str(schedule.installments[n - 1].due_on.isoformat()) in steps[0]
