"""``loanfund bench``: the benchmarks' commands (a click group; add a subcommand per
benchmark)."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("bench")
def bench_group() -> None:
    """Benchmarks: a large synthetic fund, and measurements on it."""


def _target_app(database: str | None) -> tuple[Any, Path]:
    """The app to write into (a new one on ``database``, or the configured one) and the
    folder for the demo's uploaded documents."""
    from loanfund.app import create_app
    from loanfund.config import upload_dir

    if not database:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        return app, Path(upload_dir(app.config["LOANFUND"]))
    if database.startswith("sqlite:///"):
        uploads = Path(database.removeprefix("sqlite:///") + ".uploads")
    else:
        uploads = Path(tempfile.mkdtemp(prefix="loanfund-bench-uploads-"))
    app = create_app({"DATABASE_URL": database, "UPLOAD_DIR": str(uploads)})
    return app, uploads


@bench_group.command("generate")
@click.option(
    "--loans", type=click.IntRange(min=1), default=100_000, show_default=True, help="Loans."
)
@click.option(
    "--database",
    default=None,
    help="Database URL to write into (e.g. sqlite:////tmp/gen.db); default: the configured "
    "database (LOANFUND_DATABASE_URL). It must be empty.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--today",
    default="2026-11-23",
    show_default=True,
    help="Business date the history runs up to (YYYY-MM-DD).",
)
@with_appcontext
def bench_generate_command(loans: int, database: str | None, seed: int, today: str) -> None:
    """Write a synthetic fund: the demo fund (closed through the day before --today) and
    --loans synthetic loans with their cooperatives, applications, schedules, years of
    receipts, journal and inspections, with bulk inserts.

    The fund goes into --database when given (the configured database is not touched), else
    into the configured database. Either must be empty: the schema is created by the
    migrations. The demo's documents go to the configured upload folder, or with --database
    to DATABASE_FILE.uploads (SQLite) or a new temporary folder (PostgreSQL). The close of
    --today is left to run (`loanfund close` or the scheduler)."""
    from flask_migrate import upgrade

    from loanfund.bench.generate import generate_fund, prepare_database
    from loanfund.models import db
    from loanfund.services.demo import database_is_empty
    from loanfund.services.demo_data import FUND_NAME
    from loanfund.services.settings import initialize_fund

    try:
        day = dt.date.fromisoformat(today)
    except ValueError:
        raise click.BadParameter(
            f"not a date like 2026-11-23: {today!r}", param_hint="--today"
        ) from None
    app, uploads = _target_app(database)
    settings = app.config["LOANFUND"]
    started = time.perf_counter()
    with app.app_context(), app.test_request_context():
        upgrade()
        if not database_is_empty(db.session):
            raise click.ClickException(
                "The database already holds data; the generator writes into an empty one."
            )
        from loanfund.domain.access import SYSTEM

        initialize_fund(
            db.session,
            actor=SYSTEM,
            fund_name=FUND_NAME,
            currency=settings["FUND_CURRENCY"],
            timezone=settings["FUND_TIMEZONE"],
        )
        prepare_database(db.session, today=day, store_dir=uploads)
        demo_seconds = time.perf_counter() - started
        click.echo(f"Demo fund loaded in {demo_seconds:.1f} s.")

        def progress(done: int, total: int) -> None:
            elapsed = time.perf_counter() - started
            click.echo(f"  {done:,} / {total:,} loans ({elapsed:.0f} s)")

        result = generate_fund(db.session, loans=loans, seed=seed, today=day, progress=progress)
        url = db.engine.url.render_as_string(hide_password=True)
    seconds = time.perf_counter() - started
    click.echo(f"Wrote {result['loans']:,} synthetic loans into {url} in {seconds:.1f} s.")
    click.echo(f"Schedules built: {result['schedules_built']:,}")
    click.echo("Loans by story: " + ", ".join(f"{k} {v:,}" for k, v in result["stories"].items()))
    click.echo("Rows written:")
    for table, count in result["rows"].items():
        click.echo(f"  {table:<20} {count:>12,}")
    click.echo(f"Demo documents in {uploads}")


@bench_group.command("run")
@click.option(
    "--database",
    default=None,
    help="Database URL to measure (e.g. sqlite:////tmp/gen.db); default: the configured one.",
)
@click.option(
    "--part",
    "parts",
    multiple=True,
    type=click.Choice(["close", "ledger", "pages", "schedules", "latency"]),
    help="Only these measurements (repeat the option); default: all of them.",
)
@click.option("--repeat", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--email", default="admin@demo.quyhtx.vn", show_default=True, help="Who reads.")
@click.option("--password", default=None, help="Their password (default: the demo's).")
@click.option(
    "--users",
    "users_text",
    default="8,32",
    show_default=True,
    help="Latency: concurrent simulated users, one phase per number (comma-separated).",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.5),
    default=30.0,
    show_default=True,
    help="Latency: length of each phase, once every user has signed in.",
)
@click.option(
    "--think",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Latency: a user waits 0.5 to 1.5 times this many seconds between two pages.",
)
@click.option(
    "--server",
    type=click.Choice(["waitress", "gunicorn"]),
    default="waitress",
    show_default=True,
    help="Latency: waitress as `loanfund serve` runs it, or gunicorn with --workers processes.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Latency, gunicorn: worker processes (default: one per CPU).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def bench_run_command(
    database: str | None,
    parts: tuple[str, ...],
    repeat: int,
    email: str,
    password: str | None,
    users_text: str,
    seconds: float,
    think: float,
    server: str,
    workers: int | None,
    as_json: bool,
) -> None:
    """Measure the fund in the database: the close of the next business date (it changes the
    database as the scheduler would), the portfolio ledger next to xlsxwriter alone, the
    busiest pages' SQL statements and times, the schedule engine (see loanfund.bench.run),
    and the pages' latency under concurrent users against the production server on
    127.0.0.1 (see loanfund.bench.latency; needs locust, in the dev extra)."""
    import importlib.util
    import json
    import os
    import platform

    from loanfund.bench import latency, run
    from loanfund.config import upload_dir
    from loanfund.models import db
    from loanfund.services.daily_close import last_closed
    from loanfund.services.demo_data import DEMO_PASSWORD

    app, _uploads = _target_app(database)
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    try:
        users = [int(part) for part in users_text.split(",") if part.strip()]
    except ValueError:
        users = []
    if not users or min(users) < 1:
        raise click.BadParameter(
            f"whole numbers of users, like 8,32: {users_text!r}", param_hint="--users"
        )
    has_locust = importlib.util.find_spec("locust") is not None
    if "latency" in parts and not has_locust:
        raise click.ClickException("The latency part needs locust: pip install -e '.[dev]'.")
    if server == "gunicorn" and importlib.util.find_spec("gunicorn") is None:
        raise click.ClickException("--server gunicorn needs gunicorn: pip install -e '.[dev]'.")
    chosen = set(parts or ("close", "ledger", "pages", "schedules", "latency"))
    figures: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "database": url.split(":", 1)[0],
            "load_average": os.getloadavg()[0],
        }
    }
    if "close" in chosen:
        figures["close"] = run.measure_close(app)
    if "ledger" in chosen:
        with app.app_context():
            as_of = last_closed(db.session)
            db.session.remove()
        if as_of is None:
            raise click.ClickException("No business day is closed: run the close first.")
        figures["ledger"] = run.measure_ledger(url, as_of=as_of, repeat=repeat)
    if "pages" in chosen:
        figures["pages"] = run.measure_pages(app, email=email, password=password or DEMO_PASSWORD)
    if "schedules" in chosen:
        figures["schedules"] = run.measure_schedules()
    if "latency" in chosen and has_locust:
        figures["latency"] = latency.measure_latency(
            {"DATABASE_URL": url, "UPLOAD_DIR": str(upload_dir(app.config["LOANFUND"]))},
            email=email,
            password=password or DEMO_PASSWORD,
            loan_ids=latency.spread_loan_ids(app),
            pages=run.PAGES,
            users=users,
            seconds=seconds,
            think_seconds=think,
            server=server,
            workers=workers,
            threads=app.config["LOANFUND"]["THREADS"],
        )
    elif "latency" in chosen:
        figures["latency"] = None  # locust is not installed
    if as_json:
        click.echo(json.dumps(figures, indent=2, default=str))
        return
    click.echo(
        f"{figures['machine']['database']} · {figures['machine']['cpus']} CPUs · "
        f"Python {figures['machine']['python']} · load {figures['machine']['load_average']:.2f}"
    )
    for line in run.table(figures):
        click.echo(line)
