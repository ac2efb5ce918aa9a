"""Inspections: the list of visits (due, overdue, planned, done) with the borrower's address
and contact, the visit form made for a phone (plain posts, a server-side draft, photos from
the camera), the printable minutes, follow-ups, and recall decisions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from loanfund.config import upload_dir
from loanfund.domain.access import Permission, visit_list_scope
from loanfund.domain.errors import LoanFundError
from loanfund.domain.exports import ExportList
from loanfund.domain.inspections import (
    INSPECTION_TABS,
    FundsUse,
    InspectionKind,
    InspectionStatus,
    Verdict,
    VisitRecord,
    funds_use_label,
    kind_label,
    verdict_label,
)
from loanfund.exports.lists import inspections_sheet
from loanfund.models import InspectionPhoto, Loan, User, db
from loanfund.queries import inspections as queries
from loanfund.queries import lists
from loanfund.services import inspections as service
from loanfund.services.file_store import FileStore
from loanfund.services.notifications import users_with_role
from loanfund.web.authz import current_actor, permission_required
from loanfund.web.clock import fund_today
from loanfund.web.emails import notice_email
from loanfund.web.fields import has_control_characters, parse_locale_decimal, posted_id
from loanfund.web.figures import kept
from loanfund.web.listing import (
    FilterField,
    ListView,
    district_field,
    options,
    read_state,
    request_list_export,
)
from loanfund.web.messages import show_refusal

bp = Blueprint("inspections", __name__, url_prefix="/inspections")

TABS = INSPECTION_TABS


def _store() -> FileStore:
    return FileStore(upload_dir(current_app.config["LOANFUND"]))


def tab_titles() -> dict[str, str]:
    return {
        "due": _("Due in 14 days"),
        "overdue": _("Overdue"),
        "planned": _("All planned"),
        "done": _("Done"),
    }


def _tab() -> str:
    tab = request.args.get("tab", "due")
    return tab if tab in TABS else "due"


def _visits_view(tab: str, inspectors: list[User]) -> ListView:
    """A tab's state and filter bar: the done visits by visit date, the others by due date."""
    done = tab == "done"
    fields = [
        FilterField("kind", _("Kind"), options=options((k, kind_label(k)) for k in InspectionKind))
    ]
    if done:
        fields.append(
            FilterField(
                "verdict", _("Verdict"), options=options((v, verdict_label(v)) for v in Verdict)
            )
        )
    fields += [
        FilterField(
            "inspector",
            _("Inspector"),
            options=options((user.id, user.full_name) for user in inspectors),
        ),
        district_field(),
        FilterField("from", _("Visited from") if done else _("Due from"), kind="date"),
        FilterField("to", _("Visited until") if done else _("Due until"), kind="date"),
    ]
    sorts = {
        "due": _("Due date"),
        "visited": _("Visit date"),
        "borrower": _("Borrower"),
        "loan": _("Loan no."),
        "district": _("District"),
        "kind": _("Kind"),
        "inspector": _("Inspector"),
        "verdict": _("Verdict"),
    }
    return ListView(
        endpoint="inspections.index",
        export_endpoint="inspections.export_visits",
        state=read_state(lists.inspection_listing(tab)),
        fields=fields,
        sorts=sorts,
        fixed={"tab": tab},
        placeholder=_("Cooperative, contract number or tax code (diacritics optional)"),
    )


def _visits_filters(view: ListView, tab: str) -> lists.InspectionFilters:
    """An inspector who does not plan sees their visits and those not yet assigned."""
    return lists.InspectionFilters(
        view.state, tab=tab, today=fund_today(), inspector_id=visit_list_scope(current_actor())
    )


@bp.get("/")
@permission_required(Permission.VIEW_INSPECTIONS)
def index() -> Any:
    """The visits of a tab (due soon, overdue, planned, done), sorted and filtered from the
    URL, with the fund's inspection figures and open follow-ups."""
    tab = _tab()
    inspectors = users_with_role(db.session, "inspector")
    view = _visits_view(tab, inspectors)
    filters = _visits_filters(view, tab)
    return render_template(
        "inspections/index.html",
        tab=tab,
        titles=tab_titles(),
        view=view,
        page=lists.inspection_page(db.session, filters),
        mine=filters.inspector_id is not None,
        figures=kept(
            "inspection figures",
            filters.today,
            compute=lambda: queries.figures(db.session, today=filters.today),
        ),
        follow_ups=queries.open_follow_ups(db.session),
        inspectors=inspectors,
        today=filters.today,
        kind_label=kind_label,
        verdict_label=verdict_label,
    )


@bp.post("/export")
@permission_required(Permission.VIEW_INSPECTIONS)
def export_visits() -> Any:
    """Queue the workbook of every visit of the tab the filter shows (an inspector who does
    not plan: theirs and the unassigned ones)."""
    tab = _tab()
    return request_list_export(
        _visits_view(tab, users_with_role(db.session, "inspector")),
        ExportList.INSPECTIONS,
        title=inspections_sheet(tab_titles()[tab]).title,
        today=fund_today(),
    )


@bp.post("/<int:inspection_id>/assign")
@permission_required(Permission.PLAN_INSPECTIONS)
def assign(inspection_id: int) -> Any:
    raw = request.form.get("inspector_id", "")
    try:
        service.assign_inspection(
            db.session,
            actor=current_actor(),
            inspection_id=inspection_id,
            inspector_id=posted_id(raw),
        )
    except LoanFundError as error:
        show_refusal(error)
    else:
        flash(_("Visit assigned."), "success")
    return redirect(request.referrer or url_for(".index"))


def _parse_visit(fields: dict[str, str]) -> tuple[VisitRecord | None, list[str]]:
    """The typed form as a record, or what cannot be read."""
    problems: list[str] = []

    def day(key: str, label: str) -> dt.date | None:
        text = fields.get(key, "").strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            problems.append(
                _("%(label)s: “%(value)s” is not a date.", label=label, value=text[:20])
            )
            return None

    visited_on = day("visited_on", _("Visit date"))
    if visited_on is None and not problems:
        problems.append(_("Enter the day of the visit."))
    if any(has_control_characters(text) for text in fields.values()):
        problems.append(_("Remove the invisible control characters from what you typed."))
    amount = Decimal(0)
    try:
        amount = parse_locale_decimal(fields.get("amount_verified", "").strip() or "0")
    except (InvalidOperation, ValueError, LoanFundError):
        problems.append(_("The amount verified as used is not a number."))
    progress_text = fields.get("progress_pct", "").strip() or "0"
    progress = posted_id(progress_text)
    progress = -1 if progress is None else progress
    follow_ups = []
    for n in (1, 2, 3):
        action = fields.get(f"fu{n}_action", "").strip()
        owner = fields.get(f"fu{n}_owner", "").strip()
        due = day(f"fu{n}_due", _("Follow-up due date"))
        if action or owner or fields.get(f"fu{n}_due", "").strip():
            if due is None:
                problems.append(_("Give each follow-up action a due date."))
                continue
            follow_ups.append((action, owner, due))
    if problems or visited_on is None:
        return None, problems
    return (
        VisitRecord(
            visited_on=visited_on,
            people_met=fields.get("people_met", ""),
            signatory=fields.get("signatory", ""),
            funds_use=fields.get("funds_use", ""),
            amount_verified=amount,
            progress_pct=progress,
            business_status=fields.get("business_status", ""),
            collateral_condition=fields.get("collateral_condition", ""),
            risks=fields.get("risks", ""),
            verdict=fields.get("verdict", ""),
            follow_ups=tuple(follow_ups),
        ),
        [],
    )


@bp.route("/<int:inspection_id>/visit", methods=["GET", "POST"])
@permission_required(Permission.INSPECT)
def visit(inspection_id: int) -> Any:
    """The visit form: "Save draft" keeps everything typed (and the photos); "Submit the
    minutes" checks and records it. A refusal comes back with everything as typed."""
    actor = current_actor()
    inspection = service.load_inspection(db.session, actor, inspection_id, Permission.INSPECT)
    if inspection.status != InspectionStatus.PLANNED:
        if request.method == "POST":  # sent again (back button, second tap): nothing changes
            flash(_("This visit is already recorded; here are its minutes."), "warning")
        return redirect(url_for(".minutes", inspection_id=inspection.id))
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        fields = {key: request.form.get(key, "") for key in service.DRAFT_FIELDS}
        try:
            service.save_draft(db.session, actor=actor, inspection_id=inspection.id, fields=fields)
            uploads = [
                (upload.filename or "", upload.read())
                for upload in request.files.getlist("photos")
                if upload and upload.filename
            ]
            if uploads:
                service.add_photos(
                    db.session,
                    actor=actor,
                    inspection_id=inspection.id,
                    photos=uploads,
                    store=_store(),
                )
        except LoanFundError as error:
            problems.extend(getattr(error, "problems", [str(error)]))
        if request.form.get("action") == "submit" and not problems:
            record, problems = _parse_visit(fields)
            if record is not None:
                try:
                    service.submit_inspection(
                        db.session,
                        actor=actor,
                        inspection_id=inspection.id,
                        record=record,
                        internal_note=fields.get("internal_note", ""),
                        today=fund_today(),
                        render_email=notice_email,
                    )
                except LoanFundError as error:
                    problems = list(getattr(error, "problems", [str(error)]))
                else:
                    flash(_("The minutes are recorded."), "success")
                    return redirect(url_for(".minutes", inspection_id=inspection.id))
        elif not problems:
            flash(_("Draft saved. You can come back to it at any time."), "success")
            return redirect(url_for(".visit", inspection_id=inspection.id))
        status = 422
        db.session.refresh(inspection)
    loan = db.session.get(Loan, inspection.loan_id)
    draft = dict(inspection.draft or {})
    draft.setdefault("visited_on", fund_today().isoformat())
    return render_template(
        "inspections/visit.html",
        inspection=inspection,
        loan=loan,
        draft=draft,
        problems=problems,
        FundsUse=FundsUse,
        Verdict=Verdict,
        funds_use_label=funds_use_label,
        verdict_label=verdict_label,
        kind_label=kind_label,
    ), status


@bp.post("/photos/<int:photo_id>/remove")
@permission_required(Permission.INSPECT)
def remove_photo(photo_id: int) -> Any:
    photo = db.session.get(InspectionPhoto, photo_id)
    if photo is None:
        abort(404)
    inspection_id = photo.inspection_id
    try:
        service.remove_photo(db.session, actor=current_actor(), photo_id=photo_id)
    except LoanFundError as error:
        show_refusal(error)
    return redirect(url_for(".visit", inspection_id=inspection_id))


def _viewer_permission() -> Permission:
    actor = current_actor()
    return Permission.VIEW_INSPECTIONS if actor.is_staff else Permission.VIEW_LOAN


@bp.get("/<int:inspection_id>")
@permission_required(Permission.VIEW_LOAN)
def minutes(inspection_id: int) -> Any:
    """The printable minutes; a cooperative sees its own loans' (without internal notes)."""
    actor = current_actor()
    inspection = service.load_inspection(db.session, actor, inspection_id, _viewer_permission())
    loan = db.session.get(Loan, inspection.loan_id)
    inspector = db.session.get(User, inspection.inspector_id) if inspection.inspector_id else None
    return render_template(
        "inspections/minutes.html",
        inspection=inspection,
        loan=loan,
        inspector=inspector,
        kind_label=kind_label,
        verdict_label=verdict_label,
        funds_use_label=funds_use_label,
    )


@bp.get("/photos/<int:photo_id>")
@permission_required(Permission.VIEW_LOAN)
def photo(photo_id: int) -> Any:
    """A visit photo (re-encoded, without its metadata), for staff and the cooperative."""
    row = db.session.get(InspectionPhoto, photo_id)
    if row is None:
        abort(404)
    service.load_inspection(db.session, current_actor(), row.inspection_id, _viewer_permission())
    try:
        path = _store().path(row.store_key)
    except (FileNotFoundError, ValueError):
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/follow-ups/<int:follow_up_id>/done")
@permission_required(Permission.VIEW_INSPECTIONS)
def follow_up_done(follow_up_id: int) -> Any:
    note = request.form.get("note", "")
    if has_control_characters(note):
        flash(_("Remove the invisible control characters from what you typed."), "danger")
        return redirect(request.referrer or url_for(".index"))
    try:
        service.complete_follow_up(
            db.session,
            actor=current_actor(),
            follow_up_id=follow_up_id,
            note=note,
            today=fund_today(),
        )
    except LoanFundError as error:
        show_refusal(error)
    else:
        flash(_("Follow-up marked done."), "success")
    return redirect(request.referrer or url_for(".index"))
