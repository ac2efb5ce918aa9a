"""Money as :class:`~decimal.Decimal`, rounded in one place.

Every amount the fund handles is a ``Decimal``. Floats are refused wherever an amount enters
(:func:`to_decimal`), because a binary float cannot hold most decimal amounts exactly.
Rounding happens only here (:func:`round_money`), half-up to the currency's minor unit by
default, and only at boundaries: installments, allocations, stored amounts.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Final

#: Decimal context with room for any amount the fund can hold (10^18 minor units and more),
#: used for all money arithmetic so results never depend on a caller's context.
MONEY_CONTEXT: Final = decimal.Context(
    prec=40,
    rounding=ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

#: Rounding modes a fund may choose, by their policy names.
ROUNDING_MODES: Final = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "up": ROUND_CEILING,
    "down": ROUND_FLOOR,
}

#: The largest amount storable: a signed 64-bit count of minor units.
MAX_MINOR_UNITS: Final = 2**63 - 1

ZERO: Final = Decimal(0)

#: Quanta for 0..18 decimal places, made once (rounding is on every installment's path).
_QUANTA: Final = tuple(Decimal(1).scaleb(-digits) for digits in range(19))


class MoneyTypeError(TypeError):
    """A value that is not an exact decimal (a float, a bool, an object) reached money code."""


@dataclass(frozen=True, slots=True)
class Currency:
    """The fund's currency: its ISO 4217 code and how many minor-unit digits it has.

    Attributes:
        code: ISO 4217 code, e.g. ``"VND"``.
        digits: minor-unit digits (VND 0, USD 2).
    """

    code: str
    digits: int

    def __post_init__(self) -> None:
        if not (len(self.code) == 3 and self.code.isalpha() and self.code.isupper()):
            raise ValueError(f"Currency code must be three capital letters, not {self.code!r}.")
        if not 0 <= self.digits <= 4:
            raise ValueError(f"A currency has 0 to 4 minor-unit digits, not {self.digits}.")

    @property
    def quantum(self) -> Decimal:
        """The smallest amount of this currency, e.g. ``Decimal('1')`` or ``Decimal('0.01')``."""
        return Decimal(1).scaleb(-self.digits)


def to_decimal(value: object) -> Decimal:
    """Turn an exact value into a ``Decimal``; refuse anything inexact.

    Args:
        value: a ``Decimal``, an ``int`` or a decimal string such as ``"12345.50"``.

    Returns:
        The same number as a finite ``Decimal``.

    Raises:
        MoneyTypeError: for floats, bools and anything else that is not an exact number.
        ValueError: for strings that are not decimal numbers, and for NaN or infinity.
    """
    if isinstance(value, bool | float):
        raise MoneyTypeError(
            f"Money must be an exact Decimal, int or decimal string, not {type(value).__name__} "
            f"{value!r}."
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number.") from None
    else:
        raise MoneyTypeError(
            f"Money must be an exact Decimal, int or decimal string, not {type(value).__name__}."
        )
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number.")
    return result


def round_money(amount: object, digits: int, rounding: str = "half_up") -> Decimal:
    """Round an amount to ``digits`` decimal places: the one rounding function for money.

    Args:
        amount: an exact number (see :func:`to_decimal`).
        digits: decimal places to keep (the currency's minor-unit digits).
        rounding: ``"half_up"`` (default), ``"half_even"`` or ``"up"`` (towards +infinity).

    Returns:
        The rounded ``Decimal`` with exactly ``digits`` decimal places.
    """
    value = amount if type(amount) is Decimal and amount.is_finite() else to_decimal(amount)
    # The same look-up as rounding_args, written out: calling it would slow round_money by 10%.
    mode = ROUNDING_MODES.get(rounding)
    if mode is None:
        raise ValueError(f"Unknown rounding {rounding!r}; use one of {', '.join(ROUNDING_MODES)}.")
    quantum = _QUANTA[digits] if 0 <= digits < len(_QUANTA) else Decimal(1).scaleb(-digits)
    # Positional arguments: Decimal.quantize parses keyword arguments about 3x slower.
    return value.quantize(quantum, mode, MONEY_CONTEXT)


def rounding_args(digits: int, rounding: str = "half_up") -> tuple[Decimal, str]:
    """The ``(quantum, mode)`` :func:`round_money` rounds with, for loops that round many amounts.

    ``amount.quantize(quantum, mode, MONEY_CONTEXT)`` is then exactly
    ``round_money(amount, digits, rounding)`` for a finite ``Decimal`` amount, without the
    per-call checks and look-ups.

    Args:
        digits: decimal places to keep.
        rounding: as for :func:`round_money`.

    Returns:
        The quantum (``Decimal('0.01')`` for 2 digits) and the :mod:`decimal` rounding mode.

    Raises:
        ValueError: for an unknown rounding.
    """
    mode = ROUNDING_MODES.get(rounding)
    if mode is None:
        raise ValueError(f"Unknown rounding {rounding!r}; use one of {', '.join(ROUNDING_MODES)}.")
    quantum = _QUANTA[digits] if 0 <= digits < len(_QUANTA) else Decimal(1).scaleb(-digits)
    return quantum, mode


def round_to_multiple(amount: object, multiple: object, rounding: str = "half_up") -> Decimal:
    """Round an amount to a multiple of ``multiple`` (e.g. whole thousands of đồng).

    Args:
        amount: an exact number.
        multiple: a positive exact number such as ``1000``.
        rounding: as for :func:`round_money`.

    Returns:
        ``amount`` rounded to the nearest (or next, for ``"up"``) multiple.
    """
    step = to_decimal(multiple)
    if step <= 0:
        raise ValueError(f"The rounding multiple must be positive, not {step}.")
    units = round_money(to_decimal(amount) / step, 0, rounding)
    return MONEY_CONTEXT.multiply(units, step)


def is_whole_in(amount: Decimal, digits: int) -> bool:
    """True when ``amount`` has no more decimal places than ``digits`` allows."""
    return to_decimal(amount) == round_money(amount, digits)


def to_minor_units(amount: object, digits: int) -> int:
    """Convert an amount to an integer count of minor units, exactly.

    Raises:
        ValueError: when the amount has more decimal places than the currency allows (it must
            be rounded first, with :func:`round_money`) or does not fit in 64 bits.
    """
    value = to_decimal(amount)
    if value != round_money(value, digits):
        raise ValueError(
            f"{value} has more than {digits} decimal place(s); round it with round_money first."
        )
    units = int(value.scaleb(digits, context=MONEY_CONTEXT))
    if abs(units) > MAX_MINOR_UNITS:
        raise ValueError(f"{value} is too large to store.")
    return units


def from_minor_units(units: int, digits: int) -> Decimal:
    """Convert an integer count of minor units back to an amount with ``digits`` places."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise MoneyTypeError(f"Minor units must be an int, not {type(units).__name__}.")
    if digits == 0:
        return Decimal(units)
    # Exactly ``digits`` places: a whole number of units moved right, never rounded (every
    # storable amount fits the money context's precision).
    return Decimal(units).scaleb(-digits, context=MONEY_CONTEXT)


def percent_of(amount: object, pct: object) -> Decimal:
    """``amount × pct / 100``, exact (not rounded): round the result at the boundary."""
    return MONEY_CONTEXT.divide(MONEY_CONTEXT.multiply(to_decimal(amount), to_decimal(pct)), 100)


def ratio_pct(part: object, whole: object) -> Decimal:
    """``part / whole`` as a percentage, exact to the context precision; whole must be > 0."""
    denominator = to_decimal(whole)
    if denominator <= 0:
        raise ValueError("The whole of a percentage must be positive.")
    return MONEY_CONTEXT.divide(MONEY_CONTEXT.multiply(to_decimal(part), 100), denominator)
