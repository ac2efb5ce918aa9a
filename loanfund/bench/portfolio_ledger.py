"""How long the portfolio ledger takes, and how much memory, next to xlsxwriter alone.

Run ``python -m loanfund.bench.portfolio_ledger --loans 100000 [--database URL] [--as-of D]
[--json] [--no-tracemalloc] [--keep] [--repeat N]``. It grows a book of ``--loans`` loans from
the demo fund (``loanfund.bench.book``: into a temporary SQLite file unless ``--database``
names an empty database; the copies carry their tranches and collateral), then measures, each
in a fresh Python process so that one part's memory does not count against another's:

1. the export, as ``loanfund export portfolio`` does it: the rows read (from the figures the
   daily close stored, a loan replayed where they do not hold: ``services.portfolio``) and
   written by ``exports.portfolio`` to a file — wall time and the process's peak RSS
   (``resource.getrusage``), and, in a second run under ``tracemalloc``, the peak of Python's
   own allocations;
2. the rows alone, computed and not written;
3. xlsxwriter alone writing the same cells — the same rows and columns, the same values with
   the same types (text, numbers, dates, blanks) and the ledger's formats, in constant memory —
   from cells made before the clock starts, so only the writing is timed.

Parts 1 and 2–3 run ``--repeat`` times each (default 3), alternately, and the fastest run of
each counts, since other work on the machine only slows a run down; every run's seconds are
printed too. It prints a table (or, with ``--json``, one JSON object): the loans and rows, the
seconds of each part, the ratio export ÷ xlsxwriter alone (the issue's target: at most 1.5) and
the export's peak memory (target: at most 300 MB of peak RSS), with the machine it ran on and
its load (other work on the machine slows every part). The demo's one contract not yet paid out
has no row: a book of ``n`` loans gives ``n - 1`` rows. The folder it made is removed at the
end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import shutil
import subprocess  # runs this module in a fresh interpreter  # nosec B404
import sys
import time
import tracemalloc
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

#: The issue's targets: export time at most this many times xlsxwriter's alone…
TARGET_RATIO = 1.5
#: …and the export's peak memory (peak RSS of the process) at most this many MB.
TARGET_PEAK_MB = 300

#: The demo fund's business date.
DEMO_TODAY = dt.date(2026, 11, 23)

MB = 1024 * 1024


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (Linux reports KiB, macOS bytes).

    Linux carries a parent's peak into a child it starts (the figure survives ``exec``), so
    the benchmark keeps the process that starts the parts small: their peaks are their own.
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def high_water_mark_bytes() -> int | None:
    """The peak RSS of this program alone, from ``/proc/self/status`` (Linux; else None): a
    check on :func:`peak_rss_bytes`."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


# --- the parts, each run in its own process -----------------------------------------------


def _export(app: Any, *, as_of: dt.date, out: Path) -> int:
    """Write the ledger as ``loanfund export portfolio`` does; returns the number of rows."""
    from loanfund.config import currency_digits
    from loanfund.exports.portfolio import ledger_words, write_portfolio_ledger
    from loanfund.models import db
    from loanfund.queries.settings import fund_settings
    from loanfund.services.portfolio import portfolio_rows

    digits = currency_digits(app.config["LOANFUND"]["FUND_CURRENCY"])
    fund = fund_settings(db.session, currency_digits=digits)
    counted = 0

    def counting(source: Iterable[Any]) -> Iterable[Any]:
        nonlocal counted
        for row in source:
            counted += 1
            yield row

    write_portfolio_ledger(
        str(out),
        counting(portfolio_rows(db.session, as_of=as_of)),
        fund_name=fund.name,
        as_of=as_of,
        digits=digits,
        describe=ledger_words(),
    )
    return counted


def part_export(app: Any, *, as_of: dt.date, out: Path, traced: bool) -> dict[str, Any]:
    """The export's time and peak RSS (``traced``: its peak of Python allocations instead)."""
    gc.collect()
    baseline = peak_rss_bytes()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    rows = _export(app, as_of=as_of, out=out)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"rows": rows, "seconds": seconds, "file_bytes": out.stat().st_size}
    if traced:
        result["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        result["baseline_rss_bytes"] = baseline
        result["peak_rss_bytes"] = peak_rss_bytes()
        result["high_water_mark_bytes"] = high_water_mark_bytes()
    return result


def cells_of(rows: Iterable[Mapping[str, Any]]) -> list[list[tuple[str, Any]]]:
    """Each row's cells as the ledger hands them to xlsxwriter: ``(kind, value)`` with kind
    ``text`` (a str), ``money`` (a Decimal), ``int`` or ``pct`` (the number), ``date`` (a
    date) or ``blank``; codes already turned into words."""
    from loanfund.exports.portfolio import columns, ledger_words

    describe = ledger_words()
    shown = [(column.key, column.kind, describe.get(column.key)) for column in columns()]
    table = []
    for row in rows:
        cells = []
        for key, kind, words in shown:
            value = row.get(key)
            if value is None or value == "":
                cells.append(("blank", None))
            elif words is not None:
                cells.append(("text", words(str(value))))
            elif kind == "money":
                cells.append(("money", Decimal(value)))
            elif kind == "text":
                cells.append(("text", str(value)))
            else:
                cells.append((kind, value))
        table.append(cells)
    return table


def write_raw(path: Path, table: list[list[tuple[str, Any]]], *, digits: int) -> None:
    """xlsxwriter alone: the title, subtitle and header rows, ``table``'s cells and a totals
    row (its values taken from the cells before), with the ledger's workbook options and
    formats and nothing else."""
    from loanfund.exports.ledger import LedgerBook
    from loanfund.exports.portfolio import columns

    book = LedgerBook(str(path), digits=digits)  # the workbook options and formats only
    formats = {**book.formats, "blank": None}  # a blank is written as the ledger writes it
    sheet = book.workbook.add_worksheet("Portfolio")
    writers = {
        "text": sheet.write_string,
        "money": sheet.write_number,
        "int": sheet.write_number,
        "pct": sheet.write_number,
        "date": sheet.write_datetime,
        "blank": sheet.write_blank,
    }
    sheet.write_string(0, 0, "Portfolio ledger — Bench", formats["title"])
    sheet.write_string(1, 0, "As of", formats["subtitle"])
    shown = columns()
    for index, column in enumerate(shown):
        sheet.set_column(index, index, column.width)
        sheet.write_string(3, index, column.title, formats["header"])
    sheet.freeze_panes(4, 0)
    row_number = 3
    for cells in table:
        row_number += 1
        for index, (kind, value) in enumerate(cells):
            writers[kind](row_number, index, value, formats[kind])
    sheet.autofilter(3, 0, row_number, len(shown) - 1)
    sheet.write_string(row_number + 1, 0, "Total", formats["total_label"])
    for index, column in enumerate(shown):
        if column.total:  # a constant stands in for the sum: only the writing is timed
            sheet.write_number(row_number + 1, index, Decimal(0), formats["total_money"])
    book.close()


def part_rows_and_raw(app: Any, *, as_of: dt.date, out: Path) -> dict[str, Any]:
    """The rows computed and not written, then xlsxwriter alone writing their cells."""
    from loanfund.config import currency_digits
    from loanfund.models import db
    from loanfund.services.portfolio import portfolio_rows

    gc.collect()
    started = time.perf_counter()
    rows = list(portfolio_rows(db.session, as_of=as_of))
    rows_seconds = time.perf_counter() - started
    table = cells_of(rows)
    count = len(rows)
    del rows
    db.session.expunge_all()
    # The cells stay alive through the writing: keep the collector off them (frozen), so that
    # xlsxwriter is timed at its best.
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    write_raw(out, table, digits=currency_digits(app.config["LOANFUND"]["FUND_CURRENCY"]))
    raw_seconds = time.perf_counter() - started
    gc.unfreeze()
    return {
        "rows": count,
        "rows_seconds": rows_seconds,
        "raw_seconds": raw_seconds,
        "cells": sum(len(cells) for cells in table),
        "file_bytes": out.stat().st_size,
    }


def part_build(*, loans: int, database: str) -> dict[str, Any]:
    """The demo fund grown to ``loans`` loans: its database URL, its last closed business day,
    the loans in the book, the seconds the copying took and the benchmark's folder."""
    from loanfund.bench.book import bench_app, copy_loans, load_demo
    from loanfund.models import db
    from loanfund.services.daily_close import last_closed

    app, url, folder = bench_app(database)
    with app.app_context(), app.test_request_context():
        load_demo(db.session, today=DEMO_TODAY, folder=folder)
        started = time.perf_counter()
        count = copy_loans(db.session, loans, details=True)
        copied = time.perf_counter() - started
        closed = last_closed(db.session) or DEMO_TODAY
    return {
        "database": url,
        "closed": closed.isoformat(),
        "loans": count,
        "copy_seconds": copied,
        "folder": str(folder),
    }


def run_part(part: str, *, database: str, as_of: dt.date, out: Path) -> dict[str, Any]:
    """One measured part on ``database``, in this process."""
    from loanfund.app import create_app

    app = create_app({"DATABASE_URL": database, "UPLOAD_DIR": str(out.parent / "uploads")})
    with app.app_context(), app.test_request_context():
        if part == "rows-raw":
            return part_rows_and_raw(app, as_of=as_of, out=out)
        return part_export(app, as_of=as_of, out=out, traced=part == "export-traced")


def in_fresh_process(part: str, *options: str) -> dict[str, Any]:
    """``--part part`` run by a new interpreter; its result is the last line it prints."""
    command = [sys.executable, "-m", "loanfund.bench.portfolio_ledger", "--part", part, *options]
    # This very module, run by this interpreter, on the benchmark's own database and files.
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if done.returncode != 0:
        raise RuntimeError(f"{part} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measured(part: str, *, database: str, as_of: dt.date, out: Path) -> dict[str, Any]:
    return in_fresh_process(
        part, "--database", database, "--as-of", as_of.isoformat(), "--out", str(out)
    )


# --- the whole benchmark --------------------------------------------------------------------


def measure(
    *,
    loans: int,
    database: str = "",
    as_of: dt.date | None = None,
    traced: bool = True,
    keep: bool = False,
    repeat: int = 3,
) -> dict[str, Any]:
    """Build the book and measure the three parts; returns the figures.

    Args:
        traced: also run the export under ``tracemalloc`` (several times slower).
        keep: keep the benchmark's folder (database, workbooks) instead of removing it.
        repeat: runs of each timed part (the fastest counts; every run's seconds are kept).
    """
    load_before = os.getloadavg()[0]
    # Even the book is made by another process: this one stays small (see peak_rss_bytes).
    book = in_fresh_process("build", "--loans", str(loans), "--database", database)
    url, folder = book["database"], Path(book["folder"])
    try:
        day = as_of or dt.date.fromisoformat(book["closed"])
        # Each timed part runs ``repeat`` times, alternately, and the fastest run counts: other
        # work on the machine only ever slows a run down, so the minimum is the cost.
        exports, rows_raws = [], []
        for _run in range(repeat):
            exports.append(measured("export", database=url, as_of=day, out=folder / "ledger.xlsx"))
            rows_raws.append(measured("rows-raw", database=url, as_of=day, out=folder / "raw.xlsx"))
        export = min(exports, key=lambda run: run["seconds"])
        rows_raw = {
            **rows_raws[0],
            "rows_seconds": min(run["rows_seconds"] for run in rows_raws),
            "raw_seconds": min(run["raw_seconds"] for run in rows_raws),
        }
        traced_run = (
            measured("export-traced", database=url, as_of=day, out=folder / "traced.xlsx")
            if traced
            else None
        )
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    ratio = export["seconds"] / rows_raw["raw_seconds"] if rows_raw["raw_seconds"] else None
    # Memory is not noisy the way time is, but the largest of the runs is reported.
    peak_mb = max(run["peak_rss_bytes"] for run in exports) / MB
    hwm = max((run["high_water_mark_bytes"] or 0 for run in exports), default=0) or None
    return {
        "loans": book["loans"],
        "rows": export["rows"],
        "cells": rows_raw["cells"],
        "as_of": day.isoformat(),
        "copy_seconds": book["copy_seconds"],
        "seconds": {
            "export": export["seconds"],
            "rows_only": rows_raw["rows_seconds"],
            "export_writing": export["seconds"] - rows_raw["rows_seconds"],
            "xlsxwriter_alone": rows_raw["raw_seconds"],
            "export_under_tracemalloc": traced_run["seconds"] if traced_run else None,
        },
        "runs": {
            "export": [run["seconds"] for run in exports],
            "rows_only": [run["rows_seconds"] for run in rows_raws],
            "xlsxwriter_alone": [run["raw_seconds"] for run in rows_raws],
        },
        "ratio_export_to_xlsxwriter": ratio,
        "memory_mb": {
            "peak_rss": peak_mb,
            "rss_before_export": export["baseline_rss_bytes"] / MB,
            "high_water_mark": hwm / MB if hwm is not None else None,
            "tracemalloc_peak": (traced_run["tracemalloc_peak_bytes"] / MB if traced_run else None),
        },
        "file_mb": {
            "export": export["file_bytes"] / MB,
            "xlsxwriter_alone": rows_raw["file_bytes"] / MB,
        },
        "targets": {
            "ratio": {"target": TARGET_RATIO, "met": ratio is not None and ratio <= TARGET_RATIO},
            "peak_mb": {"target": TARGET_PEAK_MB, "met": peak_mb <= TARGET_PEAK_MB},
        },
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "database": url.split(":", 1)[0],
            # Other work on the machine slows every part: the 1-minute load, before and after.
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        },
        "folder": str(folder) if keep else None,
    }


def report(figures: dict[str, Any]) -> str:
    """The figures as a table for people."""
    seconds, memory, targets = figures["seconds"], figures["memory_mb"], figures["targets"]
    machine = figures["machine"]

    def verdict(name: str) -> str:
        return "met" if targets[name]["met"] else "MISSED"

    ratio = figures["ratio_export_to_xlsxwriter"]
    load_before, load_after = machine["load_average"]
    lines = [
        f"machine                 {machine['platform']}, {machine['cpus']} CPUs, "
        f"Python {machine['python']}",
        f"load average (1 min)    {load_before} before, {load_after} after",
        f"database                {machine['database']}",
        f"loans in book           {figures['loans']:,} (copied in {figures['copy_seconds']:.1f} s)",
        f"ledger as of            {figures['as_of']}",
        f"rows                    {figures['rows']:,} ({figures['cells']:,} cells)",
        f"export                  {seconds['export']:10.2f} s",
        f"  rows only             {seconds['rows_only']:10.2f} s  (query and replay)",
        f"  writing (difference)  {seconds['export_writing']:10.2f} s",
        f"xlsxwriter alone        {seconds['xlsxwriter_alone']:10.2f} s  (same cells)",
        f"export ÷ xlsxwriter     {ratio:10.2f}    (target ≤ {TARGET_RATIO}: {verdict('ratio')})"
        if ratio is not None
        else "export ÷ xlsxwriter     -",
        f"peak RSS of the export  {memory['peak_rss']:10.1f} MB "
        f"(target ≤ {TARGET_PEAK_MB}: {verdict('peak_mb')}; "
        f"{memory['rss_before_export']:.1f} MB before it started)",
    ]
    if memory["high_water_mark"] is not None:
        lines.append(f"  VmHWM (a check)       {memory['high_water_mark']:10.1f} MB")
    if memory["tracemalloc_peak"] is not None:
        lines.append(
            f"tracemalloc peak        {memory['tracemalloc_peak']:10.1f} MB "
            f"(Python allocations; that run took {seconds['export_under_tracemalloc']:.1f} s)"
        )
    if figures["folder"]:
        lines.append(f"kept in                 {figures['folder']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the figures; returns 0 (the targets are reported, not enforced)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=2_000)
    parser.add_argument("--database", default="", help="an empty database (default: SQLite)")
    parser.add_argument(
        "--as-of", dest="as_of", default=None, help="ledger date (default: last closed day)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--no-tracemalloc",
        dest="traced",
        action="store_false",
        help="skip the export's run under tracemalloc (it is several times slower)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and workbooks it made"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each timed part; the fastest counts"
    )
    parser.add_argument(
        "--part", choices=("build", "export", "export-traced", "rows-raw"), help=argparse.SUPPRESS
    )
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None

    if args.part == "build":
        print(json.dumps(part_build(loans=args.loans, database=args.database)))
        return 0
    if args.part:  # one measured part, in the process the benchmark started for it
        if as_of is None or not args.database or not args.out:
            parser.error("--part needs --database, --as-of and --out")
        result = run_part(args.part, database=args.database, as_of=as_of, out=Path(args.out))
        print(json.dumps(result))
        return 0

    figures = measure(
        loans=args.loans,
        database=args.database,
        as_of=as_of,
        traced=args.traced,
        keep=args.keep,
        repeat=max(args.repeat, 1),
    )
    print(json.dumps(figures, indent=2) if args.json else report(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
