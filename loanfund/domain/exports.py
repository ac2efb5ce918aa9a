"""Excel exports made in the background: what can be exported, who may ask for it, the
lifecycle of a request, and the checks on what was asked.

An export is asked for on a page, queued, written by a background thread and then downloaded
by the person who asked (or an administrator). Its rows are counted as they are written, so
the page shows how far it is. A job whose writer stopped giving signs of life (the process
died) is shown as failed and may be asked for again.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Final

from loanfund.domain.access import Actor, Permission
from loanfund.domain.errors import NotFound, RuleViolation
from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.lifecycle import TransitionTable
from loanfund.domain.reporting import ReportPeriod
from loanfund.domain.roles import Role


class ExportKind(enum.StrEnum):
    """A workbook that can be made in the background."""

    PORTFOLIO = "portfolio"  # the portfolio ledger as of a date
    DISBURSEMENTS = "disbursements"  # registers for a period
    REPAYMENTS = "repayments"
    JOURNAL = "journal"
    INSPECTIONS = "inspections"
    LENDING_REPORT = "lending_report"  # the semi-annual / annual report of a period


#: Exports of a period (``from`` … ``to``); the others are "as of" a date.
PERIOD_KINDS: Final = frozenset(
    {ExportKind.DISBURSEMENTS, ExportKind.REPAYMENTS, ExportKind.JOURNAL, ExportKind.INSPECTIONS}
)

#: What a user must be allowed to do to ask for each export (the books' readers).
EXPORT_PERMISSIONS: Final[Mapping[ExportKind, Permission]] = {
    kind: Permission.VIEW_BOOKS for kind in ExportKind
}


def kind_label(kind: ExportKind | str) -> str:
    return {
        ExportKind.PORTFOLIO: _("Portfolio ledger"),
        ExportKind.DISBURSEMENTS: _("Disbursement register"),
        ExportKind.REPAYMENTS: _("Repayment register"),
        ExportKind.JOURNAL: _("Journal and trial balance"),
        ExportKind.INSPECTIONS: _("Inspection register"),
        ExportKind.LENDING_REPORT: _("Lending report"),
    }[ExportKind(kind)]


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


_S = ExportStatus

EXPORT_TRANSITIONS: TransitionTable[ExportStatus] = {
    (_S.QUEUED, "start"): _S.RUNNING,
    (_S.RUNNING, "finish"): _S.DONE,
    (_S.RUNNING, "fail"): _S.FAILED,
    # A queued job whose process died never starts: it is failed when found stale.
    (_S.QUEUED, "fail"): _S.FAILED,
}

#: Statuses of a job that is still to finish.
ACTIVE_STATUSES: Final = frozenset({_S.QUEUED, _S.RUNNING})


def status_label(status: ExportStatus | str) -> str:
    return {
        _S.QUEUED: _("Waiting to start"),
        _S.RUNNING: _("Being written"),
        _S.DONE: _("Ready"),
        _S.FAILED: _("Failed"),
    }[ExportStatus(status)]


#: A job with no sign of life for this long is taken to have died with its process.
STALE_AFTER: Final = dt.timedelta(minutes=30)
#: How long a finished workbook is kept (``EXPORT_KEEP_DAYS`` overrides it).
KEEP_DAYS: Final = 7
#: The longest piece of what the user typed that a message repeats.
_ECHO_MAX: Final = 40


def is_stale(status: ExportStatus, last_sign_of_life: dt.datetime, now: dt.datetime) -> bool:
    """True when a queued or running job has given no sign of life for :data:`STALE_AFTER`.

    Args:
        status: the stored status.
        last_sign_of_life: the last progress report, else the start, else the request.
        now: the current time (aware).
    """
    return status in ACTIVE_STATUSES and now - last_sign_of_life > STALE_AFTER


def shown_status(
    status: ExportStatus, last_sign_of_life: dt.datetime, now: dt.datetime
) -> ExportStatus:
    """The status to show: a stale queued or running job is shown as failed."""
    return _S.FAILED if is_stale(status, last_sign_of_life, now) else ExportStatus(status)


def stale_error() -> str:
    """What a job found stale records as its error."""
    return _(
        "The export stopped without finishing (the server was probably restarted). "
        "Ask for it again."
    )


def percent_done(status: ExportStatus, rows_done: int, rows_total: int) -> int:
    """How far the job is, 0–100: 100 once done; rows written over rows to write otherwise."""
    if status is _S.DONE:
        return 100
    if rows_total <= 0:
        return 0
    return min(100, rows_done * 100 // rows_total)


def may_see_export(actor: Actor, requested_by_id: int | None) -> bool:
    """An export is seen only by the person who asked for it and by administrators."""
    return (actor.user_id is not None and actor.user_id == requested_by_id) or (
        Role.ADMIN in actor.roles
    )


def authorize_export(actor: Actor, requested_by_id: int | None) -> None:
    """Raise :class:`NotFound` unless the actor may see this export (others are not told it
    exists)."""
    if not may_see_export(actor, requested_by_id):
        raise NotFound(_("No such page."))


def _echo(text: str) -> str:
    return text if len(text) <= _ECHO_MAX else text[: _ECHO_MAX - 1] + "…"


def _read_date(text: str | None, *, missing: str, malformed: str) -> tuple[dt.date | None, str]:
    text = (text or "").strip()
    if not text:
        return None, missing
    try:
        return dt.date.fromisoformat(text), ""
    except ValueError:
        return None, malformed % {"text": _echo(text)}


def export_kind(kind: str) -> ExportKind:
    """The export called ``kind``, or :class:`RuleViolation` naming what was asked."""
    try:
        return ExportKind(kind)
    except ValueError:
        raise RuleViolation(
            _("There is no export called “%(kind)s”.", kind=_echo(str(kind)))
        ) from None


def check_export_params(
    kind: str, given: Mapping[str, str | None], *, today: dt.date
) -> tuple[ExportKind, dict[str, str]]:
    """The export asked for and its parameters as stored (ISO dates), or every problem.

    Args:
        kind: the export's code (``portfolio``, ``journal``, …).
        given: what the user typed: ``as_of`` for the portfolio ledger (empty: ``today``);
            ``from`` and ``to`` for a register.
        today: the fund's business date.

    Raises:
        RuleViolation: with every problem found, in the user's words.
    """
    export = export_kind(kind)
    if export is ExportKind.LENDING_REPORT:
        period = ReportPeriod.parse(given.get("period") or "")
        # Drawn up as of the period's end, or today while it runs (a period not started yet
        # is refused).
        return export, {"period": period.code, "as_of": period.as_of(today).isoformat()}
    if export is ExportKind.PORTFOLIO:
        text = (given.get("as_of") or "").strip()
        as_of: dt.date | None = today
        if text:
            as_of, problem = _read_date(
                text,
                missing="",
                malformed=_("The ledger date must be a date like 2026-11-23, not “%(text)s”."),
            )
            if problem:
                raise RuleViolation(problem)
        assert as_of is not None
        if as_of > today:
            raise RuleViolation(
                _(
                    "The ledger can be made as of today (%(today)s) at the latest, "
                    "not as of %(date)s.",
                    today=fmt_date(today),
                    date=fmt_date(as_of),
                )
            )
        return export, {"as_of": as_of.isoformat()}
    problems: list[str] = []
    start, problem = _read_date(
        given.get("from"),
        missing=_("Give the first day of the period."),
        malformed=_("The first day of the period must be a date like 2026-11-01, not “%(text)s”."),
    )
    if problem:
        problems.append(problem)
    end, problem = _read_date(
        given.get("to"),
        missing=_("Give the last day of the period."),
        malformed=_("The last day of the period must be a date like 2026-11-30, not “%(text)s”."),
    )
    if problem:
        problems.append(problem)
    if start is not None and end is not None and start > end:
        problems.append(
            _(
                "The period starts on %(start)s, after it ends on %(end)s.",
                start=fmt_date(start),
                end=fmt_date(end),
            )
        )
    if problems or start is None or end is None:
        raise RuleViolation(problems)
    return export, {"from": start.isoformat(), "to": end.isoformat()}


def describe_params(kind: ExportKind, params: Mapping[str, str]) -> str:
    """The date or period of an export, for lists (``As of 23/11/2026``)."""
    if ExportKind(kind) is ExportKind.LENDING_REPORT:
        return ReportPeriod.parse(params["period"]).label
    if ExportKind(kind) in PERIOD_KINDS:
        return _(
            "From %(start)s to %(end)s",
            start=fmt_date(dt.date.fromisoformat(params["from"])),
            end=fmt_date(dt.date.fromisoformat(params["to"])),
        )
    return _("As of %(date)s", date=fmt_date(dt.date.fromisoformat(params["as_of"])))


def download_name(kind: ExportKind, params: Mapping[str, str]) -> str:
    """The file name a finished export is downloaded as (``journal-2026-11-01-2026-11-30.xlsx``)."""
    kind = ExportKind(kind)
    if kind is ExportKind.LENDING_REPORT:
        return f"lending-report-{params['period']}.xlsx"
    if kind in PERIOD_KINDS:
        return f"{kind.value}-{params['from']}-{params['to']}.xlsx"
    return f"{kind.value}-{params['as_of']}.xlsx"
