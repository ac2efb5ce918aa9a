"""The scheduler: APScheduler 3.x running the fund's jobs at their times in the fund's time
zone, only while this process holds the leader's lease.

Jobs (each: the business date in the fund's time zone → a session → a service, recorded in
the job history):

* ``daily_close`` at ``SCHEDULER_CLOSE_TIME``: closes every business date up to yesterday that
  is not closed yet, in order (also once at start, so downtime is caught up);
* ``reminders`` at ``SCHEDULER_REMINDERS_TIME`` (and at start): today's reminders, once each;
* ``outbox`` every ``SCHEDULER_OUTBOX_SECONDS``: sends queued email when SMTP is configured;
* ``exports_cleanup`` daily after the close: fails exports whose process died and removes
  workbooks older than ``EXPORT_KEEP_DAYS`` from ``EXPORT_DIR``;
* ``lease`` renews the lease (a third of its length).
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from loanfund.config import clock_time, export_dir
from loanfund.jobs.lease import Lease
from loanfund.models import db
from loanfund.models.types import utcnow
from loanfund.services.daily_close import close_through
from loanfund.services.exports import remove_old_exports
from loanfund.services.job_runs import run_recorded
from loanfund.services.mailer import send_outbox, smtp_transport
from loanfund.services.reminders import write_reminders

log = logging.getLogger("loanfund.scheduler")


def fund_today(app: Flask, now: dt.datetime | None = None) -> dt.date:
    """The business date in the fund's time zone."""
    zone = zoneinfo.ZoneInfo(app.config["LOANFUND"]["FUND_TIMEZONE"])
    return (now or utcnow()).astimezone(zone).date()


def email_renderer(app: Flask) -> Any:
    """The notice-email renderer the app factory registered (it renders templates in the
    recipient's language)."""
    return app.extensions.get("loanfund_notice_email")


def close_job(app: Flask, *, through: dt.date | None = None, trigger: str = "scheduler") -> Any:
    """Close every business date not closed yet, up to ``through`` (default: yesterday)."""
    day = through or fund_today(app) - dt.timedelta(days=1)
    return run_recorded(
        db.session,
        job="daily_close",
        business_date=day,
        trigger=trigger,
        work=lambda: {
            "closed": [d["business_date"] for d in close_through(db.session, through=day)]
        },
    )


def reminders_job(app: Flask, *, today: dt.date | None = None, trigger: str = "scheduler") -> Any:
    day = today or fund_today(app)
    with app.test_request_context():  # templates and the recipient's language need a request
        return run_recorded(
            db.session,
            job="reminders",
            business_date=day,
            trigger=trigger,
            work=lambda: write_reminders(db.session, today=day, render_email=email_renderer(app)),
        )


def outbox_job(app: Flask, *, trigger: str = "scheduler") -> dict[str, int] | None:
    """Send what is due in the outbox; None (nothing recorded) when SMTP is not configured."""
    transport = smtp_transport(app.config["LOANFUND"])
    if transport is None:
        return None
    counts = send_outbox(db.session, now=utcnow(), transport=transport)
    if any(counts.values()) or trigger != "scheduler":
        run_recorded(
            db.session, job="outbox", business_date=None, trigger=trigger, work=lambda: counts
        )
    return counts


def exports_cleanup_job(app: Flask, *, trigger: str = "scheduler") -> Any:
    """Fail exports whose process died; remove workbooks older than ``EXPORT_KEEP_DAYS``."""
    settings = app.config["LOANFUND"]
    now = utcnow()
    return run_recorded(
        db.session,
        job="exports_cleanup",
        business_date=fund_today(app, now),
        trigger=trigger,
        work=lambda: remove_old_exports(
            db.session,
            folder=export_dir(settings),
            now=now,
            keep_days=settings["EXPORT_KEEP_DAYS"],
        ),
    )


def _as_leader(app: Flask, lease: Lease, name: str, body: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        with app.app_context():
            try:
                if not lease.acquire():
                    log.info("%s: another scheduler holds the lease; this one does nothing", name)
                    return
                body()
            except Exception:
                log.exception("%s failed (recorded in the job history)", name)
            finally:
                db.session.remove()

    return run


def build_scheduler(
    app: Flask, *, background: bool = False, lease: Lease | None = None
) -> tuple[BaseScheduler, Lease]:
    """The scheduler with the fund's jobs (not started)."""
    settings = app.config["LOANFUND"]
    zone = zoneinfo.ZoneInfo(settings["FUND_TIMEZONE"])
    with app.app_context():
        lease = lease or Lease(db.engine, seconds=settings["SCHEDULER_LEASE_SECONDS"])
    scheduler: BaseScheduler = (BackgroundScheduler if background else BlockingScheduler)(
        timezone=zone,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings["SCHEDULER_MISFIRE_GRACE_SECONDS"],
        },
    )
    close_hour, close_minute = clock_time(settings["SCHEDULER_CLOSE_TIME"])
    remind_hour, remind_minute = clock_time(settings["SCHEDULER_REMINDERS_TIME"])
    start = dt.datetime.now(zone)
    scheduler.add_job(
        _as_leader(app, lease, "daily_close", lambda: close_job(app)),
        CronTrigger(hour=close_hour, minute=close_minute, timezone=zone),
        id="daily_close",
        next_run_time=start,  # catch up at once after downtime
    )
    scheduler.add_job(
        _as_leader(app, lease, "reminders", lambda: reminders_job(app)),
        CronTrigger(hour=remind_hour, minute=remind_minute, timezone=zone),
        id="reminders",
        next_run_time=start + dt.timedelta(seconds=30),
    )
    scheduler.add_job(
        _as_leader(app, lease, "outbox", lambda: outbox_job(app)),
        IntervalTrigger(seconds=settings["SCHEDULER_OUTBOX_SECONDS"], timezone=zone),
        id="outbox",
    )
    scheduler.add_job(
        _as_leader(app, lease, "exports_cleanup", lambda: exports_cleanup_job(app)),
        CronTrigger(hour=close_hour, minute=close_minute, timezone=zone),
        id="exports_cleanup",
        next_run_time=start + dt.timedelta(seconds=60),
    )
    scheduler.add_job(
        _as_leader(app, lease, "lease", lambda: None),
        IntervalTrigger(seconds=max(5, settings["SCHEDULER_LEASE_SECONDS"] // 3), timezone=zone),
        id="lease",
    )
    return scheduler, lease
