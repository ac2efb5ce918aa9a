"""``loanfund bench run``: what the scale issue measures, on one database, in one table.

On the database it is given (a fund made by ``loanfund bench generate``, or any fund):

- **close**: the daily close of the next business date (the first not closed yet) — it
  changes the database as the scheduler would;
- **ledger**: the portfolio ledger as of the last closed day next to xlsxwriter alone writing
  the same cells (``loanfund.bench.portfolio_ledger``, each part in a fresh process, the
  fastest of ``--repeat`` runs);
- **pages**: the busiest pages, each requested by the fund's administrator through the app (no
  network): SQL statements per request and the median time of a few requests;
- **schedules**: the schedule engine's throughput;
- **latency**: the pages' latency under concurrent users, locust against the production server
  on 127.0.0.1 (``loanfund.bench.latency``).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

#: The pages the issue names, with a filter and a search where the page has them.
PAGES = {
    "dashboard": "/dashboard",
    "loans (filter + search)": "/loans/?status=active&q=hop+tac&sort=outstanding&dir=desc",
    "loan": "/loans/{loan_id}",
    "application queue": "/applications/queue?tab=all",
    "fund position (books)": "/books/",
    "receipts": "/loans/repayments/",
    "cooperatives": "/cooperatives/",
    "inspections": "/inspections/",
}
#: Requests timed per page (after one that warms the caches).
REQUESTS = 5
#: The issue's targets.
CLOSE_TARGET_SECONDS = 60
LEDGER_TARGET_RATIO = 1.5


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def measure_close(app: Any) -> dict[str, Any]:
    """The close of the first business date not closed yet."""
    from loanfund.models import Loan, db
    from loanfund.services.daily_close import close_day, last_closed

    with app.app_context():
        closed = last_closed(db.session)
        if closed is None:
            raise RuntimeError("No business day is closed yet: run `loanfund close` first.")
        day = closed + dt.timedelta(days=1)
        loans = db.session.scalar(select(func.count(Loan.id))) or 0
        seconds, counts = _timed(lambda: close_day(db.session, day=day))
        db.session.remove()
    return {"day": day.isoformat(), "loans": loans, "seconds": seconds, "counts": counts}


def measure_ledger(database: str, *, as_of: dt.date, repeat: int) -> dict[str, Any]:
    """The ledger and xlsxwriter alone, the fastest of ``repeat`` runs of each."""
    from loanfund.bench.portfolio_ledger import measured

    folder = Path(tempfile.mkdtemp(prefix="loanfund-bench-run-"))
    exports, raws = [], []
    for _run in range(repeat):
        exports.append(
            measured("export", database=database, as_of=as_of, out=folder / "ledger.xlsx")
        )
        raws.append(measured("rows-raw", database=database, as_of=as_of, out=folder / "raw.xlsx"))
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    export = min(run["seconds"] for run in exports)
    raw = min(run["raw_seconds"] for run in raws)
    return {
        "as_of": as_of.isoformat(),
        "rows": exports[0]["rows"],
        "export_seconds": export,
        "rows_seconds": min(run["rows_seconds"] for run in raws),
        "xlsxwriter_seconds": raw,
        "ratio": export / raw if raw else None,
        "peak_rss_mb": max(run["peak_rss_bytes"] for run in exports) / 2**20,
    }


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    if not found:
        raise RuntimeError("The sign-in page has no CSRF token.")
    return found.group(1)


def measure_pages(app: Any, *, email: str, password: str) -> dict[str, dict[str, Any]]:
    """Each page's SQL statements per request and the median of :data:`REQUESTS` timings."""
    from loanfund.models import Loan, db

    client = app.test_client()
    https = {"base_url": "https://localhost"}  # the session cookie is Secure
    page = client.get("/account/login", **https).get_data(as_text=True)
    signed_in = client.post(
        "/account/login",
        data={"email": email, "password": password, "csrf_token": _csrf(page)},
        headers={"Referer": "https://localhost/account/login"},  # checked over HTTPS
        **https,
    )
    if signed_in.status_code != 302:
        raise RuntimeError(f"Could not sign in as {email} (status {signed_in.status_code}).")
    with app.app_context():
        engine = db.engine
        loan_id = db.session.scalar(select(Loan.id).order_by(Loan.id).limit(1))
        db.session.remove()
    statements: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    results = {}
    for name, url in PAGES.items():
        url = url.format(loan_id=loan_id)
        client.get(url, **https)  # warm
        event.listen(engine, "before_cursor_execute", count)
        try:
            statements.clear()
            status = client.get(url, **https).status_code
            per_request = len(statements)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        timings = []
        for _request in range(REQUESTS):
            seconds, _response = _timed(lambda url=url: client.get(url, **https))
            timings.append(seconds * 1000)
        results[name] = {
            "status": status,
            "statements": per_request,
            "median_ms": statistics.median(timings),
        }
    return results


def measure_schedules() -> dict[str, float]:
    """Schedules per second: a 60-month annuity and a 120-month equal-principal loan."""
    from loanfund.bench.schedule_speed import loan_terms, seconds_per_schedule

    return {
        "annuity_60_per_second": 1 / seconds_per_schedule(loan_terms(60, "annuity"), 0.2, 5),
        "equal_principal_120_per_second": 1
        / seconds_per_schedule(loan_terms(120, "equal_principal"), 0.2, 5),
    }


def table(figures: dict[str, Any]) -> Iterable[str]:
    """The figures as lines of a table for people."""
    close = figures.get("close")
    if close:
        verdict = "met" if close["seconds"] <= CLOSE_TARGET_SECONDS else "MISSED"
        yield (
            f"daily close of {close['day']}: {close['seconds']:.1f} s for {close['loans']:,} "
            f"loans ({close['counts'].get('loans_aged', 0):,} aged) — target "
            f"{CLOSE_TARGET_SECONDS} s: {verdict}"
        )
    ledger = figures.get("ledger")
    if ledger:
        ratio = ledger["ratio"]
        verdict = "met" if ratio is not None and ratio <= LEDGER_TARGET_RATIO else "MISSED"
        yield (
            f"portfolio ledger as of {ledger['as_of']}: {ledger['rows']:,} rows, "
            f"{ledger['export_seconds']:.1f} s (rows {ledger['rows_seconds']:.1f} s); "
            f"xlsxwriter alone {ledger['xlsxwriter_seconds']:.1f} s; ratio {ratio:.2f} "
            f"(target {LEDGER_TARGET_RATIO}: {verdict}); peak RSS {ledger['peak_rss_mb']:.0f} MB"
        )
    pages = figures.get("pages")
    if pages:
        yield f"{'page':32} {'status':>6} {'SQL':>5} {'median ms':>10}"
        for name, page in pages.items():
            yield (
                f"{name:32} {page['status']:>6} {page['statements']:>5} {page['median_ms']:>10.1f}"
            )
    schedules = figures.get("schedules")
    if schedules:
        yield (
            f"schedule engine: {schedules['annuity_60_per_second']:,.0f} annuity schedules/s "
            f"(60 months), {schedules['equal_principal_120_per_second']:,.0f} equal-principal "
            "schedules/s (120 months)"
        )
    if "latency" in figures:
        if figures["latency"] is None:
            yield "web latency: not measured, locust is not installed (pip install -e '.[dev]')"
        else:
            from loanfund.bench.latency import table as latency_table

            yield from latency_table(figures["latency"])
