"""Excel exports in the background: asking for one, writing it, and removing old files.

A page asks with :func:`request_export` (permission, checks, a queued job and an audit row):
the Books page for a ledger, a register or the lending report, a list page for the rows its
filter shows (with the page's scope taken from who asks);
a background thread then calls :func:`run_export`, which writes the workbook with its own
database sessions into the exports folder under a random name, reports the rows written as it
goes, and marks the job done or failed. The workbook is written to a temporary name and renamed
only once complete, so a half-written file is never served. :func:`remove_old_exports`, run
daily, fails jobs whose process died and removes workbooks older than a week.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import traceback
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loanfund.domain.access import SYSTEM, Actor, authorize
from loanfund.domain.errors import Conflict, InvalidTransition
from loanfund.domain.exports import (
    ACTIVE_STATUSES,
    EXPORT_TRANSITIONS,
    KEEP_DAYS,
    ExportKind,
    ExportList,
    ExportStatus,
    ListExport,
    check_export_params,
    download_name,
    export_kind,
    export_permission,
    is_stale,
    list_scope,
    stale_error,
)
from loanfund.domain.ledger import Account
from loanfund.domain.lifecycle import next_status
from loanfund.domain.reporting import ReportPeriod
from loanfund.exports import portfolio as portfolio_export
from loanfund.exports import registers as register_exports
from loanfund.exports.lending_report import write_lending_report
from loanfund.exports.lists import list_sheet, write_list
from loanfund.exports.progress import Progress, Steps
from loanfund.models import ExportJob
from loanfund.models.types import utcnow
from loanfund.queries import ledger as ledger_queries
from loanfund.queries import registers as register_queries
from loanfund.queries.export_jobs import export_row_count
from loanfund.queries.lists import list_filters, list_rows
from loanfund.queries.settings import FundSettings, fund_settings
from loanfund.services.audit import record_event
from loanfund.services.guards import change_status
from loanfund.services.lending_report import lending_report
from loanfund.services.portfolio import portfolio_rows

log = logging.getLogger(__name__)

#: A store key: 32 URL-safe characters from :func:`secrets.token_urlsafe`, nothing else.
_KEY: Final = re.compile(r"[A-Za-z0-9_-]{32}")
_TOKEN_BYTES: Final = 24
_SUFFIX: Final = ".xlsx"
_PART_SUFFIX: Final = ".part"
_FOLDER_MODE: Final = 0o700
#: The longest error text kept on a job.
_ERROR_MAX: Final = 8000


class InvalidExportKey(ValueError):
    """A store key the service did not make; never turned into a path."""


def export_file(folder: Path, key: str) -> Path:
    """Where the workbook stored under ``key`` lives.

    Raises:
        InvalidExportKey: ``key`` is not of the generated form (so it cannot name a path
            outside ``folder``).
    """
    if not _KEY.fullmatch(key):
        raise InvalidExportKey(key)
    return folder / f"{key}{_SUFFIX}"


def request_export(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    params: Mapping[str, str | None],
    locale: str,
    today: dt.date,
    now: dt.datetime | None = None,
) -> ExportJob:
    """Queue an export for ``actor`` (the caller hands the job to a runner).

    The same export asked for again while the first is still queued or being written gives
    back that job instead of a second one (a double click writes one workbook). A job whose
    process died does not count (it is shown as failed): a new one is queued.

    Args:
        kind: the export's code (``portfolio``, ``disbursements``, ``repayments``,
            ``journal``, ``inspections``, ``lending_report``, ``list``).
        params: what the user typed: ``as_of`` (portfolio; empty means ``today``), ``from``
            and ``to`` (registers), as ISO dates, or ``period`` (the lending report); for a
            list, what its page gives (see ``domain.exports.check_export_params``). A list's
            scope (a representative's cooperative, the reader's queue, an inspector's visits)
            is taken from ``actor``, never from ``params``.
        locale: the language the workbook's words are written in.
        today: the fund's business date.
        now: the current time, to tell a dead job from a running one (default: the clock).

    Returns:
        The queued (or still unfinished identical) job.

    Raises:
        RuleViolation: an unknown export, or every problem with the dates.
        NotPermitted: the actor's roles may not read what the export holds (for a list: may
            not see its page).
    """
    export = export_kind(kind)
    authorize(actor, export_permission(export, params))
    _export, stored = check_export_params(export, params, today=today)
    if export is ExportKind.LIST:
        stored.update(list_scope(actor, ExportList(stored["list"])))
    stored["locale"] = locale
    now = now or utcnow()
    unfinished = session.scalars(
        select(ExportJob).where(
            ExportJob.requested_by_id == actor.user_id,
            ExportJob.kind == export,
            ExportJob.status.in_(ACTIVE_STATUSES),
        )
    )
    for job in unfinished:
        if job.params == stored and not is_stale(job.status, job.last_sign_of_life, now):
            return job
    job = ExportJob(
        kind=export, params=stored, requested_by_id=actor.user_id, status=ExportStatus.QUEUED
    )
    session.add(job)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="export.request",
        entity="export_job",
        entity_id=job.id,
        after={"kind": export.value, "status": ExportStatus.QUEUED.value, **stored},
    )
    session.commit()
    return job


def _move(session: Session, job: ExportJob, action: str, values: Mapping[str, Any]) -> None:
    """The job's next status for ``action``, guarded (Conflict if someone moved it first)."""
    seen = ExportStatus(job.status)
    target = next_status(EXPORT_TRANSITIONS, seen, action, label=action)
    change_status(
        session,
        ExportJob,
        job.id,
        seen=seen,
        values={"status": target, **values},
        refused=f"Export {job.id} was no longer {seen.value}.",
    )


def _record(session: Session, job_id: int, action: str, after: Mapping[str, Any]) -> None:
    record_event(
        session,
        actor=SYSTEM,
        action=f"export.{action}",
        entity="export_job",
        entity_id=job_id,
        after=after,
    )


def run_export(
    job_id: int,
    *,
    sessions: Callable[[], Session],
    folder: Path,
    digits: int,
    in_locale: Callable[[str], AbstractContextManager[Any]] = lambda _code: nullcontext(),
) -> ExportStatus | None:
    """Write a queued export's workbook and mark the job done or failed.

    Runs outside any request, with sessions of its own: one to read the books (one long read),
    one to record the job's progress (short commits every few hundred rows). A job that is not
    queued any more (run already, or taken by another thread) is left alone.

    Args:
        job_id: the job.
        sessions: makes a new database session (each on its own connection).
        folder: the exports folder (created ``0o700`` if missing).
        digits: minor-unit digits of the fund currency.
        in_locale: a context in which the words are in the given language.

    Returns:
        How the job ended (``done`` or ``failed``); the status found if it was not queued;
        ``None`` if there is no such job.
    """
    with sessions() as control:
        job = control.get(ExportJob, job_id)
        if job is None:
            log.warning("export %s: no such job", job_id)
            return None
        if job.status is not ExportStatus.QUEUED:
            log.info("export %s is %s already; not run again", job_id, job.status.value)
            return job.status
        started = utcnow()
        try:
            _move(control, job, "start", {"started_at": started, "progress_at": started})
        except (Conflict, InvalidTransition):
            log.info("export %s was taken by another runner", job_id)
            return None
        control.commit()
        kind, params = ExportKind(job.kind), dict(job.params)
        folder.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
        key = secrets.token_urlsafe(_TOKEN_BYTES)
        final = export_file(folder, key)
        part = final.with_name(final.name + _PART_SUFFIX)
        counts = {"total": 0, "done": 0}

        def report(rows_done: int) -> None:
            counts["done"] = rows_done
            control.execute(
                update(ExportJob)
                .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.RUNNING)
                .values(
                    rows_done=rows_done,
                    rows_total=max(counts["total"], rows_done),
                    progress_at=utcnow(),
                )
            )
            control.commit()

        try:
            with sessions() as reader, in_locale(params.get("locale", "")):
                fund = fund_settings(reader, currency_digits=digits)
                counts["total"] = export_row_count(reader, kind, params, policy=fund.policy) + (
                    len(Account) if kind is ExportKind.JOURNAL else 0
                )
                report(0)
                _write(
                    reader,
                    kind,
                    params,
                    target=str(part),
                    fund=fund,
                    digits=digits,
                    progress=report,
                )
            part.replace(final)
        except Exception as error:
            part.unlink(missing_ok=True)
            control.rollback()
            log.exception("export %s (%s) failed", job_id, kind.value)
            _fail(control, job_id, f"{type(error).__name__}: {error}\n\n{traceback.format_exc()}")
            return ExportStatus.FAILED
        try:
            job = control.get(ExportJob, job_id, populate_existing=True)
            assert job is not None
            name = download_name(kind, params)
            _move(
                control,
                job,
                "finish",
                {
                    "rows_done": counts["done"],
                    "rows_total": counts["done"],
                    "store_key": key,
                    "file_name": name,
                    "progress_at": utcnow(),
                    "finished_at": utcnow(),
                },
            )
            _record(control, job_id, "done", {"status": "done", "rows": counts["done"]})
            control.commit()
        except (Conflict, InvalidTransition):
            # Found dead and failed meanwhile: its workbook is not served.
            final.unlink(missing_ok=True)
            return ExportStatus.FAILED
        except BaseException:
            final.unlink(missing_ok=True)
            raise
        return ExportStatus.DONE


def _fail(session: Session, job_id: int, error: str) -> None:
    """Record a running job's failure (unless it was failed already)."""
    job = session.get(ExportJob, job_id, populate_existing=True)
    if job is None or job.status is not ExportStatus.RUNNING:
        return
    try:
        _move(session, job, "fail", {"error": error[:_ERROR_MAX], "finished_at": utcnow()})
    except Conflict:
        return
    _record(session, job_id, "fail", {"status": "failed"})
    session.commit()


def _write(
    session: Session,
    kind: ExportKind,
    params: Mapping[str, str],
    *,
    target: str,
    fund: FundSettings,
    digits: int,
    progress: Progress,
) -> None:
    if kind is ExportKind.LIST:
        export = ListExport.from_params(params)
        write_list(
            target,
            list_sheet(export.name, title=export.title),
            list_rows(session, list_filters(export, policy=fund.policy)),
            fund_name=fund.name,
            description=export.description,
            digits=digits,
            progress=progress,
        )
        return
    if kind is ExportKind.LENDING_REPORT:
        period = ReportPeriod.parse(params["period"])
        as_of = dt.date.fromisoformat(params["as_of"])
        # Its figures, then its sheets, each a step of the progress bar.
        steps = Steps(progress)
        report = lending_report(session, period=period, today=as_of, step=steps.step)
        write_lending_report(target, report, fund_name=fund.name, digits=digits, step=steps.step)
        return
    if kind is ExportKind.PORTFOLIO:
        as_of = dt.date.fromisoformat(params["as_of"])
        portfolio_export.write_portfolio_ledger(
            target,
            portfolio_rows(session, as_of=as_of),
            fund_name=fund.name,
            as_of=as_of,
            digits=digits,
            progress=progress,
        )
        return
    start, end = dt.date.fromisoformat(params["from"]), dt.date.fromisoformat(params["to"])
    period = {"date_from": start, "date_to": end}
    common: dict[str, Any] = {**period, "fund_name": fund.name, "digits": digits}
    if kind is ExportKind.DISBURSEMENTS:
        register_exports.write_disbursement_register(
            target,
            register_queries.disbursement_rows(session, **period),
            **common,
            progress=progress,
        )
    elif kind is ExportKind.REPAYMENTS:
        register_exports.write_repayment_register(
            target, register_queries.repayment_rows(session, **period), **common, progress=progress
        )
    elif kind is ExportKind.INSPECTIONS:
        register_exports.write_inspection_register(
            target, register_queries.inspection_rows(session, **period), **common, progress=progress
        )
    else:
        register_exports.write_journal(
            target,
            register_queries.journal_rows(session, **period),
            ledger_queries.trial_balance(session, **period),
            account_code=fund.policy.account_code,
            **common,
            progress=progress,
        )


def expire_stale_exports(session: Session, *, now: dt.datetime) -> int:
    """Fail every queued or running job that has given no sign of life for half an hour (its
    process died); returns how many. Each may then be asked for again."""
    failed = 0
    jobs = list(session.scalars(select(ExportJob).where(ExportJob.status.in_(ACTIVE_STATUSES))))
    for job in jobs:
        if not is_stale(job.status, job.last_sign_of_life, now):
            continue
        try:
            _move(session, job, "fail", {"error": stale_error(), "finished_at": now})
        except Conflict:
            continue
        _record(session, job.id, "fail", {"status": "failed", "stale": True})
        session.commit()
        failed += 1
    return failed


def remove_old_exports(
    session: Session, *, folder: Path, now: dt.datetime, keep_days: int = KEEP_DAYS
) -> dict[str, int]:
    """The daily clean-up of the exports folder.

    Fails jobs whose process died; removes the workbooks of jobs finished more than
    ``keep_days`` ago (the jobs stay listed, without a download); and removes any other file in
    the folder older than that (what a crash left behind).

    Args:
        folder: the exports folder.
        now: the current time (aware).
        keep_days: how long a workbook is kept.

    Returns:
        Counts: ``stale_failed``, ``files_removed``, ``leftovers_removed``.
    """
    stale = expire_stale_exports(session, now=now)
    cutoff = now - dt.timedelta(days=keep_days)
    removed = 0
    old = session.scalars(
        select(ExportJob).where(ExportJob.store_key.is_not(None), ExportJob.finished_at < cutoff)
    ).all()
    for job in old:
        assert job.store_key is not None
        try:
            export_file(folder, job.store_key).unlink(missing_ok=True)
        except InvalidExportKey:
            log.warning("export %s has an invalid store key; its row is cleared", job.id)
        job.store_key = None
        removed += 1
    session.commit()
    kept = set(session.scalars(select(ExportJob.store_key).where(ExportJob.store_key.is_not(None))))
    leftovers = 0
    if folder.is_dir():
        for path in folder.iterdir():
            if not path.is_file() or path.name.split(".", 1)[0] in kept:
                continue
            modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
            if modified < cutoff:
                path.unlink(missing_ok=True)
                leftovers += 1
    log.info(
        "exports clean-up: %s stale failed, %s removed, %s leftovers", stale, removed, leftovers
    )
    return {"stale_failed": stale, "files_removed": removed, "leftovers_removed": leftovers}
