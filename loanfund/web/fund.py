"""The fund's settings as views need them (one place, so every area reads them alike)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from loanfund.config import currency_digits
from loanfund.domain.ledger import Account, account_label
from loanfund.models import db
from loanfund.queries.settings import FundSettings, fund_settings


def fund_digits() -> int:
    """Minor-unit digits of the fund currency (0 for VND)."""
    return currency_digits(current_app.config["LOANFUND"]["FUND_CURRENCY"])


def current_fund() -> FundSettings:
    """The fund's name, time zone, currency and policy, as stored."""
    return fund_settings(db.session, currency_digits=fund_digits())


def account_namer() -> Callable[[Account], str]:
    """Names accounts as the fund's accountants know them: its number, then the name."""
    policy = current_fund().policy
    return lambda account: f"{policy.account_code(account.value)} · {account_label(account)}"
