"""Bad terms: every problem is reported at once, in a sentence with the numbers; no traceback."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import fmt_date, fmt_money, fmt_number
from loanfund.domain.money import MoneyTypeError
from loanfund.domain.schedule import (
    TERM_FIELDS,
    ScheduleTerms,
    build_schedule,
    explain_installment,
    parse_terms,
)

VALID: dict[str, object] = {
    "principal": "12000000",
    "annual_rate_pct": "6",
    "installments": 12,
    "disbursed_on": "2024-01-15",
}


def problems_of(digits: int = 0, **changes: object) -> list[str]:
    """The problems parse_terms reports for VALID with ``changes`` (``...`` removes a key)."""
    data = {**VALID, **changes}
    data = {key: value for key, value in data.items() if value is not ...}
    with pytest.raises(RuleViolation) as caught:
        parse_terms(data, default_currency_digits=digits)
    return list(caught.value.problems)


def only_problem(digits: int = 0, **changes: object) -> str:
    problems = problems_of(digits, **changes)
    assert len(problems) == 1, problems
    return problems[0]


def test_valid_terms_parse_with_defaults():
    terms = parse_terms(VALID, default_currency_digits=0)

    assert terms == ScheduleTerms(
        principal=Decimal("12000000"),
        annual_rate_pct=Decimal("6"),
        installments=12,
        disbursed_on=dt.date(2024, 1, 15),
    )
    assert (terms.frequency, terms.method, terms.interest_basis) == (
        "month",
        "equal_principal",
        "daily",
    )
    assert (terms.days_in_year, terms.rounding, terms.currency_digits) == ("365", "half_up", 0)


def test_ints_digit_strings_decimals_and_nulls_are_accepted():
    terms = parse_terms(
        {
            "principal": 12000000,
            "annual_rate_pct": Decimal("5.13"),
            "installments": "12",
            "disbursed_on": dt.date(2024, 1, 15),
            "first_due_on": None,
            "days_in_year": 360,
            "installment_multiple": None,
        },
        default_currency_digits=2,
    )

    assert terms.principal == Decimal("12000000") and str(terms.principal) == "12000000.00"
    assert terms.annual_rate_pct == Decimal("5.13")
    assert (terms.installments, terms.days_in_year, terms.currency_digits) == (12, "360", 2)


def test_zero_and_negative_principal_are_refused_with_the_amount():
    assert only_problem(principal="0") == f"The principal must be positive, not {fmt_money(0)}."
    assert fmt_money(Decimal(-1000)) in only_problem(principal="-1000")


def test_rates_outside_0_to_100_percent_are_refused():
    assert only_problem(annual_rate_pct="-0.5") == (
        f"The annual interest rate {fmt_number(Decimal('-0.5'))}% must be between 0% and 100%."
    )
    assert f"{fmt_number(Decimal('100.01'))}%" in only_problem(annual_rate_pct="100.01")


def test_zero_rate_is_allowed():
    assert parse_terms({**VALID, "annual_rate_pct": "0"}, default_currency_digits=0)


def test_rate_with_too_many_decimals_is_refused():
    assert "more than 10 decimal places" in only_problem(annual_rate_pct="5.12345678901")


def test_zero_and_absurdly_many_installments_are_refused():
    assert only_problem(installments=0) == "A loan needs at least 1 installment, not 0."
    assert only_problem(installments=1201) == (
        f"A loan of {fmt_number(1201)} installments is too long: at most {fmt_number(1200)} are "
        "allowed."
    )


def test_every_below_one_is_refused():
    assert "not 0" in only_problem(every=0)
    assert "not -2" in only_problem(every=-2)


def test_grace_as_long_as_the_loan_is_refused_with_both_numbers():
    assert only_problem(principal_grace=12) == (
        "The grace period (12 installments) must be shorter than the loan (12 installments)."
    )
    assert "cannot be negative" in only_problem(principal_grace=-1)


@pytest.mark.parametrize("field", ["interest_deferred", "interest_free"])
def test_deferral_and_interest_free_periods_must_fit_in_the_loan(field):
    too_many = only_problem(**{field: 13})
    negative = only_problem(**{field: -1})

    assert "(13 periods)" in too_many and "(12)" in too_many
    assert "(-1 periods)" in negative


def test_whole_loan_deferral_and_interest_free_are_allowed():
    assert parse_terms(
        {**VALID, "interest_deferred": 12, "interest_free": 12}, default_currency_digits=0
    )


def test_first_due_date_on_or_before_the_disbursement_is_refused():
    same_day = only_problem(first_due_on="2024-01-15")

    assert same_day == (
        f"The first installment ({fmt_date(dt.date(2024, 1, 15))}) must fall due after the "
        f"disbursement ({fmt_date(dt.date(2024, 1, 15))})."
    )
    assert fmt_date(dt.date(2023, 12, 1)) in only_problem(first_due_on="2023-12-01")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("method", "balloon"),
        ("frequency", "fortnight"),
        ("interest_basis", "30/360"),
        ("days_in_year", "366"),
        ("rounding", "down"),
        ("installment_rounding", "down"),
    ],
)
def test_unknown_choices_are_refused_listing_the_choices(field, value):
    problem = only_problem(**{field: value})

    assert f"“{value}” is not one of" in problem


def test_days_in_year_as_an_unknown_number_is_refused():
    assert "“366” is not one of 365, 360, 364, actual" in only_problem(days_in_year="366")
    assert "not a number" in only_problem(days_in_year=366)


def test_more_decimals_than_the_currency_allows_is_refused():
    assert only_problem(principal="1000.1234567891") == (
        f"The principal {fmt_money(Decimal('1000.1234567891'))} has more decimals than the "
        "currency allows (0)."
    )
    assert "allows (2)" in only_problem(digits=2, principal="1000.001")


def test_trailing_zero_decimals_are_not_extra_decimals():
    terms = parse_terms({**VALID, "principal": "12000000.000"}, default_currency_digits=0)

    assert str(terms.principal) == "12000000"


def test_installment_multiple_must_be_positive_and_a_whole_number_of_currency_units():
    assert only_problem(installment_multiple="0") == (
        f"The installment multiple must be positive, not {fmt_money(Decimal(0))}."
    )
    assert fmt_money(Decimal(-1000)) in only_problem(installment_multiple="-1000")
    assert only_problem(installment_multiple="0.5") == (
        f"The installment multiple {fmt_money(Decimal('0.5'))} is not a whole number of the "
        f"currency's smallest unit ({fmt_money(Decimal(1))})."
    )
    assert parse_terms({**VALID, "installment_multiple": "0.05"}, default_currency_digits=2)


def test_currency_digits_outside_0_to_4_are_refused():
    assert "not 5" in only_problem(currency_digits=5)
    assert "not -1" in only_problem(currency_digits=-1)


@pytest.mark.parametrize("text", ["abc", "1,000", "NaN", "Infinity", "1e3", "", " ", "0x10"])
def test_non_numeric_text_is_refused_showing_the_text(text):
    problem = only_problem(principal=text)

    assert f"“{text}” is not a plain decimal number" in problem


def test_missing_required_terms_are_all_named():
    with pytest.raises(RuleViolation) as caught:
        parse_terms({}, default_currency_digits=0)

    assert caught.value.problems == (
        "The principal (principal) is required.",
        "The annual interest rate (annual_rate_pct) is required.",
        "The number of installments (installments) is required.",
        "The disbursement date (disbursed_on) is required.",
    )


def test_unknown_terms_are_refused_by_name():
    problem = only_problem(term_months=12)

    assert problem.startswith("“term_months” is not a schedule term")
    assert "annual_rate_pct" in problem


def test_floats_are_refused_with_a_clear_message():
    problems = problems_of(principal=12000000.0, annual_rate_pct=5.13, installments=12.0)

    assert problems == [
        "The principal must be written as a decimal string such as “1000000”, not as the "
        "floating-point number 12000000.0, which cannot hold decimal amounts exactly.",
        "The annual interest rate must be written as a decimal string such as “5.13”, not as "
        "the floating-point number 5.13, which cannot hold decimal amounts exactly.",
        "The number of installments must be a whole number, not 12.0.",
    ]


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("principal", [1000], "a list"),
        ("annual_rate_pct", {"value": "5"}, "an object"),
        ("installments", True, "true/false"),
        ("disbursed_on", 20240115, "a number"),
        ("method", 1, "a number"),
        ("first_due_on", ["2024-02-15"], "a list"),
        ("every", "two", None),
    ],
)
def test_wrong_json_types_are_refused_naming_what_was_given(field, value, kind):
    problem = only_problem(**{field: value})

    assert kind is None or kind in problem


def test_invalid_dates_are_refused():
    assert "“2024-02-30” is not a valid date" in only_problem(disbursed_on="2024-02-30")
    assert "“15/01/2024” is not a valid date" in only_problem(disbursed_on="15/01/2024")


def test_principal_every_must_divide_the_installments_after_the_grace():
    problem = only_problem(installments=10, principal_grace=2, principal_every=3)

    assert problem == (
        "The 8 installments after the grace period (10 − 2) are not a whole number of principal "
        "periods of 3 installments."
    )
    assert "at least every installment" in only_problem(principal_every=0)


def test_principal_every_is_refused_for_an_annuity_explaining_why():
    problem = only_problem(method="annuity", principal_every=3)

    assert "every 3 installments" in problem
    assert "equal" in problem and "equal_principal or flat" in problem


def test_too_large_principal_is_refused():
    assert "largest amount the fund can store" in only_problem(principal="1" + "0" * 30)


def test_a_schedule_running_past_the_calendar_is_refused():
    problem = only_problem(frequency="year", every=1000)

    assert "outside the years the calendar holds" in problem
    assert "12 installments" in problem


def test_a_mapping_is_required():
    with pytest.raises(RuleViolation, match="named fields"):
        parse_terms(["principal", "1000"], default_currency_digits=0)  # type: ignore[arg-type]


def test_every_problem_is_listed_at_once():
    problems = problems_of(
        principal="-5",
        annual_rate_pct="150",
        installments=12,
        principal_grace=12,
        every=0,
        method="balloon",
        first_due_on="2024-01-01",
        installment_multiple="0",
        colour="blue",
    )

    assert len(problems) == 8, problems
    assert any("balloon" in problem for problem in problems)
    assert any("positive, not -5" in problem for problem in problems)
    assert any("150%" in problem for problem in problems)
    assert any("(12 installments) must be shorter" in problem for problem in problems)
    assert any("colour" in problem for problem in problems)


def test_direct_construction_refuses_floats_as_a_type_error():
    with pytest.raises(MoneyTypeError):
        ScheduleTerms(
            principal=1000.0,  # type: ignore[arg-type]
            annual_rate_pct=Decimal(5),
            installments=12,
            disbursed_on=dt.date(2024, 1, 15),
        )
    with pytest.raises(TypeError):
        ScheduleTerms(
            principal=Decimal(1000),
            annual_rate_pct=Decimal(5),
            installments=12.0,  # type: ignore[arg-type]
            disbursed_on=dt.date(2024, 1, 15),
        )


def test_direct_construction_checks_the_same_rules():
    with pytest.raises(RuleViolation) as caught:
        ScheduleTerms(
            principal=Decimal(0),
            annual_rate_pct=Decimal(5),
            installments=12,
            disbursed_on=dt.date(2024, 1, 15),
            principal_grace=12,
        )

    assert len(caught.value.problems) == 2


# ---------------------------------------------------------------------------------------------
# Whatever the mapping holds, only RuleViolation comes out (and valid terms build and explain).

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "0",
            "-1",
            "12",
            "1e9",
            "NaN",
            "5.13",
            "2024-02-29",
            "2024-13-01",
            "month",
            "annuity",
            "actual",
            "365",
            "1000",
            "0.5",
            "99999999999999999999999",
            "1" + "0" * 400,
        ]
    )
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


def check_never_raises_anything_but_rule_violation(data: object) -> None:
    try:
        terms = parse_terms(data, default_currency_digits=0)  # type: ignore[arg-type]
    except RuleViolation as error:
        assert error.problems
        for problem in error.problems:
            assert isinstance(problem, str) and problem
            assert "%(" not in problem
        return
    schedule = build_schedule(terms)
    assert len(schedule.installments) == terms.installments
    explain_installment(terms, schedule, terms.installments)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(TERM_FIELDS) | st.text(max_size=8) | st.integers(), json_values)
)
def test_random_mappings_raise_only_rule_violations(data):
    check_never_raises_anything_but_rule_violation(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(TERM_FIELDS), json_values, max_size=4),
    st.sets(st.sampled_from(list(VALID)), max_size=2),
)
def test_nearly_valid_mappings_raise_only_rule_violations(changes, removed):
    data = {key: value for key, value in {**VALID, **changes}.items() if key not in removed}

    check_never_raises_anything_but_rule_violation(data)


def test_non_mappings_raise_only_rule_violations():
    for data in (None, [], "terms", 12, 1.5, {"principal"}):
        check_never_raises_anything_but_rule_violation(data)


@pytest.mark.parametrize("value", [Decimal("1E+999999999"), Decimal("-1E+999999999")])
def test_whole_numbers_with_huge_exponents_are_refused_not_overflowed(value):
    # Comparing such a Decimal with an int once raised decimal.Overflow instead of a message.
    assert "far too large" in only_problem(every=value)
