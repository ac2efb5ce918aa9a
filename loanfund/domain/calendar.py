"""Dates of a repayment schedule: stepping by frequency, and how many days make a year.

A schedule's due dates are all computed from one **anchor** date: the k-th date is
``anchor + k × every × frequency``. Month-based steps (month, quarter, half year, year) add
``k × months`` to the anchor in one go and clamp the day to the end of the target month, so a
schedule anchored on 31 January falls due on 28/29 February, 31 March, 30 April, 31 May… and
never drifts to the 28th for good, as repeated one-month steps would.

Interest by days needs the length of a year: a fixed 365, 360 or 364 days, or ``actual``: 365 or
366 according to the calendar year of each day, so a period across 31 December splits its days
between the two years (see :func:`year_fraction`).

Everything here is exact integer arithmetic on :class:`datetime.date`; nothing reads the clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

#: Frequencies a schedule may use, in increasing length.
FREQUENCIES: Final = ("day", "week", "month", "quarter", "half_year", "year")

#: Months in one step of each month-based frequency.
MONTHS_PER_STEP: Final = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}

#: Days in one step of each day-based frequency.
DAYS_PER_STEP: Final = {"day": 1, "week": 7}

#: Day-count year lengths a schedule may use (``actual`` = 365 or 366 by calendar year).
DAYS_IN_YEAR_CHOICES: Final = ("365", "360", "364", "actual")

#: Length of a year, in periods of each month-based frequency.
PERIODS_PER_YEAR: Final = {"month": 12, "quarter": 4, "half_year": 2, "year": 1}

_DAYS_IN_MONTH: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_leap_year(year: int) -> bool:
    """True for Gregorian leap years (2024, 2000), false otherwise (2023, 2100)."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    """Number of days in ``month`` (1–12) of ``year``: 28 to 31."""
    if month == 2 and is_leap_year(year):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def add_months(day: dt.date, months: int) -> dt.date:
    """Add (or, if negative, subtract) whole months, clamping to the end of the target month.

    Args:
        day: the starting date.
        months: months to add; may be negative.

    Returns:
        The same day of the month ``months`` later, or the last day of that month when it is
        shorter: ``add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)``.

    Raises:
        ValueError: when the result falls outside the years 1–9999.
    """
    month_index = day.year * 12 + day.month - 1 + months
    year, month_zero = divmod(month_index, 12)
    month = month_zero + 1
    last = days_in_month(year, month)
    return dt.date(year, month, day.day if day.day <= last else last)


def step(anchor: dt.date, frequency: str, every: int, count: int) -> dt.date:
    """The date ``count`` periods of ``every`` × ``frequency`` from ``anchor``.

    Month-based frequencies add ``count × every × months`` to the anchor in one step (see
    :func:`add_months`), so the anchor's day of the month is kept wherever the month has it.

    Args:
        anchor: the date the schedule is counted from.
        frequency: one of :data:`FREQUENCIES`.
        every: periods are ``every`` × ``frequency`` long (``every=2, frequency="week"``).
        count: how many periods to step; may be zero or negative.

    Returns:
        The stepped date.

    Raises:
        ValueError: for an unknown frequency or a date outside the years 1–9999.
        OverflowError: for a day step too large for :class:`datetime.timedelta`.
    """
    months = MONTHS_PER_STEP.get(frequency)
    if months is not None:
        return add_months(anchor, count * every * months)
    days = DAYS_PER_STEP.get(frequency)
    if days is None:
        raise ValueError(f"Unknown frequency {frequency!r}; use one of {', '.join(FREQUENCIES)}.")
    return anchor + dt.timedelta(days=count * every * days)


def step_dates(
    anchor: dt.date, frequency: str, every: int, first: int, count: int
) -> list[dt.date]:
    """``count`` dates stepped from ``anchor``: periods ``first``, ``first + 1``, … from it.

    Every date is computed from the anchor itself (never from the previous date), so month ends
    are clamped without drifting.

    Args:
        anchor: the date the schedule is counted from.
        frequency: one of :data:`FREQUENCIES`.
        every: periods are ``every`` × ``frequency`` long.
        first: the period number of the first date (0 = the anchor itself).
        count: how many dates.

    Returns:
        The dates, in increasing order.
    """
    months = MONTHS_PER_STEP.get(frequency)
    if months is None:
        if count <= 0:
            return []
        # Day steps: the first and last dates through step(), which raises for an unknown
        # frequency or a date out of range; the dates between them are then valid too, and
        # are made from their day numbers (3x faster than adding a timedelta to each).
        start = step(anchor, frequency, every, first).toordinal()
        step(anchor, frequency, every, first + count - 1)
        days = every * DAYS_PER_STEP[frequency]
        return [dt.date.fromordinal(start + k * days) for k in range(count)]
    # Month steps inlined (this is the hot path of every schedule): each date's month, counted
    # from January of year 0, and then its day clamped to the month's end.
    base = anchor.year * 12 + anchor.month - 1
    anchor_day = anchor.day
    months_per_period = every * months
    indices = [base + k * months_per_period for k in range(first, first + count)]
    if anchor_day <= 28:  # every month has this day: nothing to clamp
        return [dt.date(index // 12, index % 12 + 1, anchor_day) for index in indices]
    dates = []
    for index in indices:
        year, month = index // 12, index % 12 + 1
        last = days_in_month(year, month)
        dates.append(dt.date(year, month, anchor_day if anchor_day <= last else last))
    return dates


def year_length(year: int, days_in_year: str) -> int:
    """Days in ``year`` under a day-count convention.

    Args:
        year: the calendar year (only matters for ``actual``).
        days_in_year: ``"365"``, ``"360"``, ``"364"`` or ``"actual"``.

    Returns:
        The fixed length, or 365 / 366 for ``actual``.
    """
    if days_in_year == "actual":
        return 366 if is_leap_year(year) else 365
    if days_in_year not in DAYS_IN_YEAR_CHOICES:
        raise ValueError(
            f"Unknown days in year {days_in_year!r}; use one of {', '.join(DAYS_IN_YEAR_CHOICES)}."
        )
    return int(days_in_year)


def days_by_year(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    """Split the days from ``start`` (included) to ``end`` (excluded) by calendar year.

    A period's days are the days interest runs: from ``start`` itself up to the day before
    ``end``; 15 Dec 2023 → 15 Jan 2024 is 17 days of 2023 and 14 days of 2024.

    Args:
        start: first day of the period.
        end: the day after the period's last day (its due date); not before ``start``.

    Returns:
        ``(year, days)`` pairs, in order, for each year with at least one day.
    """
    pieces = []
    day = start
    while day.year < end.year:
        next_year = dt.date(day.year + 1, 1, 1)
        pieces.append((day.year, (next_year - day).days))
        day = next_year
    if end > day:
        pieces.append((day.year, (end - day).days))
    return pieces


def year_fraction(start: dt.date, end: dt.date, days_in_year: str) -> tuple[int, int]:
    """The period from ``start`` to ``end`` as an exact fraction of a year, by day count.

    Args:
        start: first day of the period (interest runs from it).
        end: the due date (interest runs up to the day before).
        days_in_year: ``"365"``, ``"360"``, ``"364"`` or ``"actual"``. Under ``actual`` each day
            counts as 1/365 or 1/366 of a year by its own calendar year.

    Returns:
        ``(numerator, denominator)`` such that the period is ``numerator / denominator`` years:
        ``(31, 365)`` for a 31-day period; under ``actual`` across 31 Dec 2023,
        17/365 + 14/366 = ``(17 × 366 + 14 × 365, 365 × 366)``.
    """
    if days_in_year != "actual":
        return (end - start).days, year_length(start.year, days_in_year)
    # Fast paths for the periods of every schedule; they give what the general sum below would.
    year = start.year
    if end.year == year or (end.year == year + 1 and end.month == 1 and end.day == 1):
        return (end - start).days, 366 if is_leap_year(year) else 365
    if end.year == year + 1:  # across one 31 December
        new_year = dt.date(end.year, 1, 1)
        before, after = (new_year - start).days, (end - new_year).days
        length, next_length = year_length(year, "actual"), year_length(year + 1, "actual")
        if length == next_length:
            return before + after, length
        return before * next_length + after * length, length * next_length
    pieces = days_by_year(start, end)
    lengths = {year_length(year, "actual") for year, _days in pieces}
    denominator = 1
    for length in lengths:
        denominator *= length
    numerator = sum(days * (denominator // year_length(year, "actual")) for year, days in pieces)
    return numerator, denominator


def period_years(frequency: str, every: int, days_in_year: str) -> tuple[int, int]:
    """The nominal length of one period in years, as an exact fraction.

    Month = 1/12, quarter = 1/4, half year = 1/2, year = 1; week = 7 / days in year and
    day = 1 / days in year; all times ``every``. Under ``actual`` a week or day counts against
    a 365-day year, since a nominal period has no calendar year of its own.

    Args:
        frequency: one of :data:`FREQUENCIES`.
        every: periods are ``every`` × ``frequency`` long.
        days_in_year: ``"365"``, ``"360"``, ``"364"`` or ``"actual"``.

    Returns:
        ``(numerator, denominator)``: ``(1, 12)`` for a month, ``(14, 365)`` for two weeks.
    """
    per_year = PERIODS_PER_YEAR.get(frequency)
    if per_year is not None:
        return every, per_year
    days = DAYS_PER_STEP.get(frequency)
    if days is None:
        raise ValueError(f"Unknown frequency {frequency!r}; use one of {', '.join(FREQUENCIES)}.")
    year_days = 365 if days_in_year == "actual" else year_length(2001, days_in_year)
    return every * days, year_days


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days (Monday to Friday) after ``start``.

    Public holidays are not counted out: the fund's holiday calendar is not configured yet.
    """
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days (Monday to Friday) after ``start`` up to and including ``end``; 0 when
    ``end`` is not after ``start``."""
    if end <= start:
        return 0
    whole_weeks, rest = divmod((end - start).days, 7)
    count = whole_weeks * 5
    for offset in range(1, rest + 1):
        if (start + dt.timedelta(days=whole_weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count
