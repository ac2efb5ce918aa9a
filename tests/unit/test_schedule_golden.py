"""Golden schedules: every expected number is derived by hand in the test's docstring.

Notation: ``B`` is the balance outstanding during a period, ``→`` shows a rounding (half up
unless said otherwise). Rows are ``(due_on, days, principal, interest, total, outstanding)``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy_financial as npf
import pytest

from loanfund.domain.errors import RuleViolation
from loanfund.domain.schedule import (
    Installment,
    Schedule,
    build_schedule,
    explain_installment,
    parse_terms,
    to_json_dict,
)


def terms_of(digits: int = 0, **overrides: object):
    """Terms with a few defaults the tests override: 3 monthly installments from 15 Jan 2023."""
    data: dict[str, object] = {
        "principal": "12000000",
        "annual_rate_pct": "6",
        "installments": 3,
        "disbursed_on": "2023-01-15",
    }
    data.update(overrides)
    return parse_terms(data, default_currency_digits=digits)


def table(schedule: Schedule) -> list[tuple[str, int, str, str, str, str]]:
    return [
        (
            row.due_on.isoformat(),
            row.days,
            str(row.principal),
            str(row.interest),
            str(row.total),
            str(row.outstanding),
        )
        for row in schedule.installments
    ]


def test_equal_principal_daily_365_monthly_matches_hand_arithmetic():
    """12,000,000 VND at 6%, 3 monthly installments, disbursed 15 Jan 2023, actual/365.

    Principal part: 12,000,000 ÷ 3 = 4,000,000.
    15 Jan → 15 Feb: 31 days; B 12,000,000 × 6% × 31 / 365 = 22,320,000 / 365
        = 61,150.68… → 61,151.
    15 Feb → 15 Mar: 28 days; B 8,000,000 × 6% × 28 / 365 = 13,440,000 / 365 = 36,821.91… → 36,822.
    15 Mar → 15 Apr: 31 days; B 4,000,000 × 6% × 31 / 365 = 7,440,000 / 365 = 20,383.56… → 20,384.
    Interest total 61,151 + 36,822 + 20,384 = 118,357; total 12,118,357.
    """
    schedule = build_schedule(terms_of())

    assert table(schedule) == [
        ("2023-02-15", 31, "4000000", "61151", "4061151", "8000000"),
        ("2023-03-15", 28, "4000000", "36822", "4036822", "4000000"),
        ("2023-04-15", 31, "4000000", "20384", "4020384", "0"),
    ]
    assert schedule.total_principal == Decimal("12000000")
    assert schedule.total_interest == Decimal("118357")
    assert schedule.total == Decimal("12118357")


def test_annuity_periodic_regular_installment_matches_numpy_financial_pmt():
    """12,000,000 at 12% over 4 months: r = 12% × 1/12 = 1%.

    A = 12,000,000 × 0.01 ÷ (1 − 1.01^−4) = 120,000 ÷ 0.0390196… = 3,075,373.13 → 3,075,373,
    which numpy-financial's pmt (a float, converted only here) must agree with after rounding.
    """
    schedule = build_schedule(
        terms_of(method="annuity", interest_basis="periodic", annual_rate_pct="12", installments=4)
    )

    pmt = Decimal(str(npf.pmt(0.01, 4, -12000000))).quantize(Decimal(1))
    assert pmt == Decimal("3075373")
    assert schedule.installments[0].total == pmt


def test_annuity_periodic_schedule_matches_hand_arithmetic():
    """12,000,000 at 12% periodic, 4 monthly installments, A = 3,075,373 (see above).

    1: interest 12,000,000 × 1% = 120,000; principal 3,075,373 − 120,000 = 2,955,373;
       outstanding 9,044,627.
    2: interest 9,044,627 × 1% = 90,446.27 → 90,446; principal 2,984,927; outstanding 6,059,700.
    3: interest 6,059,700 × 1% = 60,597; principal 3,014,776; outstanding 3,044,924.
    4: interest 3,044,924 × 1% = 30,449.24 → 30,449; principal = the balance 3,044,924;
       total 3,075,373 (no residue this time).
    """
    schedule = build_schedule(
        terms_of(method="annuity", interest_basis="periodic", annual_rate_pct="12", installments=4)
    )

    assert table(schedule) == [
        ("2023-02-15", 31, "2955373", "120000", "3075373", "9044627"),
        ("2023-03-15", 28, "2984927", "90446", "3075373", "6059700"),
        ("2023-04-15", 31, "3014776", "60597", "3075373", "3044924"),
        ("2023-05-15", 30, "3044924", "30449", "3075373", "0"),
    ]


def test_flat_with_installment_multiple_makes_each_regular_installment_a_multiple_of_1000():
    """10,000,000 at 7% flat, periodic, 3 monthly installments, multiple 1,000.

    Interest each month on the original principal: 10,000,000 × 7% × 1/12 = 58,333.33 → 58,333.
    Principal ÷ installments: 3,333,333.33 → nearest 1,000: 3,333,000.
    Regular principal = 3,333,000 + (58,333 → 58,000) − 58,333 = 3,332,667; total 3,391,000.
    Outstanding 10,000,000 − 3,332,667 = 6,667,333, then 3,334,666.
    Last: principal 3,334,666 + interest 58,333 = 3,392,999.
    """
    schedule = build_schedule(
        terms_of(
            principal="10000000",
            annual_rate_pct="7",
            method="flat",
            interest_basis="periodic",
            installment_multiple="1000",
        )
    )

    assert table(schedule) == [
        ("2023-02-15", 31, "3332667", "58333", "3391000", "6667333"),
        ("2023-03-15", 28, "3332667", "58333", "3391000", "3334666"),
        ("2023-04-15", 31, "3334666", "58333", "3392999", "0"),
    ]


def test_flat_without_multiple_rounds_the_principal_part_to_the_currency_unit():
    """10,000,000 at 7% flat, periodic, 3 months: principal 3,333,333.33 → 3,333,333.

    Interest 58,333 each month; the last principal is 10,000,000 − 2 × 3,333,333 = 3,333,334.
    """
    schedule = build_schedule(
        terms_of(
            principal="10000000", annual_rate_pct="7", method="flat", interest_basis="periodic"
        )
    )

    assert [str(row.principal) for row in schedule.installments] == [
        "3333333",
        "3333333",
        "3333334",
    ]
    assert {str(row.interest) for row in schedule.installments} == {"58333"}


def test_bullet_pays_interest_quarterly_and_all_principal_at_the_end():
    """50,000,000 at 8%, bullet, 4 quarterly installments, disbursed 31 Mar 2023, actual/365.

    Dates from the anchor 31 Mar, + 3, 6, 9, 12 months, clamped: 30 Jun, 30 Sep, 31 Dec 2023,
    31 Mar 2024. Days: 91, 92, 92, 91 (31 Jan + 29 Feb + 31 Mar 2024).
    Interest: 50,000,000 × 8% = 4,000,000 a year;
    × 91 / 365 = 997,260.27 → 997,260; × 92 / 365 = 1,008,219.18 → 1,008,219.
    Principal 0, 0, 0, then 50,000,000.
    """
    schedule = build_schedule(
        terms_of(
            principal="50000000",
            annual_rate_pct="8",
            installments=4,
            frequency="quarter",
            method="bullet",
            disbursed_on="2023-03-31",
        )
    )

    assert table(schedule) == [
        ("2023-06-30", 91, "0", "997260", "997260", "50000000"),
        ("2023-09-30", 92, "0", "1008219", "1008219", "50000000"),
        ("2023-12-31", 92, "0", "1008219", "1008219", "50000000"),
        ("2024-03-31", 91, "50000000", "997260", "50997260", "0"),
    ]


def test_principal_grace_installments_carry_interest_only():
    """9,000,000 at 10% periodic, 5 monthly installments, principal grace 2.

    Monthly interest = B × 10% / 12. Principal 9,000,000 ÷ 3 = 3,000,000 in installments 3–5.
    1, 2: 9,000,000 × 10 / 1200 = 75,000, no principal.
    3: 75,000 + 3,000,000; 4: 6,000,000 → 50,000; 5: 3,000,000 → 25,000.
    """
    schedule = build_schedule(
        terms_of(
            principal="9000000",
            annual_rate_pct="10",
            installments=5,
            interest_basis="periodic",
            principal_grace=2,
        )
    )

    assert [(str(r.principal), str(r.interest)) for r in schedule.installments] == [
        ("0", "75000"),
        ("0", "75000"),
        ("3000000", "75000"),
        ("3000000", "50000"),
        ("3000000", "25000"),
    ]


def test_deferred_interest_falls_due_with_the_first_installment_after_the_deferral():
    """6,000,000 at 12% periodic, 4 monthly installments, interest deferred for 2 periods.

    Principal 1,500,000 each. Interest accrued: 6,000,000 × 1% = 60,000; 4,500,000 → 45,000;
    3,000,000 → 30,000; 1,500,000 → 15,000. Periods 1–2 are deferred (0 due), installment 3
    carries 30,000 + 60,000 + 45,000 = 135,000, installment 4 15,000. Total still 150,000.
    """
    schedule = build_schedule(
        terms_of(
            principal="6000000",
            annual_rate_pct="12",
            installments=4,
            interest_basis="periodic",
            interest_deferred=2,
        )
    )

    assert [str(r.interest) for r in schedule.installments] == ["0", "0", "135000", "15000"]
    assert [str(r.principal) for r in schedule.installments] == ["1500000"] * 4
    assert schedule.total_interest == Decimal("150000")


def test_deferral_covering_every_period_puts_all_interest_in_the_last_installment():
    """Same loan, deferral 4 = every period: 60,000 + 45,000 + 30,000 + 15,000 = 150,000 last."""
    schedule = build_schedule(
        terms_of(
            principal="6000000",
            annual_rate_pct="12",
            installments=4,
            interest_basis="periodic",
            interest_deferred=4,
        )
    )

    assert [str(r.interest) for r in schedule.installments] == ["0", "0", "0", "150000"]


def test_interest_free_periods_carry_no_interest():
    """Same loan, interest-free for 2 periods: 60,000 and 45,000 are waived; 30,000, 15,000 due."""
    schedule = build_schedule(
        terms_of(
            principal="6000000",
            annual_rate_pct="12",
            installments=4,
            interest_basis="periodic",
            interest_free=2,
        )
    )

    assert [str(r.interest) for r in schedule.installments] == ["0", "0", "30000", "15000"]
    assert schedule.total_interest == Decimal("45000")


def test_interest_free_period_of_an_annuity_lowers_the_installment_not_the_principal():
    """The 4-month 12,000,000 annuity at 12% (A = 3,075,373), period 1 interest-free.

    Principal stays A − accrued interest = 3,075,373 − 120,000 = 2,955,373, and the 120,000
    is waived, so installment 1 is 2,955,373; the others are as without the waiver.
    """
    schedule = build_schedule(
        terms_of(
            method="annuity",
            interest_basis="periodic",
            annual_rate_pct="12",
            installments=4,
            interest_free=1,
        )
    )

    assert table(schedule)[0] == ("2023-02-15", 31, "2955373", "0", "2955373", "9044627")
    assert [str(r.total) for r in schedule.installments[1:]] == ["3075373"] * 3


def test_principal_every_third_installment_with_monthly_interest():
    """12,000,000 at 12% periodic, 6 monthly installments, principal every 3rd (quarterly).

    Principal 12,000,000 ÷ 2 = 6,000,000 in installments 3 and 6.
    Interest 12,000,000 × 1% = 120,000 in months 1–3; 6,000,000 × 1% = 60,000 in months 4–6.
    """
    schedule = build_schedule(
        terms_of(
            annual_rate_pct="12",
            installments=6,
            interest_basis="periodic",
            principal_every=3,
        )
    )

    assert [(str(r.principal), str(r.interest)) for r in schedule.installments] == [
        ("0", "120000"),
        ("0", "120000"),
        ("6000000", "120000"),
        ("0", "60000"),
        ("0", "60000"),
        ("6000000", "60000"),
    ]


def test_short_first_period_under_periodic_basis_is_pro_rated_by_days():
    """3,000,000 at 12% periodic, disbursed 1 Mar 2023, first due 21 Mar: a 20-day first period.

    The regular period ending 21 Mar runs from 21 Feb: 28 days. Interest 1:
    3,000,000 × 12% × 1/12 × 20 / 28 = 30,000 × 20 / 28 = 21,428.57 → 21,429.
    Then 21 Apr: 2,000,000 × 1% = 20,000; 21 May: 1,000,000 × 1% = 10,000.
    """
    schedule = build_schedule(
        terms_of(
            principal="3000000",
            annual_rate_pct="12",
            interest_basis="periodic",
            disbursed_on="2023-03-01",
            first_due_on="2023-03-21",
        )
    )

    assert table(schedule) == [
        ("2023-03-21", 20, "1000000", "21429", "1021429", "2000000"),
        ("2023-04-21", 31, "1000000", "20000", "1020000", "1000000"),
        ("2023-05-21", 30, "1000000", "10000", "1010000", "0"),
    ]


def test_actual_days_in_year_splits_a_period_across_new_year_by_leap_year():
    """10,000,000 at 10%, daily, actual, 2 monthly installments from 15 Dec 2023.

    15 Dec 2023 → 15 Jan 2024: 17 days of 2023 (365) + 14 days of 2024 (366).
    Interest 10,000,000 × 10% × (17/365 + 14/366) = 46,575.34… + 38,251.37… = 84,826.71…
    → 84,827.
    15 Jan → 15 Feb 2024: 31 days of 2024: 5,000,000 × 10% × 31 / 366 = 42,349.73 → 42,350
    (a 365-day year would give 42,465.75).
    """
    schedule = build_schedule(
        terms_of(
            principal="10000000",
            annual_rate_pct="10",
            installments=2,
            days_in_year="actual",
            disbursed_on="2023-12-15",
        )
    )

    assert table(schedule) == [
        ("2024-01-15", 31, "5000000", "84827", "5084827", "5000000"),
        ("2024-02-15", 31, "5000000", "42350", "5042350", "0"),
    ]


def test_360_day_year_divides_the_days_by_360():
    """3,600,000 at 10%, 1 installment of 31 days, daily over 360: 360,000 × 31 / 360 = 31,000."""
    schedule = build_schedule(
        terms_of(principal="3600000", annual_rate_pct="10", installments=1, days_in_year=360)
    )

    assert str(schedule.installments[0].interest) == "31000"


def test_half_even_and_half_up_differ_on_an_exact_half():
    """3,000,250 at 12% periodic, 2 monthly installments: interest 1 = 3,000,250 × 1% = 30,002.5.

    half_up → 30,003; half_even → 30,002 (2 is even). Principal 3,000,250 ÷ 2 = 1,500,125 (exact);
    interest 2 = 1,500,125 × 1% = 15,001.25 → 15,001 either way.
    """
    half_up = build_schedule(
        terms_of(
            principal="3000250", annual_rate_pct="12", installments=2, interest_basis="periodic"
        )
    )
    half_even = build_schedule(
        terms_of(
            principal="3000250",
            annual_rate_pct="12",
            installments=2,
            interest_basis="periodic",
            rounding="half_even",
        )
    )

    assert [str(r.interest) for r in half_up.installments] == ["30003", "15001"]
    assert [str(r.interest) for r in half_even.installments] == ["30002", "15001"]


def test_installment_rounding_up_rounds_the_annuity_to_the_next_multiple():
    """The 4-month annuity of 12,000,000 at 12%: A = 3,075,373.13 → up to 3,076,000.

    1: 120,000 interest, principal 2,956,000, outstanding 9,044,000.
    2: 90,440 interest, principal 2,985,560, outstanding 6,058,440.
    3: 60,584.40 → 60,584, principal 3,015,416, outstanding 3,043,024.
    4: 30,430.24 → 30,430, principal 3,043,024, total 3,073,454 (the last absorbs the residue).
    Rounded to nearest instead, A would be 3,075,000.
    """
    up = build_schedule(
        terms_of(
            method="annuity",
            interest_basis="periodic",
            annual_rate_pct="12",
            installments=4,
            installment_multiple="1000",
            installment_rounding="up",
        )
    )
    nearest = build_schedule(
        terms_of(
            method="annuity",
            interest_basis="periodic",
            annual_rate_pct="12",
            installments=4,
            installment_multiple="1000",
        )
    )

    assert table(up) == [
        ("2023-02-15", 31, "2956000", "120000", "3076000", "9044000"),
        ("2023-03-15", 28, "2985560", "90440", "3076000", "6058440"),
        ("2023-04-15", 31, "3015416", "60584", "3076000", "3043024"),
        ("2023-05-15", 30, "3043024", "30430", "3073454", "0"),
    ]
    assert str(nearest.installments[0].total) == "3075000"


def test_rounded_up_installments_that_repay_early_are_capped_at_the_balance():
    """2,500 at 0%, annuity of 4, multiple 1,000 up: 2,500 ÷ 4 = 625 → 1,000.

    Principal 1,000, 1,000, then 1,000 > the 500 left, so capped at 500; the last carries 0.
    """
    schedule = build_schedule(
        terms_of(
            principal="2500",
            annual_rate_pct="0",
            installments=4,
            method="annuity",
            installment_multiple="1000",
            installment_rounding="up",
        )
    )

    assert [(str(r.principal), str(r.outstanding)) for r in schedule.installments] == [
        ("1000", "1500"),
        ("1000", "500"),
        ("500", "0"),
        ("0", "0"),
    ]


def test_month_end_clamping_from_31_january_never_drifts_to_the_28th():
    """4,000,000 at 9%, 4 monthly installments, disbursed 31 Jan 2024, actual/365.

    Dates: 29 Feb (leap), 31 Mar, 30 Apr, 31 May; days 29, 31, 30, 31.
    Interest: 4,000,000 × 9% × 29/365 = 10,440,000 / 365 = 28,602.74 → 28,603;
    3,000,000: 8,370,000 / 365 = 22,931.51 → 22,932; 2,000,000: 5,400,000 / 365 = 14,794.52
    → 14,795; 1,000,000: 2,790,000 / 365 = 7,643.84 → 7,644.
    """
    schedule = build_schedule(
        terms_of(
            principal="4000000", annual_rate_pct="9", installments=4, disbursed_on="2024-01-31"
        )
    )

    assert table(schedule) == [
        ("2024-02-29", 29, "1000000", "28603", "1028603", "3000000"),
        ("2024-03-31", 31, "1000000", "22932", "1022932", "2000000"),
        ("2024-04-30", 30, "1000000", "14795", "1014795", "1000000"),
        ("2024-05-31", 31, "1000000", "7644", "1007644", "0"),
    ]


def test_first_due_date_equal_to_the_default_gives_the_same_schedule():
    """31 Jan 2024 + 1 month = 29 Feb; giving 29 Feb explicitly still anchors on 31 Jan."""
    implicit = build_schedule(terms_of(installments=4, disbursed_on="2024-01-31"))
    explicit = build_schedule(
        terms_of(installments=4, disbursed_on="2024-01-31", first_due_on="2024-02-29")
    )

    assert explicit == implicit
    assert explicit.installments[1].due_on == dt.date(2024, 3, 31)


def test_explicit_first_due_date_anchors_the_later_dates():
    """Disbursed 10 Jan 2024, first due 31 Jan: then 29 Feb, 31 Mar (days 21, 29, 31)."""
    schedule = build_schedule(terms_of(disbursed_on="2024-01-10", first_due_on="2024-01-31"))

    assert [(r.due_on.isoformat(), r.days) for r in schedule.installments] == [
        ("2024-01-31", 21),
        ("2024-02-29", 29),
        ("2024-03-31", 31),
    ]


def test_every_two_weeks_under_periodic_basis_uses_14_days_of_a_365_day_year():
    """3,650,000 at 10%, every 2 weeks from Mon 1 Jan 2024, periodic.

    r = 10% × 14/365; interest 3,650,000 × 10% × 14 / 365 = 14,000; then 1,825,000 → 7,000.
    Dates 15 Jan and 29 Jan.
    """
    schedule = build_schedule(
        terms_of(
            principal="3650000",
            annual_rate_pct="10",
            installments=2,
            frequency="week",
            every=2,
            interest_basis="periodic",
            disbursed_on="2024-01-01",
        )
    )

    assert table(schedule) == [
        ("2024-01-15", 14, "1825000", "14000", "1839000", "1825000"),
        ("2024-01-29", 14, "1825000", "7000", "1832000", "0"),
    ]


def test_two_digit_currency_last_installment_absorbs_rounding_residue():
    """1,000.00 USD at 7%, 3 monthly installments from 15 Jan 2023, actual/365, 2 digits.

    Principal part 1,000 ÷ 3 = 333.333… → 333.33.
    1: 1,000.00 × 7% × 31 / 365 = 2,170 / 365 = 5.9452… → 5.95.
    2: 666.67 × 7% × 28 / 365 = 1,306.6732 / 365 = 3.5799… → 3.58.
    3: balance 1,000 − 666.66 = 333.34: 333.34 × 7% × 31 / 365 = 723.3478 / 365 = 1.9818…
       → 1.98; principal 333.34 (the extra 0.01 is the residue).
    """
    schedule = build_schedule(terms_of(digits=2, principal="1000", annual_rate_pct="7"))

    assert table(schedule) == [
        ("2023-02-15", 31, "333.33", "5.95", "339.28", "666.67"),
        ("2023-03-15", 28, "333.33", "3.58", "336.91", "333.34"),
        ("2023-04-15", 31, "333.34", "1.98", "335.32", "0.00"),
    ]
    assert str(schedule.total_principal) == "1000.00"


def test_to_json_dict_writes_money_with_exactly_the_currency_digits():
    schedule = build_schedule(terms_of(digits=2, principal="1000", annual_rate_pct="7"))

    data = to_json_dict(schedule, 2)

    assert data["installments"][0] == {
        "n": 1,
        "due_on": "2023-02-15",
        "days": 31,
        "principal": "333.33",
        "interest": "5.95",
        "total": "339.28",
        "outstanding": "666.67",
    }
    assert data["installments"][2]["outstanding"] == "0.00"
    assert data["totals"] == {"principal": "1000.00", "interest": "11.51", "total": "1011.51"}


def test_to_json_dict_of_a_whole_currency_has_no_decimal_point():
    data = to_json_dict(build_schedule(terms_of()), 0)

    assert data["totals"] == {"principal": "12000000", "interest": "118357", "total": "12118357"}
    assert all("." not in row["interest"] for row in data["installments"])


def test_explain_installment_tells_the_arithmetic_with_the_numbers():
    """Installment 2 of the first golden schedule: 8,000,000 × 6% × 28 / 365 ≈ 36,821.9178."""
    terms = terms_of()
    steps = explain_installment(terms, build_schedule(terms), 2)
    text = "\n".join(steps)

    assert "28 days" in text
    assert "8,000,000 × 6% × 28 / 365 ≈ 36,821.9178" in text
    assert "rounded half up to 36,822" in text
    assert "12,000,000 ÷ 3 principal installments = 4,000,000" in text
    assert "4,000,000 + interest 36,822 = 4,036,822" in text


def test_explain_installment_shows_the_annuity_formula_and_the_year_split():
    terms = terms_of(
        principal="10000000",
        annual_rate_pct="10",
        installments=2,
        days_in_year="actual",
        disbursed_on="2023-12-15",
        method="annuity",
    )
    text = "\n".join(explain_installment(terms, build_schedule(terms), 1))

    assert "(17 / 365 + 14 / 366)" in text
    assert "P × r ÷ (1 − (1 + r)^−m)" in text
    assert "m = 2 installments" in text


def test_explain_installment_names_deferral_grace_and_the_last_installment():
    """6,000,000 at 12% periodic, 4 months, grace 1, interest deferred 2.

    Principal 2,000,000 in installments 2–4. Accrued: 60,000, 60,000, then 4,000,000 × 1% =
    40,000: installment 3 carries 40,000 + (60,000 + 60,000 deferred) = 160,000.
    """
    terms = terms_of(
        principal="6000000",
        annual_rate_pct="12",
        installments=4,
        interest_basis="periodic",
        interest_deferred=2,
        principal_grace=1,
    )
    schedule = build_schedule(terms)

    first = "\n".join(explain_installment(terms, schedule, 1))
    third = "\n".join(explain_installment(terms, schedule, 3))
    last = "\n".join(explain_installment(terms, schedule, 4))

    assert "deferred" in first and "installment 3" in first
    assert "principal grace period" in first
    assert "40,000 + 120,000 = 160,000" in third
    assert "last installment" in last


def test_explain_installment_refuses_a_number_outside_the_schedule():
    terms = terms_of()
    with pytest.raises(RuleViolation, match="no installment 4: the schedule has 3"):
        explain_installment(terms, build_schedule(terms), 4)


def test_explain_installment_refuses_a_schedule_of_other_terms():
    with pytest.raises(ValueError, match="not built from these terms"):
        explain_installment(terms_of(), build_schedule(terms_of(annual_rate_pct="7")), 1)


def test_installment_maker_builds_the_same_object_as_the_constructor():
    from loanfund.domain.schedule import _new_installment

    args = (1, dt.date(2024, 1, 15), 31, Decimal(1), Decimal(2), Decimal(3), Decimal(4))

    assert _new_installment(*args) == Installment(*args)
    with pytest.raises(AttributeError):
        _new_installment(*args).n = 2  # type: ignore[misc]


def test_a_negative_zero_rate_gives_plain_zero_interest():
    schedule = build_schedule(terms_of(annual_rate_pct="-0.00"))

    assert [str(row.interest) for row in schedule.installments] == ["0", "0", "0"]
    assert to_json_dict(schedule, 0)["totals"]["interest"] == "0"
