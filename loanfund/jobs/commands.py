"""Operator commands for the scheduler and its jobs: ``loanfund scheduler``, ``close``,
``remind`` and ``outbox send``. Each run is recorded in the job history like a scheduled one."""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from loanfund.jobs.scheduler import (
    build_scheduler,
    close_job,
    fund_today,
    outbox_job,
    reminders_job,
)


def _day(value: str | None, default: dt.date) -> dt.date:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"use a date like 2026-11-23, not {value!r}") from None


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler (daily close, reminders, outbox) until stopped. A second scheduler
    started by mistake waits, doing nothing, while the first holds the lease."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheduler, lease = build_scheduler(_app())
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    click.echo("Scheduler started (Ctrl+C to stop).")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lease.release()


@click.command("close")
@click.option(
    "--date", "day", default=None, help="Business date to close up to (default: yesterday)."
)
@with_appcontext
def close_command(day: str | None) -> None:
    """Close every business date not closed yet, in order, up to --date."""
    app = _app()
    run = close_job(
        app, through=_day(day, fund_today(app) - dt.timedelta(days=1)), trigger="command"
    )
    click.echo(json.dumps(run.counts, indent=2))


@click.command("remind")
@click.option("--date", "day", default=None, help="Business date (default: today).")
@with_appcontext
def remind_command(day: str | None) -> None:
    """Write the reminders due on --date (each at most once)."""
    app = _app()
    run = reminders_job(app, today=_day(day, fund_today(app)), trigger="command")
    click.echo(json.dumps(run.counts, indent=2))


@click.group("outbox")
def outbox_group() -> None:
    """The email outbox."""


@outbox_group.command("send")
@with_appcontext
def outbox_send_command() -> None:
    """Send the queued emails that are due (needs MAIL_SERVER)."""
    counts: Any = outbox_job(_app(), trigger="command")
    if counts is None:
        raise click.ClickException("No SMTP server is configured (MAIL_SERVER): nothing sent.")
    click.echo(json.dumps(counts, indent=2))


def start_in_background(app: Flask) -> None:
    """The scheduler's jobs in a thread of this process (the demo), under the same lease."""
    scheduler, _lease = build_scheduler(app, background=True)
    scheduler.start()
    click.echo("Scheduler running in the background (daily close, reminders, outbox).")


def register_job_commands(app: Flask) -> None:
    for command in (scheduler_command, close_command, remind_command, outbox_group):
        app.cli.add_command(command)
    app.extensions["loanfund_background_scheduler"] = start_in_background
