"""How fast the schedule engine builds schedules, on one core.

Run ``python -m loanfund.bench.schedule_speed``. It prints schedules per second for a
60-installment annuity and a 120-installment equal-principal loan (the target is at least 5,000
60-installment schedules a second), then the time per schedule for 12 to 360 installments.
Each figure is the best of several short timed runs (``time.perf_counter``), so a busy machine
shows its quietest moment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from decimal import Decimal

from loanfund.domain.schedule import ScheduleTerms, build_schedule

#: 60-installment annuity schedules a second the engine should reach on one core.
TARGET_PER_SECOND = 5_000

INSTALLMENT_COUNTS = (12, 24, 60, 120, 240, 360)


def loan_terms(installments: int, method: str) -> ScheduleTerms:
    """A typical fund loan: 500,000,000 VND at 5.13 %, monthly, actual/365."""
    return ScheduleTerms(
        principal=Decimal(500_000_000),
        annual_rate_pct=Decimal("5.13"),
        installments=installments,
        disbursed_on=dt.date(2026, 1, 15),
        method=method,
    )


def seconds_per_schedule(terms: ScheduleTerms, min_seconds: float, repeats: int) -> float:
    """Best time of ``repeats`` runs, each building the schedule for at least ``min_seconds``."""
    build_schedule(terms)  # warm up
    best = float("inf")
    for _ in range(repeats):
        count = 0
        started = time.perf_counter()
        elapsed = 0.0
        while elapsed < min_seconds:
            for _ in range(50):
                build_schedule(terms)
            count += 50
            elapsed = time.perf_counter() - started
        best = min(best, elapsed / count)
    return best


def main(argv: list[str] | None = None) -> int:
    """Print the figures; returns 0 (the target is reported, not enforced)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.2, help="time per run (default 0.2)")
    parser.add_argument("--repeats", type=int, default=7, help="runs per figure (default 7)")
    options = parser.parse_args(argv)

    print(f"Python {platform.python_version()} on {platform.machine()}, one core")
    annuity = seconds_per_schedule(loan_terms(60, "annuity"), options.seconds, options.repeats)
    equal = seconds_per_schedule(
        loan_terms(120, "equal_principal"), options.seconds, options.repeats
    )
    verdict = "meets" if 1 / annuity >= TARGET_PER_SECOND else "BELOW"
    print(
        f"annuity, 60 installments:          {1 / annuity:8,.0f} schedules/s "
        f"({verdict} the target of {TARGET_PER_SECOND:,}/s)"
    )
    print(f"equal principal, 120 installments: {1 / equal:8,.0f} schedules/s")
    print("time per schedule, equal principal / annuity (and per installment: growth is linear")
    print("when the per-installment figures stay level):")
    for installments in INSTALLMENT_COUNTS:
        equal_us, annuity_us = (
            seconds_per_schedule(loan_terms(installments, method), options.seconds, options.repeats)
            * 1e6
            for method in ("equal_principal", "annuity")
        )
        print(
            f"  {installments:4d} installments: {equal_us:9,.1f} µs / {annuity_us:9,.1f} µs"
            f"   ({equal_us / installments:4.1f} / {annuity_us / installments:4.1f} µs each)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
