"""Cooperatives: list, profile, registration by staff, verification, representatives."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from loanfund.domain.access import Permission
from loanfund.domain.cooperatives import (
    COOPERATIVE_TRANSITIONS,
    CooperativeStatus,
    LegalType,
    legal_type_label,
)
from loanfund.domain.errors import LoanFundError
from loanfund.domain.exports import ExportList
from loanfund.exports.lists import cooperative_status_label, cooperatives_sheet
from loanfund.models import AuditEvent, User, db
from loanfund.queries import applications as application_queries
from loanfund.queries import cooperatives as queries
from loanfund.queries import lists
from loanfund.queries.admin import cooperative_choices
from loanfund.services import cooperatives as service
from loanfund.services.applications import link_related_borrowers, unlink_related_borrowers
from loanfund.web import emails
from loanfund.web.applications.forms import ConfirmForm
from loanfund.web.authz import current_actor, load_cooperative, permission_required
from loanfund.web.clock import fund_today
from loanfund.web.cooperatives.forms import (
    CooperativeProfileForm,
    InviteRepresentativeForm,
    RelatedBorrowerForm,
    StatusActionForm,
)
from loanfund.web.listing import (
    FilterField,
    ListView,
    district_field,
    options,
    read_state,
    request_list_export,
)
from loanfund.web.messages import flash_form_errors, flash_problems, show_refusal

bp = Blueprint("cooperatives", __name__, url_prefix="/cooperatives")


def _list_view() -> ListView:
    """The cooperatives list's state and filter bar."""
    return ListView(
        endpoint="cooperatives.list_cooperatives",
        export_endpoint="cooperatives.export_cooperatives",
        state=read_state(lists.cooperative_listing()),
        fields=[
            FilterField(
                "status",
                _("Status"),
                options=options((s, cooperative_status_label(s)) for s in CooperativeStatus),
            ),
            FilterField(
                "legal_type",
                _("Legal type"),
                options=options((kind, legal_type_label(kind)) for kind in LegalType),
            ),
            district_field(),
        ],
        sorts={
            "name": _("Name"),
            "tax_code": _("Tax code"),
            "district": _("Province / district"),
            "sector": _("Sector"),
            "members": _("Members"),
            "status": _("Status"),
        },
        placeholder=_("Name, tax code or registration number (diacritics optional)"),
    )


@bp.get("/")
@permission_required(Permission.LIST_COOPERATIVES)
def list_cooperatives() -> Any:
    """The cooperatives, searchable without diacritics, sorted and filtered from the URL."""
    view = _list_view()
    return render_template(
        "cooperatives/list.html",
        view=view,
        page=lists.cooperative_page(db.session, lists.CooperativeFilters(view.state)),
        counts=queries.count_by_status(db.session),
    )


@bp.post("/export")
@permission_required(Permission.LIST_COOPERATIVES)
def export_cooperatives() -> Any:
    """Queue the workbook of every cooperative the list's filter shows."""
    return request_list_export(
        _list_view(), ExportList.COOPERATIVES, title=cooperatives_sheet().title, today=fund_today()
    )


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.CREATE_COOPERATIVE)
def create() -> Any:
    """Staff register a cooperative."""
    form = CooperativeProfileForm()
    if form.validate_on_submit():
        try:
            cooperative = service.create_cooperative(
                db.session, actor=current_actor(), profile=form.to_profile(), today=fund_today()
            )
        except LoanFundError as error:
            flash_problems(error)
        else:
            flash(
                _("The cooperative was registered. Verify it when its papers are checked."),
                "success",
            )
            return redirect(url_for(".detail", cooperative_id=cooperative.id))
    return render_template("cooperatives/form.html", form=form, cooperative=None)


@bp.get("/<int:cooperative_id>")
@permission_required(Permission.VIEW_COOPERATIVE)
def detail(cooperative_id: int) -> Any:
    """A cooperative's profile, status, representatives and history."""
    cooperative = load_cooperative(cooperative_id, Permission.VIEW_COOPERATIVE)
    actor = current_actor()
    representatives = db.session.scalars(
        select(User).where(User.cooperative_id == cooperative.id).order_by(User.full_name)
    ).all()
    history = []
    if actor.is_staff:
        history = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.cooperative_id == cooperative.id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(20)
        ).all()
    actions = [
        action
        for (status, action) in COOPERATIVE_TRANSITIONS
        if status is cooperative.status
        and actor.can(service.ACTION_PERMISSIONS[action][0])
        and (action != "resubmit" or not actor.is_staff)
    ]
    related_form = None
    if actor.can(Permission.APPRAISE):
        related_form = RelatedBorrowerForm(formdata=None)
        related_form.related_id.choices = [
            SelectChoice(cid, name)
            for cid, name in cooperative_choices(db.session)
            if cid != cooperative.id
        ]
    return render_template(
        "cooperatives/detail.html",
        cooperative=cooperative,
        representatives=representatives,
        history=history,
        actions=actions,
        action_label=service.action_label,
        status_form=StatusActionForm(),
        related=application_queries.related_links(db.session, cooperative.id)
        if actor.is_staff
        else [],
        related_form=related_form,
    )


@bp.post("/<int:cooperative_id>/related")
@permission_required(Permission.APPRAISE)
def link_related(cooperative_id: int) -> Any:
    """An officer records that another cooperative is a related borrower."""
    cooperative = load_cooperative(cooperative_id, Permission.VIEW_COOPERATIVE)
    form = RelatedBorrowerForm()
    form.related_id.choices = [
        SelectChoice(cid, name) for cid, name in cooperative_choices(db.session)
    ]
    if form.validate_on_submit():
        try:
            link_related_borrowers(
                db.session,
                actor=current_actor(),
                cooperative_id=cooperative.id,
                related_id=form.related_id.data,
                reason=form.reason.data,
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("Linked: their exposures now count together."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for(".detail", cooperative_id=cooperative.id) + "#related")


@bp.post("/<int:cooperative_id>/related/<int:link_id>/delete")
@permission_required(Permission.APPRAISE)
def unlink_related(cooperative_id: int, link_id: int) -> Any:
    cooperative = load_cooperative(cooperative_id, Permission.VIEW_COOPERATIVE)
    if ConfirmForm().validate_on_submit():
        try:
            unlink_related_borrowers(
                db.session, actor=current_actor(), link_id=link_id, cooperative_id=cooperative.id
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("The link was removed."), "success")
    return redirect(url_for(".detail", cooperative_id=cooperative.id) + "#related")


@bp.route("/<int:cooperative_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.EDIT_COOPERATIVE)
def edit(cooperative_id: int) -> Any:
    """Change a cooperative's profile."""
    cooperative = load_cooperative(cooperative_id, Permission.EDIT_COOPERATIVE)
    form = CooperativeProfileForm(obj=cooperative if request.method == "GET" else None)
    if request.method == "GET":
        form.legal_type.data = cooperative.legal_type.value
    if form.validate_on_submit():
        try:
            service.update_cooperative(
                db.session,
                actor=current_actor(),
                cooperative_id=cooperative.id,
                profile=form.to_profile(),
                today=fund_today(),
            )
        except LoanFundError as error:
            flash_problems(error)
        else:
            flash(_("The profile was saved."), "success")
            return redirect(url_for(".detail", cooperative_id=cooperative.id))
    return render_template("cooperatives/form.html", form=form, cooperative=cooperative)


@bp.post("/<int:cooperative_id>/status")
@permission_required(Permission.VIEW_COOPERATIVE)
def change_status(cooperative_id: int) -> Any:
    """Verify, reject, resubmit, suspend or reinstate."""
    cooperative = load_cooperative(cooperative_id, Permission.VIEW_COOPERATIVE)
    form = StatusActionForm()
    if not form.validate_on_submit() or form.expected_status.data not in set(CooperativeStatus):
        flash(_("The request was incomplete; nothing was changed."), "danger")
        return redirect(url_for(".detail", cooperative_id=cooperative.id))
    action = form.action.data
    try:
        service.change_cooperative_status(
            db.session,
            actor=current_actor(),
            cooperative_id=cooperative.id,
            action=action,
            reason=form.reason.data or "",
            expected_status=CooperativeStatus(form.expected_status.data),
            notice=emails.cooperative_status_notice(action) if action != "resubmit" else None,
        )
    except LoanFundError as error:
        if error.http_status in (403, 404):
            raise
        flash_problems(error)
    else:
        flash(_("Done: %(action)s.", action=service.action_label(action)), "success")
    return redirect(url_for(".detail", cooperative_id=cooperative.id))


@bp.route("/<int:cooperative_id>/representatives/invite", methods=["GET", "POST"])
@permission_required(Permission.INVITE_REPRESENTATIVE)
def invite(cooperative_id: int) -> Any:
    """Invite a representative; they choose their password from the emailed link."""
    cooperative = load_cooperative(cooperative_id, Permission.INVITE_REPRESENTATIVE)
    form = InviteRepresentativeForm()
    if form.validate_on_submit():
        try:
            user = service.invite_representative(
                db.session,
                actor=current_actor(),
                cooperative_id=cooperative.id,
                email=form.email.data,
                full_name=form.full_name.data,
                invitation=emails.invitation(cooperative),
            )
        except LoanFundError as error:
            flash_problems(error)
        else:
            flash(_("An invitation was sent to %(email)s.", email=user.email), "success")
            return redirect(url_for(".detail", cooperative_id=cooperative.id))
    return render_template("cooperatives/invite.html", form=form, cooperative=cooperative)
