"""Numbers, money and dates in the reader's locale (``12.345.678 ₫``, ``23/11/2026``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app, has_request_context
from flask_babel import format_currency, format_datetime, format_decimal, get_locale, gettext
from flask_babel import format_date as babel_format_date

#: Date patterns per language; Vietnamese uses dd/mm/yyyy.
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
DATETIME_PATTERNS = {"vi": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}


def _language() -> str:
    locale = get_locale() if has_request_context() else None
    return locale.language if locale else current_app.config["BABEL_DEFAULT_LOCALE"]


def money(amount: Decimal | None) -> str:
    """An amount with the fund currency: ``12.345.678 ₫`` in Vietnamese."""
    if amount is None:
        return ""
    currency = current_app.config["LOANFUND"]["FUND_CURRENCY"]
    return format_currency(amount, currency)


def number(value: Decimal | int | None) -> str:
    """A number with the locale's separators, all its decimals kept."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.######")


def percent(value: Decimal | None) -> str:
    """A percentage given in percent units (``5.13`` → ``5,13 %``)."""
    if value is None:
        return ""
    return f"{number(value)} %"


def date(value: dt.date | str | None) -> str:
    """A date in the reader's locale; ISO text (as stored in JSON schedules) is read first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return babel_format_date(value, DATE_PATTERNS.get(_language(), "yyyy-MM-dd"))


def datetime(value: dt.datetime | None) -> str:
    """A timestamp in the fund's time zone."""
    if value is None:
        return ""
    return format_datetime(value, DATETIME_PATTERNS.get(_language(), "yyyy-MM-dd HH:mm"))


def install_domain_hooks() -> None:
    """Let pure code translate and format through Flask-Babel when a request is active."""
    from loanfund.domain import i18n

    def translate(message: str) -> str:
        return gettext(message) if has_request_context() else message

    def fmt_money(amount: Decimal) -> str:
        return money(amount) if has_request_context() else f"{amount:,}"

    def fmt_number(value: Decimal | int) -> str:
        return number(value) if has_request_context() else f"{value:,}"

    def fmt_date(value: dt.date) -> str:
        return date(value) if has_request_context() else value.isoformat()

    i18n.install(
        translate=translate, format_money=fmt_money, format_number=fmt_number, format_date=fmt_date
    )
