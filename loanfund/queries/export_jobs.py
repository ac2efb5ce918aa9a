"""Reading export jobs (their page, a person's recent ones) and counting the rows an export
will write, so its progress can be shown as a share of the whole."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from loanfund.domain.exports import LENDING_REPORT_STEPS, ExportKind, ListExport
from loanfund.domain.loans import TrancheStatus
from loanfund.domain.policy import Policy
from loanfund.models import (
    ExportJob,
    Inspection,
    JournalEntry,
    JournalLine,
    Loan,
    Repayment,
    ScheduleVersion,
    Tranche,
)
from loanfund.queries.lists import list_filters, list_row_count

#: What a job's page and the lists show.
_COLUMNS = (
    ExportJob.id,
    ExportJob.kind,
    ExportJob.params,
    ExportJob.requested_by_id,
    ExportJob.status,
    ExportJob.rows_done,
    ExportJob.rows_total,
    ExportJob.file_name,
    ExportJob.store_key,
    ExportJob.error,
    ExportJob.created_at,
    ExportJob.started_at,
    ExportJob.progress_at,
    ExportJob.finished_at,
)


def export_job(session: Session, job_id: int) -> Row[Any] | None:
    """One job as it is in the database now (not as a session may remember it)."""
    return session.execute(select(*_COLUMNS).where(ExportJob.id == job_id)).first()


def recent_exports(session: Session, *, user_id: int | None, limit: int = 10) -> list[Row[Any]]:
    """The jobs a person asked for, newest first."""
    return list(
        session.execute(
            select(*_COLUMNS)
            .where(ExportJob.requested_by_id == user_id)
            .order_by(ExportJob.id.desc())
            .limit(limit)
        )
    )


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def export_row_count(
    session: Session, kind: ExportKind, params: dict[str, str], *, policy: Policy
) -> int:
    """How many rows the export will write (its data rows, not headers or totals).

    The conditions are those of ``services.portfolio.portfolio_rows``, of
    ``queries.registers`` and of the list's page (``queries.lists``, its late decisions by
    ``policy``); the journal's trial balance rows are added by the caller. The lending report
    counts its steps instead. The count only sizes the progress bar: a finished job records the
    rows it really wrote.
    """
    if kind is ExportKind.LENDING_REPORT:
        return LENDING_REPORT_STEPS
    if kind is ExportKind.LIST:
        return list_row_count(session, list_filters(ListExport.from_params(params), policy=policy))
    if kind is ExportKind.PORTFOLIO:
        as_of = dt.date.fromisoformat(params["as_of"])
        return _count(
            session,
            select(Loan.id)
            .join(
                ScheduleVersion,
                (ScheduleVersion.loan_id == Loan.id) & (ScheduleVersion.version == 1),
            )
            .where(ScheduleVersion.effective_from <= as_of),
        )
    date_from, date_to = dt.date.fromisoformat(params["from"]), dt.date.fromisoformat(params["to"])
    if kind is ExportKind.DISBURSEMENTS:
        query = select(Tranche.id).where(
            Tranche.status == TrancheStatus.PAID,
            Tranche.value_date >= date_from,
            Tranche.value_date <= date_to,
        )
    elif kind is ExportKind.REPAYMENTS:
        query = select(Repayment.id).where(
            Repayment.status == "posted",
            Repayment.received_on >= date_from,
            Repayment.received_on <= date_to,
        )
    elif kind is ExportKind.JOURNAL:
        query = (
            select(JournalLine.id)
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(JournalEntry.value_date >= date_from, JournalEntry.value_date <= date_to)
        )
    else:
        query = select(Inspection.id).where(
            Inspection.status == "done",
            Inspection.visited_on >= date_from,
            Inspection.visited_on <= date_to,
        )
    return _count(session, query)
