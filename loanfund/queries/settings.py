"""Reading the fund's settings and policy."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanfund.domain.policy import Policy, build_policy
from loanfund.models import Setting

#: Settings that are not policy parameters.
FUND_KEYS = ("fund_name", "fund_timezone", "fund_currency")


@dataclass(frozen=True, slots=True)
class FundSettings:
    """The fund's identity and its policy in force."""

    name: str
    timezone: str
    currency: str
    policy: Policy


def stored_settings(session: Session) -> dict[str, str]:
    """Every stored setting as ``{key: text}``."""
    return dict(session.execute(select(Setting.key, Setting.value)).all())


def fund_settings(session: Session, *, currency_digits: int) -> FundSettings:
    """The fund's settings; policy parameters not stored take their defaults."""
    stored = stored_settings(session)
    policy_values = {key: value for key, value in stored.items() if key not in FUND_KEYS}
    return FundSettings(
        name=stored.get("fund_name", ""),
        timezone=stored.get("fund_timezone", ""),
        currency=stored.get("fund_currency", ""),
        policy=build_policy(policy_values, currency_digits=currency_digits),
    )
