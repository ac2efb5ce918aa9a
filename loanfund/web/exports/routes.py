"""Excel exports made in the background: the request queues one and returns at once; its page
shows a progress bar (refreshed by ``static/js/export_progress.js``, or by the refresh link)
and the download once it is ready. Only the person who asked, or an administrator, sees it.

The Books page posts its ledgers, registers and report here; the list pages post to their own
export views, which queue through :func:`queue_export` too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from flask import Blueprint, current_app, jsonify, redirect, render_template, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_security import auth_required
from sqlalchemy import Row

from loanfund.config import export_dir
from loanfund.domain.access import authorize
from loanfund.domain.errors import LoanFundError, NotFound
from loanfund.domain.exports import (
    ExportKind,
    ExportList,
    ExportStatus,
    ListExport,
    authorize_export,
    describe_params,
    export_permission,
    export_title,
    percent_done,
    shown_status,
    stale_error,
    status_label,
)
from loanfund.domain.roles import Role
from loanfund.models import db
from loanfund.queries import export_jobs as queries
from loanfund.services import exports as service
from loanfund.web.authz import current_actor
from loanfund.web.clock import fund_now, fund_today
from loanfund.web.exports.forms import RequestExportForm
from loanfund.web.exports.runner import export_runner
from loanfund.web.formatting import number
from loanfund.web.messages import flash_form_errors, show_refusal

bp = Blueprint("exports", __name__, url_prefix="/exports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: How many of a person's exports their lists show.
RECENT = 8
#: The page each list export was asked for on (where to ask for it again).
LIST_PAGES: Final[Mapping[ExportList, str]] = {
    ExportList.COOPERATIVES: "cooperatives.list_cooperatives",
    ExportList.APPLICATIONS: "applications.queue",
    ExportList.LOANS: "loans.index",
    ExportList.RECEIPTS: "loans.repayments_list",
    ExportList.INSPECTIONS: "inspections.index",
}


def _back(form: RequestExportForm) -> str:
    """The books page, with what was typed kept in the export forms."""
    return url_for(
        "books.index",
        export_as_of=form.as_of.data or None,
        export_from=form.date_from.data or None,
        export_to=form.date_to.data or None,
        _anchor="exports",
    )


def queue_export(kind: str, params: Mapping[str, str | None], *, today: dt.date, back: str) -> Any:
    """Queue an export for the signed-in user, in their language, hand it to the runner and
    show its progress page; on a refusal, say why and go ``back`` (a 403 or 404 stays one)."""
    try:
        job = service.request_export(
            db.session,
            actor=current_actor(),
            kind=kind,
            params=params,
            locale=str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
            today=today,
            now=fund_now(),
        )
    except LoanFundError as error:
        show_refusal(error)
        return redirect(back)
    job_id = job.id
    export_runner(current_app._get_current_object()).submit(job_id)  # type: ignore[attr-defined]
    return redirect(url_for("exports.status", job_id=job_id))


@bp.post("/")
@auth_required("session")
def request_export() -> Any:
    """Queue an export of the books and show its progress page."""
    form = RequestExportForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(_back(form))
    return queue_export(
        form.kind.data or "",
        {
            "as_of": form.as_of.data,
            "from": form.date_from.data,
            "to": form.date_to.data,
            "period": form.period.data,
        },
        today=fund_today(),
        back=_back(form),
    )


def _load(job_id: int) -> Row[Any]:
    """The job if the signed-in user may see it (theirs, or any for an administrator) and may
    still read what it holds; 404 otherwise."""
    job = queries.export_job(db.session, job_id)
    if job is None:
        raise NotFound(_("No such export."))
    actor = current_actor()
    authorize_export(actor, job.requested_by_id)
    authorize(actor, export_permission(job.kind, job.params))
    return job


def _again(kind: ExportKind, params: Mapping[str, str]) -> tuple[str, str]:
    """Where the export can be asked for again, and that page's name: a list's page with the
    same filter, or the Books page."""
    if kind is ExportKind.LIST:
        export = ListExport.from_params(params)
        tab = {"tab": export.tab} if export.tab else {}
        return url_for(LIST_PAGES[export.name], **tab, **export.args), export.title
    return url_for("books.index", _anchor="exports"), _("Books")


def _view(job: Row[Any]) -> dict[str, Any]:
    """What the page and its JSON show of a job."""
    status = shown_status(
        job.status, job.progress_at or job.started_at or job.created_at, fund_now()
    )
    has_file = status is ExportStatus.DONE and job.store_key is not None
    again_url, again_label = _again(ExportKind(job.kind), job.params)
    return {
        "id": job.id,
        "kind": job.kind,
        "kind_label": export_title(job.kind, job.params),
        "is_list": ExportKind(job.kind) is ExportKind.LIST,
        "again_url": again_url,
        "again_label": again_label,
        "period": describe_params(job.kind, job.params),
        "status": status,
        "status_label": status_label(status),
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": percent_done(status, job.rows_done, job.rows_total),
        "finished": status in (ExportStatus.DONE, ExportStatus.FAILED),
        "has_file": has_file,
        "file_name": job.file_name,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        # A job found dead is failed in the database only by the daily clean-up.
        "error": (job.error or stale_error()) if status is ExportStatus.FAILED else "",
        "rows_text": _rows_text(job.rows_done, job.rows_total),
    }


@bp.get("/")
@auth_required("session")
def index() -> Any:
    """The exports the signed-in user asked for lately."""
    actor = current_actor()
    recent = queries.recent_exports(db.session, user_id=actor.user_id, limit=RECENT * 3)
    return render_template("exports/index.html", recent=[_view(job) for job in recent])


@bp.get("/<int:job_id>")
@auth_required("session")
def status(job_id: int) -> Any:
    """An export's progress, its download once ready, and the user's recent exports."""
    job = _view(_load(job_id))
    actor = current_actor()
    recent = queries.recent_exports(db.session, user_id=actor.user_id, limit=RECENT)
    return render_template(
        "exports/status.html",
        job=job,
        recent=[_view(row) for row in recent],
        is_admin=Role.ADMIN in actor.roles,
        keep_days=current_app.config["LOANFUND"]["EXPORT_KEEP_DAYS"],
    )


@bp.get("/<int:job_id>/status.json")
@auth_required("session")
def status_json(job_id: int) -> Any:
    """How far an export is, for the progress bar's script."""
    job = _view(_load(job_id))
    response = jsonify(
        id=job["id"],
        status=job["status"].value,
        status_label=job["status_label"],
        rows_done=job["rows_done"],
        rows_total=job["rows_total"],
        percent=job["percent"],
        finished=job["finished"],
        rows_text=job["rows_text"],
        download_url=url_for(".download", job_id=job_id) if job["has_file"] else None,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _rows_text(rows_done: int, rows_total: int) -> str:
    if rows_total:
        return _("%(done)s of %(total)s rows", done=number(rows_done), total=number(rows_total))
    return _("%(done)s rows", done=number(rows_done))


@bp.get("/<int:job_id>/download")
@auth_required("session")
def download(job_id: int) -> Any:
    """The finished workbook, for the person who asked for it or an administrator."""
    job = _load(job_id)
    view = _view(job)
    if not view["has_file"]:
        raise NotFound(_("This export has no workbook to download."))
    try:
        path = service.export_file(export_dir(current_app.config["LOANFUND"]), job.store_key)
    except service.InvalidExportKey:
        raise NotFound(_("This export has no workbook to download.")) from None
    if not path.is_file():
        raise NotFound(_("This export has no workbook to download."))
    return send_file(
        path, mimetype=XLSX, as_attachment=True, download_name=job.file_name, max_age=0
    )
