"""Column types for money, rates and timestamps: exact, and refusing floats.

* :class:`Money` stores an integer count of the fund currency's minor units (``BigInteger``)
  and gives back :class:`~decimal.Decimal`. SQLite's ``Numeric`` goes through float, so it is
  never used for money.
* :class:`RatePct` stores a percentage exactly, as an integer count of millionths of a percent
  (5.13 % → 5 130 000), so rates compare and sort in SQL and never lose a digit.
* :class:`UTCDateTime` stores timezone-aware UTC timestamps and gives them back aware on every
  database (SQLite returns naive values otherwise).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

from loanfund.domain.money import from_minor_units, to_decimal, to_minor_units

_money_digits: int | None = None

#: Rates keep six decimal places of a percent (0.000001 %).
RATE_DIGITS = 6


def configure_money(digits: int) -> None:
    """Set the minor-unit digits of the installation's currency (once, by the app factory).

    One currency per installation (DESIGN §3), so the digits are process-wide. Changing them
    while money is stored would rescale every amount: ``loanfund check`` guards against that.
    """
    global _money_digits
    if not 0 <= digits <= 4:
        raise ValueError(f"A currency has 0 to 4 minor-unit digits, not {digits}.")
    _money_digits = digits


def money_digits() -> int:
    """The configured minor-unit digits; an error if the app factory has not set them."""
    if _money_digits is None:
        raise RuntimeError("The fund currency is not configured; call configure_money() first.")
    return _money_digits


class Money(TypeDecorator[Decimal]):
    """An amount of the fund currency: ``Decimal`` in Python, integer minor units in SQL.

    Binding refuses floats (``MoneyTypeError``) and amounts with more decimal places than the
    currency has (they must be rounded with ``domain.money.round_money`` first).
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        return to_minor_units(to_decimal(value), money_digits())

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return from_minor_units(int(value), money_digits())

    def process_literal_param(self, value: Any, dialect: Any) -> str:
        return str(self.process_bind_param(value, dialect))


class RatePct(TypeDecorator[Decimal]):
    """A percentage stored exactly as millionths of a percent (``BigInteger``)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        return to_minor_units(to_decimal(value), RATE_DIGITS)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return from_minor_units(int(value), RATE_DIGITS).normalize() + Decimal("0.00")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every database.

    Aware values are converted to UTC; naive values (some libraries still make them) are
    taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"A timestamp must be a datetime, not {type(value).__name__}.")
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC (for ``default=`` of timestamp columns)."""
    return dt.datetime.now(dt.UTC)
