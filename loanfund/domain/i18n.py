"""Translation and number formatting hooks for messages made in pure code.

The domain and the services write sentences for users (errors, eligibility problems) but may
not import Flask-Babel. They call :func:`_` (extracted by Babel like any gettext call) and
:func:`fmt_money` / :func:`fmt_number` / :func:`fmt_date`; the application installs the real
translator and formatters once, with :func:`install`. Without it (pure unit tests, scripts)
messages stay in English and numbers are printed plainly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_translate: Callable[[str], str] = lambda message: message  # noqa: E731
_format_money: Callable[[Decimal], str] = lambda amount: f"{amount:,}"  # noqa: E731
_format_number: Callable[[Decimal | int], str] = lambda number: f"{number:,}"  # noqa: E731
_format_date: Callable[[dt.date], str] = lambda day: day.isoformat()  # noqa: E731


def install(
    *,
    translate: Callable[[str], str],
    format_money: Callable[[Decimal], str],
    format_number: Callable[[Decimal | int], str],
    format_date: Callable[[dt.date], str],
) -> None:
    """Install the application's translator and locale-aware formatters."""
    global _translate, _format_money, _format_number, _format_date
    _translate, _format_money = translate, format_money
    _format_number, _format_date = format_number, format_date


def _(message: str, **values: Any) -> str:
    """Translate ``message`` and fill its ``%(name)s`` placeholders from ``values``."""
    translated = _translate(message)
    return translated % values if values else translated


def fmt_money(amount: Decimal) -> str:
    """An amount with the fund currency, in the reader's locale (``12.345.678 ₫``)."""
    return _format_money(amount)


def fmt_number(number: Decimal | int) -> str:
    """A plain number in the reader's locale (``12.345,5``)."""
    return _format_number(number)


def fmt_date(day: dt.date) -> str:
    """A date in the reader's locale (``23/11/2026``)."""
    return _format_date(day)
