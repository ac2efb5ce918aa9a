"""The only place views ask the clock: today and now in the fund's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from flask import current_app


def fund_now() -> dt.datetime:
    zone = zoneinfo.ZoneInfo(current_app.config["LOANFUND"]["FUND_TIMEZONE"])
    return dt.datetime.now(zone)


def fund_today() -> dt.date:
    """The business date in the fund's time zone."""
    return fund_now().date()
