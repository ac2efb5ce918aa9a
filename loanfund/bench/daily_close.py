"""How long the daily close takes as the book grows.

Run ``python -m loanfund.bench.daily_close --loans 2000 [--database URL]``. It loads the demo
fund (into a temporary SQLite file unless ``--database`` names an empty database), copies its
disbursed loans — each with its application, schedule versions and receipts — until the book
holds ``--loans`` loans, then times the close of the next business date (every loan aged,
grouped and provided for, the books adjusted, the snapshot written) and prints loans per
second and the projection to 100,000 loans (the issue's target: 60 s).

The copies are written with bulk inserts of the demo's own rows (``loanfund.bench.book``), so
their money is real: each copy replays exactly like its original.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time

from loanfund.bench.book import bench_app, copy_loans, load_demo

TARGET_SECONDS_AT_100K = 60


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=2_000)
    parser.add_argument("--database", default="")
    args = parser.parse_args(argv)

    from loanfund.models import db
    from loanfund.services.daily_close import close_day, last_closed

    app, url, folder = bench_app(args.database)
    today = dt.date(2026, 11, 23)
    with app.app_context(), app.test_request_context():
        load_demo(db.session, today=today, folder=folder)
        started = time.perf_counter()
        loans = copy_loans(db.session, args.loans)
        copied = time.perf_counter() - started
        day = (last_closed(db.session) or today) + dt.timedelta(days=1)
        started = time.perf_counter()
        counts = close_day(db.session, day=day)
        seconds = time.perf_counter() - started
    per_second = counts["loans_aged"] / seconds if seconds else 0.0
    projected = 100_000 / per_second if per_second else float("inf")
    print(f"database        {url.split(':', 1)[0]}")
    machine = platform.processor() or platform.machine()
    print(f"machine         {machine}, Python {sys.version.split()[0]}")
    print(f"loans in book   {loans:,} (copied in {copied:.1f} s)")
    print(f"close of        {day.isoformat()}: {counts}")
    print(f"close took      {seconds:.2f} s  ({per_second:,.0f} loans/s)")
    verdict = "met" if projected <= TARGET_SECONDS_AT_100K else "missed"
    target = TARGET_SECONDS_AT_100K
    print(f"at 100,000      about {projected:,.0f} s (target {target} s: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
