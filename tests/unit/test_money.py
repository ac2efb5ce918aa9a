"""Money: exact decimals, one rounding function, integer minor units."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loanfund.domain.money import (
    MoneyTypeError,
    from_minor_units,
    round_money,
    round_to_multiple,
    to_decimal,
    to_minor_units,
)


def test_a_float_is_refused_wherever_money_enters():
    with pytest.raises(MoneyTypeError):
        to_decimal(0.1)
    with pytest.raises(MoneyTypeError):
        round_money(2.5, 0)
    with pytest.raises(MoneyTypeError):
        to_minor_units(1.0, 0)


def test_booleans_are_not_amounts():
    with pytest.raises(MoneyTypeError):
        to_decimal(True)


def test_half_up_rounds_an_exact_half_away_from_zero_and_half_even_to_the_even_digit():
    # 2.5 → 3 (half up) but 2 (half even); 3.5 → 4 either way; 0.125 to 2 digits → 0.13 / 0.12.
    assert round_money(Decimal("2.5"), 0) == Decimal("3")
    assert round_money(Decimal("2.5"), 0, "half_even") == Decimal("2")
    assert round_money(Decimal("3.5"), 0, "half_even") == Decimal("4")
    assert round_money(Decimal("0.125"), 2) == Decimal("0.13")
    assert round_money(Decimal("0.125"), 2, "half_even") == Decimal("0.12")


def test_rounding_to_whole_thousands_of_dong():
    # 1,234,499 → 1,234,000 ; 1,234,500 → 1,235,000 (half up) ; "up" ceils 1,234,001 → 1,235,000.
    assert round_to_multiple(Decimal("1234499"), 1000) == Decimal("1234000")
    assert round_to_multiple(Decimal("1234500"), 1000) == Decimal("1235000")
    assert round_to_multiple(Decimal("1234001"), 1000, "up") == Decimal("1235000")


def test_minor_units_refuse_digits_the_currency_does_not_have():
    with pytest.raises(ValueError, match="more than 0 decimal"):
        to_minor_units(Decimal("10.5"), 0)
    assert to_minor_units(Decimal("10.50"), 2) == 1050


def test_strings_that_are_not_numbers_are_refused_with_the_text():
    with pytest.raises(ValueError, match="'12a'"):
        to_decimal("12a")
    with pytest.raises(ValueError):
        to_decimal("NaN")


@given(
    units=st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
    digits=st.sampled_from([0, 2, 3]),
)
def test_minor_units_round_trip_exactly(units, digits):
    amount = from_minor_units(units, digits)
    assert amount.as_tuple().exponent == -digits
    assert to_minor_units(amount, digits) == units


@given(
    amount=st.decimals(min_value=-(10**15), max_value=10**15, allow_nan=False, places=6),
    digits=st.sampled_from([0, 2]),
)
def test_rounding_moves_an_amount_by_at_most_half_a_minor_unit(amount, digits):
    rounded = round_money(amount, digits)
    assert abs(rounded - amount) <= Decimal(1).scaleb(-digits) / 2
    assert round_money(rounded, digits) == rounded
