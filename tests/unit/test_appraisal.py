"""Appraisal maths: every expected number is derived by hand in the test's docstring.

Notation: ``r`` is the discount rate, ``net_t`` year t's net cash flow, ``→`` a rounding (half up).
Amounts are VND (0 decimals) unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanfund.domain.appraisal import (
    DEFAULT_WEIGHTS,
    CashFlowYear,
    CreditBureauResult,
    Factor,
    ProjectFigures,
    RiskGrade,
    ScorecardConfig,
    ScoreInputs,
    analyse,
    check_project,
    collateral_coverage_pct,
    explain_analysis,
    irr_pct_of,
    score,
    scorecard_inputs,
)
from loanfund.domain.errors import RuleViolation
from loanfund.domain.money import MoneyTypeError
from loanfund.domain.schedule import Schedule, ScheduleTerms, build_schedule

PROPERTY_SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
D = Decimal
DISBURSED_ON = dt.date(2024, 1, 15)


def project(cost: int, nets: list[int], equity: int = 0, costs: int = 0) -> ProjectFigures:
    """A project whose year t has revenue ``nets[t-1] + costs`` and operating costs ``costs``."""
    return ProjectFigures(
        total_cost=D(cost),
        own_equity=D(equity),
        cash_flows=tuple(
            CashFlowYear(year, D(net + costs), D(costs)) for year, net in enumerate(nets, 1)
        ),
    )


def half_yearly_schedule() -> Schedule:
    """4,000,000 at 10 %, equal principal, 4 half-yearly installments from 15 Jan 2024.

    Interest is periodic (balance × 10 % × 1/2), so every number is exact:

    ====  ==========  =========  =============================  =========
    n     due on      principal  interest                       total
    ====  ==========  =========  =============================  =========
    1     15/07/2024  1,000,000  4,000,000 × 5 % = 200,000     1,200,000
    2     15/01/2025  1,000,000  3,000,000 × 5 % = 150,000     1,150,000
    3     15/07/2025  1,000,000  2,000,000 × 5 % = 100,000     1,100,000
    4     15/01/2026  1,000,000  1,000,000 × 5 % =  50,000     1,050,000
    ====  ==========  =========  =============================  =========
    """
    terms = ScheduleTerms(
        principal=D(4_000_000),
        annual_rate_pct=D(10),
        installments=4,
        disbursed_on=DISBURSED_ON,
        frequency="half_year",
        interest_basis="periodic",
    )
    return build_schedule(terms)


def run(
    figures: ProjectFigures,
    schedule: Schedule | None = None,
    *,
    rate: str = "10",
    digits: int = 0,
    disbursed_on: dt.date = DISBURSED_ON,
):
    return analyse(
        figures,
        schedule or half_yearly_schedule(),
        disbursed_on=disbursed_on,
        discount_rate_pct=D(rate),
        currency_digits=digits,
    )


# --------------------------------------------------------------------------------------------
# Project figures


def test_check_project_lists_every_problem_at_once_with_the_numbers():
    figures = ProjectFigures(
        total_cost=D(0),
        own_equity=D(-5),
        cash_flows=(CashFlowYear(1, D(-1), D(0)), CashFlowYear(3, D(10), D(-2))),
    )

    assert check_project(figures) == [
        "The total project cost must be more than zero, not 0.",
        "The projected years must be numbered 1 to 2 in order, not 1, 3.",
        "Own equity cannot be negative (-5).",
        "The revenue of year 1 cannot be negative (-1).",
        "The operating costs of year 3 cannot be negative (-2).",
    ]


def test_own_equity_above_the_cost_and_too_many_years_are_refused():
    figures = project(1_000_000, [1] * 31, equity=1_000_001)

    assert check_project(figures) == [
        "Own equity of 1,000,001 cannot exceed the total project cost of 1,000,000.",
        "The projection covers 31 years; at most 30 are allowed.",
    ]


def test_a_project_needs_at_least_one_projected_year():
    assert check_project(project(1000, [])) == [
        "Give the projected cash flows of at least one year."
    ]


def test_sound_figures_have_no_problem_and_equity_may_equal_the_cost():
    assert check_project(project(1000, [500] * 30, equity=1000), currency_digits=0) == []


def test_amounts_with_more_decimals_than_the_currency_are_named():
    figures = ProjectFigures(D("1000.5"), D(0), (CashFlowYear(1, D(10), D("0.25")),))

    assert check_project(figures) == []
    assert check_project(figures, currency_digits=0) == [
        "The total project cost: 1,000.5 has more decimals than the currency allows.",
        "The operating costs of year 1: 0.25 has more decimals than the currency allows.",
    ]
    assert check_project(figures, currency_digits=2) == []


def test_floats_are_refused_wherever_an_amount_enters():
    with pytest.raises(MoneyTypeError):
        CashFlowYear(1, 1.5, D(0))  # type: ignore[arg-type]
    with pytest.raises(MoneyTypeError):
        ProjectFigures(D(1), 0.5, ())  # type: ignore[arg-type]
    with pytest.raises(MoneyTypeError):
        analyse(
            project(1000, [1100]),
            half_yearly_schedule(),
            disbursed_on=DISBURSED_ON,
            discount_rate_pct=0.1,  # type: ignore[arg-type]
            currency_digits=0,
        )


def test_analyse_refuses_unsound_figures_a_wild_rate_and_an_early_installment():
    with pytest.raises(RuleViolation) as caught:
        run(project(0, [1]), rate="120", disbursed_on=dt.date(2024, 7, 15))

    assert caught.value.problems == (
        "The total project cost must be more than zero, not 0.",
        "The discount rate must be between 0% and 100%, not 120%.",
        "Installment 1 falls due on 2024-07-15, not after the disbursement on 2024-07-15.",
    )


# --------------------------------------------------------------------------------------------
# NPV, IRR, payback, equity


def test_npv_of_five_equal_flows_is_the_annuity_factor_times_the_flow():
    """Cost 1,000,000, net 300,000 in each of 5 years, r = 10 %.

    Σ 1.1^−t for t = 1..5 = 0.909090909 + 0.826446281 + 0.751314801 + 0.683013455
    + 0.620921323 = 3.790786769 (= (1 − 1.1^−5) ÷ 0.1). NPV = −1,000,000 + 300,000 × 3.790786769
    = 137,236.0308… → 137,236 đồng, or 137,236.03 with 2 decimals.
    """
    figures = project(1_000_000, [300_000] * 5, costs=50_000)

    assert run(figures).npv == D(137_236)
    assert run(figures, digits=2).npv == D("137236.03")
    assert run(figures).net_cash_flows == (D(300_000),) * 5


def test_npv_is_zero_when_the_flows_are_the_cost_grown_at_the_rate():
    """550 ÷ 1.1 = 500 and 605 ÷ 1.21 = 500 exactly: −1,000 + 500 + 500 = 0 at 10 %."""
    assert run(project(1000, [550, 605])).npv == 0


def test_npv_at_zero_discount_rate_is_the_plain_sum():
    """−1,000 + 300 + 400 + 500 = 200."""
    assert run(project(1000, [300, 400, 500]), rate="0").npv == 200


def test_irr_of_one_year_flows_is_the_simple_return():
    """1,000 grows to 1,100 in a year: 1,100 ÷ 1,000 − 1 = 10 %; to 500: −50 %."""
    assert irr_pct_of(D(1000), [D(1100)]) == D("10.00")
    assert irr_pct_of(D(1000), [D(500)]) == D("-50.00")


def test_irr_is_where_the_npv_is_zero():
    """550 and 605 discount to exactly 1,000 at 10 % (see the NPV test), so the IRR is 10 %."""
    result = run(project(1000, [550, 605]))
    assert result.irr_pct == D("10.00")
    assert isinstance(result.irr_pct, Decimal)


def test_irr_of_five_equal_flows_matches_an_exact_bisection():
    """Bisection in exact fractions on −1,000,000 + Σ 300,000 ÷ (1 + r)^t, independent of
    numpy-financial: the root lies in [15.2382 %, 15.2383 %] → 15.24 %."""

    def npv(rate: Fraction) -> Fraction:
        return -1_000_000 + sum(Fraction(300_000) / (1 + rate) ** t for t in range(1, 6))

    low, high = Fraction(0), Fraction(1)
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if npv(middle) > 0 else (low, middle)
    exact_pct = Decimal(low.numerator * 100) / Decimal(low.denominator)

    assert D("15.2382") < exact_pct < D("15.2383")
    assert run(project(1_000_000, [300_000] * 5)).irr_pct == D("15.24")


def test_flows_that_never_turn_positive_have_no_irr():
    assert irr_pct_of(D(1000), [D(0), D(0)]) is None
    assert run(project(1000, [0, 0])).irr_pct is None
    assert irr_pct_of(D(1000), [D(-100)]) is None


def test_payback_is_interpolated_within_the_year_it_is_reached():
    """Cost 1,000,000, 300,000 a year: 900,000 after year 3, so 3 + 100,000 ÷ 300,000 = 3.33 → 3.3.

    400,000 a year: 2 + 200,000 ÷ 400,000 = 2.5. 500,000 a year: exactly 2.0.
    Cost 1,000, flows 900 and 400: 1 + 100 ÷ 400 = 1.25 → 1.3 (half up).
    """
    assert run(project(1_000_000, [300_000] * 5)).payback_years == D("3.3")
    assert run(project(1_000_000, [400_000] * 3)).payback_years == D("2.5")
    assert run(project(1_000_000, [500_000] * 3)).payback_years == D("2.0")
    assert run(project(1000, [900, 400])).payback_years == D("1.3")


def test_payback_counts_the_first_time_the_cost_is_reached_and_none_if_never():
    """Cost 1,000: 1,200 in year 1 pays back in 1,000 ÷ 1,200 = 0.83 → 0.8 years, whatever
    year 2 loses; 100 a year for 3 years never does."""
    assert run(project(1000, [1200, -5000], costs=5000)).payback_years == D("0.8")
    assert run(project(1000, [100, 100, 100])).payback_years is None


def test_equity_ratio_is_own_equity_over_cost_rounded_half_up():
    """350,000 ÷ 1,000,000 × 100 = 35.00; 1 ÷ 3 → 33.33; 2 ÷ 3 = 66.666… → 66.67."""
    assert run(project(1_000_000, [1], equity=350_000)).equity_ratio_pct == D("35.00")
    assert run(project(3, [1], equity=1)).equity_ratio_pct == D("33.33")
    assert run(project(3, [1], equity=2)).equity_ratio_pct == D("66.67")


# --------------------------------------------------------------------------------------------
# Debt-service coverage


def test_dscr_sets_each_years_net_cash_flow_against_the_installments_due_in_it():
    """Year 1 = after 15/01/2024 up to 15/01/2025: installments 1 and 2 = 1,200,000 + 1,150,000
    = 2,350,000; DSCR = 3,000,000 ÷ 2,350,000 = 1.2766 → 1.28.
    Year 2 = after 15/01/2025 up to 15/01/2026: 1,100,000 + 1,050,000 = 2,150,000;
    DSCR = 2,000,000 ÷ 2,150,000 = 0.9302 → 0.93.
    Lowest 0.93; average (1.28 + 0.93) ÷ 2 = 1.105 → 1.11 (half up).
    """
    result = run(project(5_000_000, [3_000_000, 2_000_000], costs=400_000))

    assert [year.debt_service for year in result.years] == [D(2_350_000), D(2_150_000)]
    assert [year.installments_due for year in result.years] == [2, 2]
    assert result.dscr_by_year == (D("1.28"), D("0.93"))
    assert (result.dscr_min, result.dscr_avg) == (D("0.93"), D("1.11"))
    assert result.uncovered_installments == 0
    assert result.findings == (
        "In year 2 the net cash flow of 2,000,000 does not cover the debt service of 2,150,000 "
        "(DSCR 0.93).",
    )


def test_an_installment_due_on_the_anniversary_counts_in_the_year_it_ends():
    """Monthly from 29 Feb 2024: installment 12 falls due on 28 Feb 2025, the clamped first
    anniversary, so year 1 (up to 28/02/2025) carries 12 installments and year 2 the rest."""
    disbursed_on = dt.date(2024, 2, 29)
    terms = ScheduleTerms(
        principal=D(2_400_000), annual_rate_pct=D(0), installments=24, disbursed_on=disbursed_on
    )
    result = run(
        project(1, [1_200_000, 1_200_000]), build_schedule(terms), disbursed_on=disbursed_on
    )

    assert [(year.starts_on, year.ends_on) for year in result.years] == [
        (dt.date(2024, 2, 29), dt.date(2025, 2, 28)),
        (dt.date(2025, 2, 28), dt.date(2026, 2, 28)),
    ]
    assert [year.installments_due for year in result.years] == [12, 12]
    assert result.dscr_by_year == (D("1.00"), D("1.00"))


def test_installments_beyond_the_projection_are_a_finding():
    """With one projected year, installments 3 and 4 (1,100,000 + 1,050,000 = 2,150,000) fall
    due after 15/01/2025."""
    result = run(project(1_000_000, [4_700_000]))

    assert (result.uncovered_installments, result.uncovered_total) == (2, D(2_150_000))
    assert result.findings == (
        "The schedule runs beyond the projected years: the installments due after 2025-01-15 "
        "(2, totalling 2,150,000) are not covered by the projections.",
    )
    assert result.dscr_by_year == (D("2.00"),)


def test_a_year_without_debt_service_has_no_dscr():
    """Yearly installments from 15/01/2024 under a 2-year grace: nothing falls due until
    15/01/2026, so year 1 has no DSCR and the lowest and average are year 2's."""
    terms = ScheduleTerms(
        principal=D(1_000_000),
        annual_rate_pct=D(0),
        installments=2,
        disbursed_on=DISBURSED_ON,
        frequency="year",
        every=2,
    )
    result = run(project(1, [100, 1_000_000]), build_schedule(terms))

    assert result.dscr_by_year == (None, D("2.00"))
    assert (result.dscr_min, result.dscr_avg) == (D("2.00"), D("2.00"))


# --------------------------------------------------------------------------------------------
# Explanations


def test_explain_analysis_shows_the_arithmetic_of_every_figure():
    figures = project(1_000_000, [300_000] * 5, equity=350_000, costs=50_000)
    text = "\n".join(explain_analysis(run(figures)))

    assert "net cash flow = revenue 350,000 − operating costs 50,000 = 300,000" in text
    assert "300,000 ÷ (1 + 10%)^2 = 300,000 ÷ 1.210000 = 247,934" in text
    assert "NPV at 10% = −1,000,000 + Σ present values 1,137,236 = 137,236" in text
    assert "IRR = 15.24%" in text and "binary floating point" in text
    assert "payback = 3 + (1,000,000 − 900,000) ÷ 300,000 = 3.3 years" in text
    assert "Own equity ratio = 350,000 ÷ 1,000,000 × 100 = 35.00%" in text
    assert "(2) = 2,350,000; DSCR = 300,000 ÷ 2,350,000 = 0.13" in text
    assert "Year 3: no debt service falls due after 2026-01-15" in text
    assert "= (0.13 + 0.14) ÷ 2 = 0.14" in text


def test_explain_analysis_says_when_there_is_no_irr_and_no_payback():
    text = "\n".join(explain_analysis(run(project(1000, [0, 0]))))

    assert "No IRR" in text
    assert "cumulative net cash flow after 2 years is 0, less than the total cost of 1,000" in text


# --------------------------------------------------------------------------------------------
# Scorecard


def inputs(**changes: object) -> ScoreInputs:
    """Inputs that earn every point; each test changes one factor."""
    values: dict[str, object] = {
        "equity_ratio_pct": D(40),
        "dscr_min": D("1.50"),
        "collateral_coverage_pct": D(150),
        "irr_pct": D(15),
        "discount_rate_pct": D(10),
        "concern_count": 0,
        "fail_count": 0,
        "years_operating": 3,
        "credit_bureau": CreditBureauResult.CLEAN,
    }
    values.update(changes)
    return ScoreInputs(**values)  # type: ignore[arg-type]


def points(factor: Factor, **changes: object) -> Decimal:
    return next(item.points for item in score(inputs(**changes)).factors if item.factor == factor)


def test_default_weights_sum_to_100_and_full_inputs_earn_grade_a():
    result = score(inputs())

    assert sum(DEFAULT_WEIGHTS.values()) == 100
    assert [item.points for item in result.factors] == [20, 25, 15, 10, 15, 5, 10]
    assert (result.total, result.grade, result.caps) == (100, RiskGrade.A, ())


@pytest.mark.parametrize(
    ("value", "expected"),
    [("40", "20"), ("39.99", "10"), ("20", "10"), ("19.99", "0")],
)
def test_equity_ratio_earns_all_points_from_40_and_half_from_20(value, expected):
    assert points(Factor.EQUITY_RATIO, equity_ratio_pct=D(value)) == D(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.50", "25"), ("1.49", "12.5"), ("1.20", "12.5"), ("1.19", "0"), (None, "0")],
)
def test_lowest_dscr_earns_all_points_from_1_5_and_half_from_1_2(value, expected):
    dscr = None if value is None else D(value)
    assert points(Factor.DSCR, dscr_min=dscr) == D(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("150", "15"), ("149.99", "7.5"), ("100", "7.5"), ("99.99", "0"), ("0", "0")],
)
def test_collateral_earns_all_points_from_150_percent_and_half_from_100(value, expected):
    assert points(Factor.COLLATERAL, collateral_coverage_pct=D(value)) == D(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("15", "10"), ("14.99", "5"), ("10", "5"), ("9.99", "0"), (None, "0")],
)
def test_irr_earns_all_points_5_points_above_the_discount_rate_and_half_at_it(value, expected):
    irr = None if value is None else D(value)
    assert points(Factor.IRR, irr_pct=irr) == D(expected)


@pytest.mark.parametrize(
    ("concerns", "fails", "expected"),
    [(0, 0, "15"), (1, 0, "7.5"), (2, 0, "7.5"), (3, 0, "0"), (0, 1, "0")],
)
def test_findings_earn_all_points_when_clean_and_half_with_up_to_two_concerns(
    concerns, fails, expected
):
    assert points(Factor.FINDINGS, concern_count=concerns, fail_count=fails) == D(expected)


@pytest.mark.parametrize(("years", "expected"), [(3, "5"), (2, "2.5"), (1, "2.5"), (0, "0")])
def test_years_operating_earn_all_points_from_3_and_half_from_1(years, expected):
    assert points(Factor.YEARS_OPERATING, years_operating=years) == D(expected)


@pytest.mark.parametrize(("result", "expected"), [("clean", "10"), ("minor", "5"), ("bad", "0")])
def test_credit_bureau_earns_all_points_when_clean_and_half_for_minor_delays(result, expected):
    assert points(Factor.CREDIT_BUREAU, credit_bureau=result) == D(expected)


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", "A"),
        ("80", "A"),
        ("79.5", "B"),
        ("65", "B"),
        ("64.5", "C"),
        ("50", "C"),
        ("49.5", "D"),
        ("35", "D"),
        ("34.5", "E"),
        ("0", "E"),
    ],
)
def test_grades_follow_the_total_at_their_thresholds(total, grade):
    assert ScorecardConfig().grade_for(D(total)) == RiskGrade(grade)


def test_a_middling_appraisal_gets_its_grade_from_the_total():
    """Equity 35 % → 10, DSCR 1.3 → 12.5, collateral 120 % → 7.5, IRR 12 vs 10 → 5, one
    concern → 7.5, 2 years → 2.5, minor → 5: 10 + 12.5 + 7.5 + 5 + 7.5 + 2.5 + 5 = 50 → C."""
    result = score(
        inputs(
            equity_ratio_pct=D(35),
            dscr_min=D("1.3"),
            collateral_coverage_pct=D(120),
            irr_pct=D(12),
            concern_count=1,
            years_operating=2,
            credit_bureau="minor",
        )
    )

    assert (result.total, result.points_grade, result.grade) == (D(50), RiskGrade.C, RiskGrade.C)
    assert result.reasons[0] == (
        "Own equity is 35% of the project cost, at least 20% but below 40%: 10 of 20 points."
    )
    assert result.summary == (
        "Total 50 of 100 points: grade C (A from 80 points, B from 65, C from 50, D from 35, "
        "E below)."
    )


def test_a_failed_checklist_item_or_bad_credit_caps_the_grade_at_e():
    """A fail loses the 15 findings points (85 → A by points); bad credit loses 10 (90 → A)."""
    failed = score(inputs(fail_count=1))
    bad = score(inputs(credit_bureau=CreditBureauResult.BAD))

    assert (failed.total, failed.points_grade, failed.grade) == (85, RiskGrade.A, RiskGrade.E)
    assert failed.caps == ("A checklist item fails, so the grade is E whatever the points.",)
    assert (bad.total, bad.points_grade, bad.grade) == (90, RiskGrade.A, RiskGrade.E)
    assert bad.caps == (
        "The credit-bureau check shows bad debt, so the grade is E whatever the points.",
    )


def test_every_factor_gives_its_reason_with_the_numbers():
    result = score(inputs(dscr_min=None, irr_pct=None, concern_count=3))
    reasons = "\n".join(result.reasons)

    assert "no DSCR: 0 of 25 points" in reasons
    assert "no IRR: 0 of 10 points" in reasons
    assert "Checklist items marked concern: 3, more than 2: 0 of 15 points." in reasons
    assert "Whole years the cooperative has operated: 3, at least 3: 5 of 5 points." in reasons
    assert len(result.factors) == len(Factor)


def test_scorecard_inputs_come_from_the_analysis():
    analysis = run(project(1_000_000, [300_000] * 5, equity=350_000))
    result = scorecard_inputs(
        analysis,
        collateral_coverage_pct=collateral_coverage_pct(D(1_500_000), D(1_000_000)),
        concern_count=0,
        fail_count=0,
        years_operating=4,
        credit_bureau=CreditBureauResult.CLEAN,
    )

    assert result.equity_ratio_pct == D("35.00")
    assert result.irr_pct == D("15.24")
    assert result.dscr_min == analysis.dscr_min == D("0.13")
    assert result.collateral_coverage_pct == D("150.00")


def test_a_config_must_weigh_every_factor_to_100_with_ordered_thresholds():
    with pytest.raises(ValueError, match="sum to 90"):
        ScorecardConfig(weights={**DEFAULT_WEIGHTS, Factor.DSCR: D(15)})
    with pytest.raises(ValueError, match="equity_half_pct is above equity_full_pct"):
        ScorecardConfig(equity_half_pct=D(50))
    with pytest.raises(ValueError, match="grade thresholds"):
        ScorecardConfig(grade_b_min=D(80))
    with pytest.raises(MoneyTypeError):
        ScorecardConfig(dscr_full=1.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Properties


positive_flows = st.lists(st.integers(10_000, 10**12), min_size=1, max_size=30)


@PROPERTY_SETTINGS
@given(
    cost=st.integers(1, 10**12),
    flows=positive_flows,
    low=st.integers(0, 9_900),
    step=st.integers(100, 10_000),
)
def test_npv_falls_as_the_discount_rate_rises_for_positive_flows(cost, flows, low, step):
    """Rates in hundredths of a percent; a rise of at least 1 point lowers the first year's
    present value alone by more than net_1 × 0.01 ÷ 4 ≥ 25 đồng, so the fall survives rounding."""
    high = min(low + step, 10_000)
    if high == low:
        return
    figures = project(cost, flows)
    schedule = half_yearly_schedule()
    cheap = run(figures, schedule, rate=str(D(low) / 100)).npv
    dear = run(figures, schedule, rate=str(D(high) / 100)).npv

    assert dear < cheap


@st.composite
def analyses(draw: st.DrawFn):
    frequency = draw(st.sampled_from(["month", "quarter", "half_year", "year"]))
    terms = ScheduleTerms(
        principal=D(draw(st.integers(1_000_000, 10**11))),
        annual_rate_pct=D(draw(st.integers(0, 2000))) / 100,
        installments=draw(st.integers(1, 60)),
        disbursed_on=draw(st.dates(dt.date(2000, 1, 1), dt.date(2090, 12, 31))),
        frequency=frequency,
        method=draw(st.sampled_from(["equal_principal", "annuity", "flat", "bullet"])),
    )
    schedule = build_schedule(terms)
    nets = draw(st.lists(st.integers(-(10**10), 10**11), min_size=1, max_size=30))
    figures = project(draw(st.integers(1, 10**11)), nets, costs=10**10)
    return schedule, analyse(
        figures,
        schedule,
        disbursed_on=terms.disbursed_on,
        discount_rate_pct=D(draw(st.integers(0, 3000))) / 100,
        currency_digits=0,
    )


@PROPERTY_SETTINGS
@given(analyses())
def test_dscr_min_is_at_most_the_average_and_every_installment_is_counted_once(pair):
    schedule, result = pair
    ratios = [ratio for ratio in result.dscr_by_year if ratio is not None]

    if ratios:
        assert result.dscr_min is not None and result.dscr_avg is not None
        assert result.dscr_min == min(ratios) <= result.dscr_avg <= max(ratios)
    else:
        assert result.dscr_min is None and result.dscr_avg is None
    assert sum(
        year.installments_due for year in result.years
    ) + result.uncovered_installments == len(schedule.installments)
    assert (
        sum(year.debt_service for year in result.years) + result.uncovered_total == schedule.total
    )


@st.composite
def configs(draw: st.DrawFn) -> ScorecardConfig:
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=6, max_size=6)))
    bounds = [0, *cuts, 100]
    weights = {factor: D(bounds[i + 1] - bounds[i]) for i, factor in enumerate(Factor)}
    return ScorecardConfig(weights=weights)


@PROPERTY_SETTINGS
@given(
    config=configs(),
    equity=st.integers(0, 10_000),
    dscr=st.none() | st.integers(-500, 500),
    collateral=st.integers(0, 50_000),
    irr=st.none() | st.integers(-10_000, 100_000),
    concerns=st.integers(0, 10),
    fails=st.integers(0, 3),
    years=st.integers(0, 50),
    bureau=st.sampled_from(list(CreditBureauResult)),
)
def test_scores_stay_within_0_and_100_and_each_factor_within_its_weight(
    config, equity, dscr, collateral, irr, concerns, fails, years, bureau
):
    result = score(
        ScoreInputs(
            equity_ratio_pct=D(equity) / 100,
            dscr_min=None if dscr is None else D(dscr) / 100,
            collateral_coverage_pct=D(collateral) / 100,
            irr_pct=None if irr is None else D(irr) / 100,
            discount_rate_pct=D(10),
            concern_count=concerns,
            fail_count=fails,
            years_operating=years,
            credit_bureau=bureau,
        ),
        config,
    )

    assert 0 <= result.total <= 100
    assert result.total == sum(item.points for item in result.factors)
    for item in result.factors:
        assert item.points in (0, item.weight / 2, item.weight)
    assert result.grade == (
        RiskGrade.E if fails or bureau is CreditBureauResult.BAD else result.points_grade
    )
