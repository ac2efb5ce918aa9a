"""Runs of the scheduled jobs, recorded for the job history page."""

from __future__ import annotations

import datetime as dt
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanfund.models import JobRun
from loanfund.models.types import utcnow


def run_recorded(
    session: Session,
    *,
    job: str,
    business_date: dt.date | None,
    trigger: str,
    work: Callable[[], dict[str, Any] | list[Any]],
) -> JobRun:
    """Record a run of ``job``, do ``work`` and record how it ended (its counts, or the error
    with its traceback: a failed run is visible to administrators, never silent). The error
    is raised again after it is recorded."""
    run = JobRun(job=job, business_date=business_date, trigger=trigger, status="running")
    session.add(run)
    session.commit()
    run_id = run.id
    try:
        counts = work()
    except Exception as error:
        session.rollback()
        failed = session.get(JobRun, run_id)
        assert failed is not None
        failed.status = "failed"
        failed.finished_at = utcnow()
        failed.error = f"{error}\n\n{traceback.format_exc()}"[:20_000]
        session.commit()
        raise
    done = session.get(JobRun, run_id)
    assert done is not None
    done.status = "ok"
    done.finished_at = utcnow()
    done.counts = counts if isinstance(counts, dict) else {"days": counts}
    session.commit()
    return done


def recent_runs(session: Session, *, limit: int = 200) -> list[JobRun]:
    return list(session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(limit)))
