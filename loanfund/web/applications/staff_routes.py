"""The fund's side of applications: work queues, the staff panel of the application page,
the appraisal, the decision and the decision letter.

Every view that acts on one application loads it first with the permission it needs, so a
representative of another cooperative gets 404 and one of its own cooperative 403.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from num2words import num2words
from sqlalchemy import select

from loanfund.domain.access import Actor, Permission
from loanfund.domain.applications import QUEUES, ApplicationStatus, status_label
from loanfund.domain.appraisal_checklist import AppraisalArea, area_label, result_label
from loanfund.domain.errors import (
    Conflict,
    InvalidTransition,
    LoanFundError,
    NotPermitted,
    RuleViolation,
)
from loanfund.domain.exports import ExportList
from loanfund.domain.products import installments_for, purpose_label
from loanfund.domain.roles import Role
from loanfund.domain.schedule import ScheduleTerms
from loanfund.domain.schedule_text import option_label, term_titles
from loanfund.exports.lists import applications_sheet
from loanfund.models import ApplicationDecision, Appraisal, LoanApplication, User, db
from loanfund.queries import applications as queries
from loanfund.queries import lists
from loanfund.services import applications as service
from loanfund.services import appraisals
from loanfund.services.notifications import users_with_role
from loanfund.web import emails
from loanfund.web.applications.forms import ConfirmForm
from loanfund.web.applications.labels import history_label
from loanfund.web.applications.routes import bp
from loanfund.web.applications.staff_forms import (
    AppraisalForm,
    AssignForm,
    DecideForm,
    NoteForm,
    RequestInfoForm,
    credit_bureau_label,
    factor_label,
    recommendation_label,
    verdict_label,
)
from loanfund.web.authz import current_actor, permission_required
from loanfund.web.clock import fund_today
from loanfund.web.formatting import money
from loanfund.web.fund import current_fund
from loanfund.web.listing import (
    FilterField,
    ListView,
    district_field,
    options,
    product_field,
    read_state,
    request_list_export,
)
from loanfund.web.messages import flash_form_errors, flash_problems, show_refusal

_S = ApplicationStatus


# --- helpers ----------------------------------------------------------------------------------


def _load(application_id: int, permission: Permission) -> LoanApplication:
    """The application if the signed-in user may act on it (404 other cooperative, 403 role)."""
    return service.load_application(db.session, current_actor(), application_id, permission)


def _detail_url(application_id: int) -> str:
    return url_for("applications.detail", application_id=application_id)


def _appraisal_url(application_id: int) -> str:
    return url_for("applications.appraise", application_id=application_id)


def _names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """Full names of these users, by id."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.full_name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def frozen_figures(appraisal: Appraisal | None) -> dict[str, Any] | None:
    """The evaluation frozen when the appraisal was completed, with exact numbers again."""
    if appraisal is None or not appraisal.analysis:
        return None
    data = appraisal.analysis
    figures: dict[str, Any] = {
        key: _decimal(data.get(key))
        for key in (
            "amount",
            "npv",
            "irr_pct",
            "payback_years",
            "dscr_min",
            "dscr_avg",
            "equity_ratio_pct",
            "score",
        )
    }
    figures.update(
        term_months=data.get("term_months"),
        grade=data.get("grade"),
        factors=[
            {
                "factor": factor,
                "points": Decimal(points),
                "weight": Decimal(weight),
                "reason": reason,
            }
            for factor, points, weight, reason in data.get("factors", [])
        ],
        explanation=list(data.get("explanation", [])),
        eligibility=list(data.get("eligibility", [])),
        completed_at=appraisal.completed_at,
    )
    # The sentences are rebuilt from the recorded inputs, in the reader's language; the record's
    # own text (in the appraiser's language) stays the fallback if the figures ever differed.
    replayed = appraisals.replay(appraisal)
    if replayed is not None and replayed.analysis.npv == figures["npv"]:
        figures["explanation"] = replayed.explanation
        if replayed.scorecard is not None and str(replayed.scorecard.total) == data.get("score"):
            figures["factors"] = [
                {
                    "factor": factor.factor.value,
                    "points": factor.points,
                    "weight": factor.weight,
                    "reason": factor.reason,
                }
                for factor in replayed.scorecard.factors
            ]
    return figures


#: What the engine assumes for a schedule term an application leaves out.
_ENGINE_DEFAULTS: dict[str, Any] = {
    field.name: field.default
    for field in dataclasses.fields(ScheduleTerms)
    if field.name in ("method", "frequency")
}


def schedule_words(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The schedule terms a reader needs, as ``(title, value in words)``: the method and the
    frequency, and the others only where they differ from a plain schedule."""
    plain = {
        "every": 1,
        "principal_every": 1,
        "principal_grace": 0,
        "interest_deferred": 0,
        "interest_free": 0,
    }
    titles = term_titles()
    options = {**_ENGINE_DEFAULTS, **options}
    shown = []
    for name in ("method", "frequency", *plain, "installment_multiple"):
        value = options.get(name)
        if value is None or value == "" or (name in plain and int(value) == plain[name]):
            continue
        if name == "installment_multiple":
            shown.append((titles[name], money(Decimal(str(value)))))
        else:
            shown.append((titles[name], option_label(name, value)))
    return shown


def amount_in_words(amount: Decimal) -> str:
    """A whole amount in words, in Vietnamese or English ("Ba trăm triệu đồng")."""
    locale = get_locale()
    language = "vi" if locale is not None and locale.language == "vi" else "en"
    words = num2words(int(amount), lang=language)
    words = words[:1].upper() + words[1:]
    currency = current_app.config["LOANFUND"]["FUND_CURRENCY"]
    if currency == "VND":
        return _("%(words)s Vietnamese dong", words=words)
    return f"{words} {currency}"


def _approvals(
    application: LoanApplication, appraisal: Appraisal | None, decisions: list[ApplicationDecision]
) -> tuple[list[ApplicationDecision], int]:
    """This round's approvals, and how many it needs (two above the credit-council amount)."""
    given = [
        decision
        for decision in decisions
        if decision.round == application.decision_round and decision.verdict == "approve"
    ]
    amount = given[0].amount if given and given[0].amount is not None else None
    if amount is None:
        amount = appraisals.recommended_terms(application, appraisal).amount
    needed = appraisals.approvals_needed(amount, current_fund().policy.credit_council_amount)
    return given, needed


def _officer_choices() -> list[tuple[int, str]]:
    return [
        (user.id, f"{user.full_name} ({user.email})")
        for user in users_with_role(db.session, Role.OFFICER.value)
    ]


def _staff_panel(
    application: LoanApplication,
    appraisal: Appraisal | None,
    decisions: list[ApplicationDecision],
) -> dict[str, Any]:
    """What the staff panel of the application page shows besides the detail view's data."""
    assign_form = AssignForm(formdata=None)
    assign_form.officer_id.choices = _officer_choices()
    assign_form.officer_id.data = application.officer_id
    given, needed = _approvals(application, appraisal, decisions)
    return {
        "assign_form": assign_form,
        "request_form": RequestInfoForm(formdata=None),
        "note_form": NoteForm(formdata=None),
        "names": _names(
            [
                application.officer_id,
                application.appraiser_id,
                *(decision.approver_id for decision in decisions),
            ]
        ),
        "figures": frozen_figures(appraisal),
        "judged": len(appraisal.findings) if appraisal else 0,
        "areas": len(AppraisalArea),
        "approvals_given": len(given),
        "approvals_needed": needed,
        "recommendation_label": recommendation_label,
        "verdict_label": verdict_label,
        "history_label": history_label,
    }


@bp.context_processor
def _staff_helpers() -> dict[str, Any]:
    """``staff_panel(application, appraisal, decisions)`` for ``_staff_panel.html``."""
    return {"staff_panel": _staff_panel}


# --- queues -----------------------------------------------------------------------------------


def _default_queue(actor: Actor) -> str:
    if actor.can(Permission.APPRAISE):
        return "new"
    if actor.can(Permission.DECIDE_APPLICATION):
        return "decide"
    return "all"


def queue_titles() -> dict[str, str]:
    return {
        "new": _("New"),
        "mine": _("Assigned to me"),
        "waiting": _("Waiting on the applicant"),
        "decide": _("To decide"),
        "overdue": _("Overdue"),
        "all": _("All open"),
    }


def _queue_view(tab: str) -> ListView:
    """A queue's state and filter bar."""
    return ListView(
        endpoint="applications.queue",
        export_endpoint="applications.export_queue",
        state=read_state(lists.application_listing()),
        fields=[
            FilterField(
                "status",
                _("Status"),
                options=options(
                    (status, status_label(status)) for status in _S if status is not _S.DRAFT
                ),
            ),
            product_field(),
            district_field(),
            FilterField("from", _("Submitted from"), kind="date"),
            FilterField("to", _("Submitted until"), kind="date"),
        ],
        sorts={
            "submitted": _("Submitted"),
            "number": _("Number"),
            "cooperative": _("Cooperative"),
            "product": _("Product"),
            "amount": _("Amount"),
            "status": _("Status"),
            "officer": _("Officer"),
        },
        fixed={"tab": tab},
        placeholder=_("Cooperative, application number or tax code (diacritics optional)"),
    )


def _queue_filters(view: ListView, tab: str) -> lists.ApplicationFilters:
    return lists.ApplicationFilters(
        view.state,
        tab=tab,
        user_id=current_actor().user_id,
        today=fund_today(),
        policy=current_fund().policy,
    )


def _queue_name() -> str:
    """The queue asked for (the role's first queue when none; 404 for an unknown one)."""
    name = request.args.get("tab") or _default_queue(current_actor())
    if name not in QUEUES:
        abort(404)
    return name


@bp.get("/queue")
@permission_required(Permission.LIST_APPLICATIONS)
def queue() -> Any:
    """The staff work queues, with counts, sorted and filtered from the URL; late decisions
    in red."""
    actor = current_actor()
    name = _queue_name()
    view = _queue_view(name)
    filters = _queue_filters(view, name)
    return render_template(
        "applications/queue.html",
        tab=name,
        titles=queue_titles(),
        counts=lists.queue_counts(
            db.session, user_id=actor.user_id, today=filters.today, policy=filters.policy
        ),
        view=view,
        page=lists.application_page(db.session, filters),
        status_label=status_label,
    )


@bp.post("/queue/export")
@permission_required(Permission.LIST_APPLICATIONS)
def export_queue() -> Any:
    """Queue the workbook of every application of the queue the filter shows ("assigned to
    me": the reader's)."""
    name = _queue_name()
    return request_list_export(
        _queue_view(name),
        ExportList.APPLICATIONS,
        title=applications_sheet(queue_titles()[name]).title,
        today=fund_today(),
    )


# --- actions on the application page ----------------------------------------------------------


@bp.post("/<int:application_id>/start")
@permission_required(Permission.VIEW_APPLICATION)
def start_appraisal(application_id: int) -> Any:
    """An officer takes a submitted application and starts appraising it."""
    application = _load(application_id, Permission.APPRAISE)
    if ConfirmForm().validate_on_submit():
        try:
            service.start_appraisal(
                db.session, actor=current_actor(), application_id=application.id
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(
                _("You are appraising application %(number)s.", number=application.number),
                "success",
            )
            return redirect(_appraisal_url(application_id))
    return redirect(_detail_url(application_id))


@bp.post("/<int:application_id>/assign")
@permission_required(Permission.VIEW_APPLICATION)
def assign_officer(application_id: int) -> Any:
    """Make an officer responsible for the application."""
    application = _load(application_id, Permission.APPRAISE)
    form = AssignForm()
    form.officer_id.choices = _officer_choices()
    if form.validate_on_submit():
        try:
            service.assign_officer(
                db.session,
                actor=current_actor(),
                application_id=application.id,
                officer_id=form.officer_id.data,
                render_email=emails.notice_email,
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("The officer was assigned and told."), "success")
    else:
        flash(_("Choose an active credit officer."), "danger")
    return redirect(_detail_url(application_id))


@bp.post("/<int:application_id>/request-info")
@permission_required(Permission.VIEW_APPLICATION)
def request_information(application_id: int) -> Any:
    """Ask the applicant for information or documents (the decision clock stops)."""
    application = _load(application_id, Permission.APPRAISE)
    form = RequestInfoForm()
    if form.validate_on_submit():
        try:
            service.request_information(
                db.session,
                actor=current_actor(),
                application_id=application.id,
                body=form.body.data,
                render_email=emails.notice_email,
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(
                _("The applicant was asked; the decision clock stops until they answer."), "success"
            )
    else:
        flash_form_errors(form)
    return redirect(_detail_url(application_id))


@bp.post("/<int:application_id>/note")
@permission_required(Permission.VIEW_APPLICATION)
def add_note(application_id: int) -> Any:
    """A note for the fund's staff only."""
    application = _load(application_id, Permission.LIST_APPLICATIONS)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            service.add_internal_note(
                db.session,
                actor=current_actor(),
                application_id=application.id,
                body=form.body.data,
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("The note was added (staff only)."), "success")
    else:
        flash_form_errors(form)
    return redirect(_detail_url(application_id))


# --- the appraisal ----------------------------------------------------------------------------


@bp.route("/<int:application_id>/appraisal", methods=["GET", "POST"])
@permission_required(Permission.VIEW_APPLICATION)
def appraise(application_id: int) -> Any:
    """The officer's appraisal with the figures it gives; read-only once completed."""
    actor = current_actor()
    permission = Permission.APPRAISE if request.method == "POST" else Permission.LIST_APPLICATIONS
    application = _load(application_id, permission)
    today = fund_today()
    collateral = list(application.collateral)
    form = AppraisalForm()
    if request.method == "GET":
        appraisal = queries.appraisal_of(db.session, application.id)
        form.fill(appraisal, collateral, appraisals.recommended_terms(application, appraisal))
    elif form.validate_on_submit():
        try:
            appraisals.save_appraisal(
                db.session,
                actor=actor,
                application_id=application.id,
                data=form.appraisal_input(collateral),
                today=today,
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("The appraisal was saved; the figures below are up to date."), "success")
            return redirect(_appraisal_url(application.id))
    while len(form.collateral_values) < len(collateral):
        form.collateral_values.append_entry()
    appraisal = queries.appraisal_of(db.session, application.id)
    editable = application.status is _S.IN_APPRAISAL and actor.can(Permission.APPRAISE)
    frozen = None if editable else frozen_figures(appraisal)
    evaluation = None
    if frozen is None and appraisal is not None:
        evaluation = appraisals.evaluate(db.session, application, appraisal, today=today)
    return render_template(
        "applications/appraisal.html",
        application=application,
        cooperative=application.cooperative,
        product=application.product,
        appraisal=appraisal,
        findings={finding.area: finding for finding in appraisal.findings} if appraisal else {},
        form=form,
        collateral=collateral,
        editable=editable,
        frozen=frozen,
        evaluation=evaluation,
        names=_names([application.officer_id, application.appraiser_id]),
        areas=list(AppraisalArea),
        confirm_form=ConfirmForm(formdata=None),
        Status=_S,
        status_label=status_label,
        area_label=area_label,
        result_label=result_label,
        credit_bureau_label=credit_bureau_label,
        recommendation_label=recommendation_label,
        factor_label=factor_label,
        schedule_words=schedule_words,
        recommended=appraisals.recommended_terms(application, appraisal),
        today=today,
    )


@bp.post("/<int:application_id>/appraisal/complete")
@permission_required(Permission.VIEW_APPLICATION)
def complete_appraisal(application_id: int) -> Any:
    """Freeze the appraisal's figures and send the application to the approvers."""
    application = _load(application_id, Permission.APPRAISE)
    if ConfirmForm().validate_on_submit():
        try:
            appraisals.complete_appraisal(
                db.session,
                actor=current_actor(),
                application_id=application.id,
                today=fund_today(),
                render_email=emails.notice_email,
            )
        except LoanFundError as error:
            if isinstance(error, RuleViolation):
                flash(_("The appraisal was not completed:"), "danger")
            show_refusal(error)
        else:
            flash(
                _(
                    "The appraisal of %(number)s is complete; the approvers were told.",
                    number=application.number,
                ),
                "success",
            )
            return redirect(_detail_url(application_id))
    return redirect(_appraisal_url(application_id))


# --- the decision -----------------------------------------------------------------------------


def _decided_message(application: LoanApplication) -> str:
    number = application.number
    if application.status is _S.APPROVED:
        return _("Application %(number)s is approved.", number=number)
    if application.status is _S.REJECTED:
        return _("Application %(number)s is rejected; the cooperative was told.", number=number)
    if application.status is _S.IN_APPRAISAL:
        return _("Application %(number)s went back to its officer for appraisal.", number=number)
    return _(
        "Your approval of %(number)s is recorded; a second approver must approve it too.",
        number=number,
    )


@bp.route("/<int:application_id>/decide", methods=["GET", "POST"])
@permission_required(Permission.VIEW_APPLICATION)
def decide(application_id: int) -> Any:
    """An approver approves (on these or other terms), rejects or returns an application."""
    actor = current_actor()
    application = _load(application_id, Permission.DECIDE_APPLICATION)
    appraisal = queries.appraisal_of(db.session, application.id)
    decisions = queries.decisions_of(db.session, application.id)
    given, needed = _approvals(application, appraisal, decisions)
    recommended = appraisals.recommended_terms(application, appraisal)
    form = DecideForm()
    if request.method == "GET":
        first = given[0] if given else None
        terms = (
            service.Terms(first.amount, first.term_months, first.schedule_options or {})
            if first is not None and first.amount is not None and first.term_months is not None
            else recommended
        )
        form.fill(terms, appraisal.conditions if appraisal else "")
    elif form.validate_on_submit():
        try:
            appraisals.decide_application(
                db.session,
                actor=actor,
                application_id=application.id,
                verdict=form.verdict.data,
                today=fund_today(),
                terms=form.terms(),
                conditions=form.conditions.data or "",
                reason=form.reason.data or "",
                render_email=emails.notice_email,
            )
        except (NotPermitted, InvalidTransition, Conflict) as error:
            # Four-eyes, or decided by someone else meanwhile: said on the application's page.
            db.session.rollback()
            flash(_("Your decision was not recorded:"), "danger")
            flash_problems(error)
            return redirect(_detail_url(application_id))
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_decided_message(application), "success")
            return redirect(_detail_url(application_id))
    return render_template(
        "applications/decide.html",
        application=application,
        cooperative=application.cooperative,
        product=application.product,
        appraisal=appraisal,
        findings={finding.area: finding for finding in appraisal.findings} if appraisal else {},
        frozen=frozen_figures(appraisal),
        recommended=recommended,
        recommended_words=schedule_words(recommended.schedule_options),
        decisions=decisions,
        approvals_given=given,
        approvals_needed=needed,
        names=_names(
            [application.officer_id, application.appraiser_id]
            + [decision.approver_id for decision in decisions]
        ),
        form=form,
        areas=list(AppraisalArea),
        Status=_S,
        status_label=status_label,
        area_label=area_label,
        result_label=result_label,
        credit_bureau_label=credit_bureau_label,
        recommendation_label=recommendation_label,
        verdict_label=verdict_label,
        factor_label=factor_label,
    )


# --- the letter -------------------------------------------------------------------------------


@bp.get("/<int:application_id>/letter")
@permission_required(Permission.VIEW_APPLICATION)
def letter(application_id: int) -> Any:
    """The printable decision letter of an approved or rejected application."""
    application = _load(application_id, Permission.VIEW_APPLICATION)
    if application.status not in (_S.APPROVED, _S.REJECTED):
        abort(404)
    approved = application.status is _S.APPROVED
    verdict = "approve" if approved else "reject"
    signers = [
        decision.approver_id
        for decision in queries.decisions_of(db.session, application.id)
        if decision.round == application.decision_round and decision.verdict == verdict
    ]
    names = _names(signers)
    options = application.approved_schedule or {}
    installments = None
    if approved and application.approved_term_months:
        installments = installments_for(
            application.approved_term_months,
            str(options.get("frequency", "month")),
            int(options.get("every", 1)),
        )
    return render_template(
        "applications/letter.html",
        application=application,
        cooperative=application.cooperative,
        product=application.product,
        fund=current_fund(),
        approved=approved,
        amount_words=amount_in_words(application.approved_amount)
        if approved and application.approved_amount is not None
        else "",
        schedule=schedule_words(options) if approved else [],
        installments=installments,
        signers=[names[user_id] for user_id in signers if user_id in names],
        purpose_label=purpose_label,
    )
