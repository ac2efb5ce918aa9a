"""Date stepping and day counts of schedules."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loanfund.domain import calendar
from loanfund.domain.calendar import (
    add_months,
    days_by_year,
    days_in_month,
    is_leap_year,
    period_years,
    step,
    step_dates,
    year_fraction,
    year_length,
)

D = dt.date


def test_leap_years_follow_the_gregorian_rule():
    assert [is_leap_year(year) for year in (2023, 2024, 2100, 2000)] == [False, True, False, True]
    assert [days_in_month(2024, 2), days_in_month(2023, 2), days_in_month(2023, 4)] == [29, 28, 30]


def test_adding_a_month_to_31_january_clamps_to_the_end_of_february():
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2023, 1, 31), 1) == D(2023, 2, 28)


def test_adding_months_rolls_over_years_both_ways():
    assert add_months(D(2023, 11, 30), 3) == D(2024, 2, 29)
    assert add_months(D(2024, 3, 31), -1) == D(2024, 2, 29)
    assert add_months(D(2024, 1, 15), -13) == D(2022, 12, 15)


def test_month_steps_from_the_anchor_keep_the_day_of_month():
    """31 Jan → 29 Feb → 31 Mar → 30 Apr → 31 May: never stuck on the 29th."""
    dates = [step(D(2024, 1, 31), "month", 1, k) for k in range(5)]

    assert dates == [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30), D(2024, 5, 31)]


@pytest.mark.parametrize(
    ("start", "frequency", "every", "count", "expected"),
    [
        (D(2024, 1, 31), "quarter", 1, 1, D(2024, 4, 30)),
        (D(2023, 11, 30), "quarter", 1, 1, D(2024, 2, 29)),
        (D(2023, 8, 31), "half_year", 1, 1, D(2024, 2, 29)),
        (D(2024, 2, 29), "year", 1, 1, D(2025, 2, 28)),
        (D(2023, 12, 31), "month", 2, 1, D(2024, 2, 29)),
        (D(2024, 2, 29), "week", 1, 1, D(2024, 3, 7)),
        (D(2024, 2, 29), "week", 2, 3, D(2024, 4, 11)),
        (D(2024, 2, 15), "day", 15, 2, D(2024, 3, 16)),
        (D(2024, 3, 31), "month", 1, -1, D(2024, 2, 29)),
    ],
)
def test_step_moves_by_every_times_frequency(start, frequency, every, count, expected):
    assert step(start, frequency, every, count) == expected


def test_step_from_29_february_by_years_comes_back_to_29_february_in_leap_years():
    assert step(D(2024, 2, 29), "year", 1, 1) == D(2025, 2, 28)
    assert step(D(2024, 2, 29), "year", 1, 4) == D(2028, 2, 29)


def test_unknown_frequency_is_a_value_error():
    with pytest.raises(ValueError, match="fortnight"):
        step(D(2024, 1, 1), "fortnight", 1, 1)


def test_stepping_past_year_9999_is_an_error_not_a_wrong_date():
    with pytest.raises((ValueError, OverflowError)):
        step(D(9999, 6, 1), "year", 1, 1)
    with pytest.raises((ValueError, OverflowError)):
        step(D(2024, 1, 1), "day", 10**12, 1)


def test_step_dates_from_31_january_clamp_each_month():
    assert step_dates(D(2023, 1, 31), "month", 1, 1, 4) == [
        D(2023, 2, 28),
        D(2023, 3, 31),
        D(2023, 4, 30),
        D(2023, 5, 31),
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.dates(D(1900, 1, 1), D(2100, 12, 31)),
    st.sampled_from(calendar.FREQUENCIES),
    st.integers(1, 4),
    st.integers(0, 2),
    st.integers(1, 60),
)
def test_step_dates_agree_with_step_and_strictly_increase(anchor, frequency, every, first, count):
    dates = step_dates(anchor, frequency, every, first, count)

    assert dates == [step(anchor, frequency, every, k) for k in range(first, first + count)]
    assert all(earlier < later for earlier, later in itertools.pairwise(dates))


@settings(max_examples=200, deadline=None)
@given(st.dates(D(1900, 1, 1), D(2100, 12, 31)), st.integers(-600, 600))
def test_add_months_keeps_the_day_or_clamps_to_the_month_end(day, months):
    result = add_months(day, months)

    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == min(day.day, days_in_month(result.year, result.month))


def test_year_lengths_of_each_convention():
    assert [year_length(2024, basis) for basis in ("365", "360", "364")] == [365, 360, 364]
    assert [year_length(year, "actual") for year in (2023, 2024, 2100, 2000)] == [
        365,
        366,
        365,
        366,
    ]
    with pytest.raises(ValueError, match="366"):
        year_length(2024, "366")


def test_days_are_split_by_calendar_year():
    """15 Dec 2023 → 15 Jan 2024: 15..31 Dec = 17 days of 2023, 1..14 Jan = 14 days of 2024."""
    assert days_by_year(D(2023, 12, 15), D(2024, 1, 15)) == [(2023, 17), (2024, 14)]
    assert days_by_year(D(2023, 12, 1), D(2024, 1, 1)) == [(2023, 31)]
    assert days_by_year(D(2023, 12, 31), D(2025, 1, 2)) == [(2023, 1), (2024, 366), (2025, 1)]
    assert days_by_year(D(2024, 3, 1), D(2024, 3, 1)) == []


def test_year_fraction_with_a_fixed_year_is_days_over_the_year():
    assert year_fraction(D(2024, 1, 15), D(2024, 2, 15), "365") == (31, 365)
    assert year_fraction(D(2024, 1, 15), D(2024, 2, 15), "360") == (31, 360)


def test_year_fraction_actual_counts_each_day_against_its_own_year():
    """17/365 + 14/366 = (17 × 366 + 14 × 365) / (365 × 366) = 11,332 / 133,590."""
    assert year_fraction(D(2023, 12, 15), D(2024, 1, 15), "actual") == (11332, 133590)
    assert year_fraction(D(2024, 1, 15), D(2024, 2, 15), "actual") == (31, 366)
    assert year_fraction(D(2024, 12, 1), D(2025, 1, 1), "actual") == (31, 366)
    # Two ordinary years: every day is 1/365.
    assert year_fraction(D(2022, 12, 15), D(2023, 1, 15), "actual") == (31, 365)


def test_period_years_are_exact_fractions():
    assert period_years("month", 1, "365") == (1, 12)
    assert period_years("month", 3, "365") == (3, 12)
    assert period_years("quarter", 1, "actual") == (1, 4)
    assert period_years("half_year", 1, "360") == (1, 2)
    assert period_years("year", 2, "365") == (2, 1)
    assert period_years("week", 2, "360") == (14, 360)
    assert period_years("day", 15, "364") == (15, 364)
    assert period_years("day", 1, "actual") == (1, 365)


def test_working_days_skip_weekends():
    from loanfund.domain.calendar import add_working_days, working_days_between

    # Friday 20 Nov 2026 + 1 working day is Monday 23 Nov; + 5 is Friday 27 Nov.
    friday = dt.date(2026, 11, 20)
    assert add_working_days(friday, 1) == dt.date(2026, 11, 23)
    assert add_working_days(friday, 5) == dt.date(2026, 11, 27)
    # From Friday to the Monday 10 days later: Mon–Fri of one week (5) and the Monday (1).
    assert working_days_between(friday, dt.date(2026, 11, 30)) == 6
    assert working_days_between(friday, friday) == 0


@given(
    start=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 1, 1)),
    days=st.integers(min_value=0, max_value=400),
)
def test_working_days_between_undoes_add_working_days(start, days):
    from loanfund.domain.calendar import add_working_days, working_days_between

    assert working_days_between(start, add_working_days(start, days)) == days
