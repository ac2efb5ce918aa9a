"""Excel exports made in the background: what can be exported, who may ask for it, the
lifecycle of a request, and the checks on what was asked.

An export is asked for on a page (the Books page's ledgers, registers and report, or a list
page's "Export to Excel"), queued, written by a background thread and then downloaded
by the person who asked (or an administrator). Its rows are counted as they are written, so
the page shows how far it is. A job whose writer stopped giving signs of life (the process
died) is shown as failed and may be asked for again.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from loanfund.domain.access import Actor, Permission, loan_list_scope, visit_list_scope
from loanfund.domain.applications import QUEUES
from loanfund.domain.errors import NotFound, RuleViolation
from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.inspections import INSPECTION_TABS
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
    LIST = "list"  # the rows a list page's filter shows (which list: ``params["list"]``)


class ExportList(enum.StrEnum):
    """A list page whose rows can be exported."""

    COOPERATIVES = "cooperatives"
    APPLICATIONS = "applications"  # the staff queues
    LOANS = "loans"
    RECEIPTS = "receipts"
    INSPECTIONS = "inspections"


#: Exports of a period (``from`` … ``to``); the others are "as of" a date.
PERIOD_KINDS: Final = frozenset(
    {ExportKind.DISBURSEMENTS, ExportKind.REPAYMENTS, ExportKind.JOURNAL, ExportKind.INSPECTIONS}
)

#: What a user must be allowed to do to ask for each export of the books (their readers).
EXPORT_PERMISSIONS: Final[Mapping[ExportKind, Permission]] = {
    kind: Permission.VIEW_BOOKS for kind in ExportKind if kind is not ExportKind.LIST
}
#: What a user must be allowed to do to export a list: what its page asks.
LIST_PERMISSIONS: Final[Mapping[ExportList, Permission]] = {
    ExportList.COOPERATIVES: Permission.LIST_COOPERATIVES,
    ExportList.APPLICATIONS: Permission.LIST_APPLICATIONS,
    ExportList.LOANS: Permission.VIEW_LOAN,
    ExportList.RECEIPTS: Permission.VIEW_LOAN,
    ExportList.INSPECTIONS: Permission.VIEW_INSPECTIONS,
}
#: The tabs of the lists that have them; the others have none.
LIST_TABS: Final[Mapping[ExportList, tuple[str, ...]]] = {
    ExportList.APPLICATIONS: QUEUES,
    ExportList.INSPECTIONS: INSPECTION_TABS,
}
#: The lending report is written in steps, not rows: its figures are read in three (the
#: portfolio, the money that moved month by month, the visits and the cooperatives), then
#: each of its eight sheets is one more.
LENDING_REPORT_STEPS: Final = 3 + 8


def kind_label(kind: ExportKind | str) -> str:
    return {
        ExportKind.PORTFOLIO: _("Portfolio ledger"),
        ExportKind.DISBURSEMENTS: _("Disbursement register"),
        ExportKind.REPAYMENTS: _("Repayment register"),
        ExportKind.JOURNAL: _("Journal and trial balance"),
        ExportKind.INSPECTIONS: _("Inspection register"),
        ExportKind.LENDING_REPORT: _("Lending report"),
        ExportKind.LIST: _("List"),
    }[ExportKind(kind)]


def export_title(kind: ExportKind | str, params: Mapping[str, Any]) -> str:
    """What an export is called on its page: a list's title as its page gave it (``Loan
    applications: Assigned to me``), else the kind's label."""
    if ExportKind(kind) is ExportKind.LIST and params.get("title"):
        return str(params["title"])
    return kind_label(kind)


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


def export_list(name: str) -> ExportList:
    """The list called ``name``, or :class:`RuleViolation` naming what was asked."""
    try:
        return ExportList(name)
    except ValueError:
        raise RuleViolation(
            _("There is no list called “%(name)s”.", name=_echo(str(name)))
        ) from None


def export_permission(kind: ExportKind | str, params: Mapping[str, Any]) -> Permission:
    """What a user must be allowed to do to ask for (and to see) this export.

    Raises:
        RuleViolation: an unknown export, or a list export of an unknown list.
    """
    export = export_kind(kind)
    if export is ExportKind.LIST:
        return LIST_PERMISSIONS[export_list(str(params.get("list") or ""))]
    return EXPORT_PERMISSIONS[export]


def list_query(args: Mapping[str, Any]) -> str:
    """A list's query-string arguments as stored with its export (``dir=asc&q=dan+dien``)."""
    return urlencode(sorted((key, str(value)) for key, value in args.items()))


def list_scope(actor: Actor, name: ExportList) -> dict[str, str]:
    """What limits a list's rows for ``actor``, exactly as its page limits them, stored with
    the export: a representative's cooperative (loans, receipts), the reader for the "assigned
    to me" queue, an inspector who does not plan visits. Taken from who asks, never from what
    the request says.

    Raises:
        NotPermitted: a list of loans or receipts asked for by someone who is neither staff nor
            a cooperative's representative.
    """
    if name in (ExportList.LOANS, ExportList.RECEIPTS):
        return {"cooperative_id": _id_text(loan_list_scope(actor))}
    if name is ExportList.APPLICATIONS:
        return {"user_id": _id_text(actor.user_id)}
    if name is ExportList.INSPECTIONS:
        return {"inspector_id": _id_text(visit_list_scope(actor))}
    return {}


def _id_text(value: int | None) -> str:
    return "" if value is None else str(value)


def _id(text: str | None) -> int | None:
    return int(text) if text else None


@dataclass(frozen=True, slots=True)
class ListExport:
    """A list export as stored: what rebuilds, with no request, the rows the page showed.

    Attributes:
        name: the list.
        args: its query-string arguments (search, filters, sort), as the page read them.
        tab: the queue or the visits' tab (empty for lists without tabs).
        today: the fund's business date when it was asked for.
        title, description: the sheet's title and the line under it (the day and the filter
            in words), written when it was asked for, in the reader's language.
        cooperative_id: a representative's cooperative (loans, receipts); ``None`` for staff.
        user_id: who asked (the "assigned to me" queue).
        inspector_id: an inspector who does not plan visits (theirs and the unassigned ones).
    """

    name: ExportList
    args: dict[str, str]
    tab: str
    today: dt.date
    title: str
    description: str
    cooperative_id: int | None = None
    user_id: int | None = None
    inspector_id: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ListExport:
        return cls(
            name=ExportList(params["list"]),
            args=dict(parse_qsl(params.get("query", ""))),
            tab=params.get("tab", ""),
            today=dt.date.fromisoformat(params["today"]),
            title=params.get("title", ""),
            description=params.get("description", ""),
            cooperative_id=_id(params.get("cooperative_id")),
            user_id=_id(params.get("user_id")),
            inspector_id=_id(params.get("inspector_id")),
        )


def _list_params(given: Mapping[str, str | None], *, today: dt.date) -> dict[str, str]:
    """A list export's parameters as stored (its scope is added from who asks)."""
    name = export_list(given.get("list") or "")
    tab = (given.get("tab") or "").strip()
    if tab not in LIST_TABS.get(name, ("",)):
        raise RuleViolation(
            _("There is no list called “%(name)s”.", name=_echo(f"{name.value}: {tab}"))
        )
    return {
        "list": name.value,
        "tab": tab,
        "query": given.get("query") or "",
        "title": given.get("title") or "",
        "description": given.get("description") or "",
        "today": today.isoformat(),
    }


def check_export_params(
    kind: str, given: Mapping[str, str | None], *, today: dt.date
) -> tuple[ExportKind, dict[str, str]]:
    """The export asked for and its parameters as stored (ISO dates), or every problem.

    Args:
        kind: the export's code (``portfolio``, ``journal``, …).
        given: what the user typed: ``as_of`` for the portfolio ledger (empty: ``today``);
            ``from`` and ``to`` for a register; ``period`` for the lending report. For a list:
            ``list``, its ``tab``, ``query`` (its query-string arguments, see
            :func:`list_query`), its ``title`` and ``description`` in the reader's words.
        today: the fund's business date.

    Raises:
        RuleViolation: with every problem found, in the user's words.
    """
    export = export_kind(kind)
    if export is ExportKind.LIST:
        return export, _list_params(given, today=today)
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
    """The date or period of an export, for lists (``As of 23/11/2026``); a list export's day
    and filter in words."""
    if ExportKind(kind) is ExportKind.LIST:
        return params.get("description", "")
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
    if kind is ExportKind.LIST:
        tab = f"-{params['tab']}" if params.get("tab") else ""
        return f"{params['list']}{tab}-{params['today']}.xlsx"
    if kind is ExportKind.LENDING_REPORT:
        return f"lending-report-{params['period']}.xlsx"
    if kind in PERIOD_KINDS:
        return f"{kind.value}-{params['from']}-{params['to']}.xlsx"
    return f"{kind.value}-{params['as_of']}.xlsx"
