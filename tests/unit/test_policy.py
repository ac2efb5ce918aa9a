"""Policy parameters: DESIGN §3's defaults, and every problem reported at once."""

from decimal import Decimal

import pytest

from loanfund.domain.errors import RuleViolation
from loanfund.domain.policy import build_policy, default_policy


def test_defaults_are_the_design_rules():
    # DESIGN §3, read off the table: equity 20 %, single borrower 15 %, related 25 %,
    # overdue 150 % of the rate, groups from 10/30/90/180 days, provisions 0/2/25/50/100 %,
    # general 0.5 %, first inspection within 30 days, then 180, 90 for group ≥ 2.
    policy = default_policy(currency_digits=0)
    assert policy.own_equity_min_pct == Decimal("20")
    assert policy.single_borrower_max_pct == Decimal("15")
    assert policy.related_borrowers_max_pct == Decimal("25")
    assert policy.overdue_rate_pct_of_rate == Decimal("150")
    assert (
        policy.group2_from_days,
        policy.group3_from_days,
        policy.group4_from_days,
        policy.group5_from_days,
    ) == (10, 30, 90, 180)
    assert [
        policy.provision_group1_pct,
        policy.provision_group2_pct,
        policy.provision_group3_pct,
        policy.provision_group4_pct,
        policy.provision_group5_pct,
    ] == [0, 2, 25, 50, 100]
    assert policy.general_provision_pct == Decimal("0.5")
    assert (
        policy.first_inspection_days,
        policy.inspection_interval_days,
        policy.watch_inspection_interval_days,
    ) == (30, 180, 90)
    assert policy.day_count == "actual_365"
    assert policy.allocation_order == "principal_first"


def test_every_invalid_value_is_reported_together_with_the_value():
    with pytest.raises(RuleViolation) as caught:
        build_policy(
            {
                "own_equity_min_pct": "abc",
                "overdue_rate_pct_of_rate": "160",
                "first_inspection_days": "2.5",
            },
            currency_digits=0,
        )
    problems = caught.value.problems
    assert len(problems) == 3
    assert "abc" in problems[0]
    assert "150" in problems[1] and "160" in problems[1]
    assert "whole number" in problems[2]


def test_debt_group_thresholds_must_increase():
    with pytest.raises(RuleViolation, match="must increase"):
        build_policy({"group3_from_days": "5"}, currency_digits=0)


def test_a_money_parameter_may_not_have_more_decimals_than_the_currency():
    with pytest.raises(RuleViolation, match="more decimals"):
        build_policy({"min_liquidity_reserve": "100.5"}, currency_digits=0)
    assert build_policy(
        {"min_liquidity_reserve": "100.50"}, currency_digits=2
    ).min_liquidity_reserve == Decimal("100.50")


def test_the_scorecard_settings_must_stay_consistent():
    # 20 + 25 + 15 + 10 + 15 + 5 + 30 = 120 points, a half threshold above its full one, and
    # grade B needing more points than grade A: three problems.
    with pytest.raises(RuleViolation) as caught:
        build_policy(
            {"score_weight_credit": "30", "score_dscr_half": "1.6", "grade_b_min": "85"},
            currency_digits=0,
        )
    problems = caught.value.problems
    assert len(problems) == 3
    assert "add up to 120" in problems[0]
    assert "Lowest DSCR for half its points" in problems[1]


def test_the_scorecard_uses_the_funds_weights():
    from loanfund.domain.appraisal import Factor
    from loanfund.services.appraisals import scorecard_config

    # Move 10 points from the credit-bureau check to the DSCR: 35 and 0.
    policy = build_policy(
        {"score_weight_dscr": "35", "score_weight_credit": "0"}, currency_digits=0
    )
    config = scorecard_config(policy)
    assert config.weights[Factor.DSCR] == 35 and config.weights[Factor.CREDIT_BUREAU] == 0


def test_account_numbers_are_settings_each_unique_and_well_formed():
    policy = default_policy(currency_digits=0)
    # Circular 133/2016/TT-BTC: 1121 bank deposits, 515 financial income.
    assert policy.account_code("cash") == "1121" and policy.account_code("interest_income") == "515"
    assert (
        build_policy({"account_code_cash": "112.1-HUE"}, currency_digits=0).account_code("cash")
        == "112.1-HUE"
    )
    with pytest.raises(RuleViolation, match="“11 21” was entered"):
        build_policy({"account_code_cash": "11 21"}, currency_digits=0)
    with pytest.raises(RuleViolation, match="repeated: 515"):
        build_policy({"account_code_penalty_income": "515"}, currency_digits=0)
