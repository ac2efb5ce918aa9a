"""Applications as the cooperative sees them: list, apply, dossier, submit, answer, withdraw;
and the page every role opens for one application."""

from __future__ import annotations

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
from wtforms import SelectChoice

from loanfund.config import max_upload_bytes, upload_dir
from loanfund.domain.access import Permission
from loanfund.domain.applications import (
    ApplicationStatus,
    collateral_kind_label,
    equity_ratio_pct,
    priority_label,
    status_label,
)
from loanfund.domain.appraisal_checklist import area_label, result_label
from loanfund.domain.documents import DocumentKind, document_kind_label
from loanfund.domain.errors import LoanFundError, RuleViolation
from loanfund.domain.products import purpose_label
from loanfund.models import LoanProduct, db
from loanfund.queries import applications as queries
from loanfund.queries.loans import loan_of_application
from loanfund.queries.products import list_products
from loanfund.services import applications as service
from loanfund.services.file_store import FileStore
from loanfund.web import emails
from loanfund.web.applications.forms import (
    ApplicationForm,
    ConfirmForm,
    DocumentForm,
    MessageForm,
    WithdrawForm,
)
from loanfund.web.applications.labels import PUBLIC_ACTIONS, history_label
from loanfund.web.authz import current_actor, permission_required
from loanfund.web.clock import fund_today
from loanfund.web.fund import current_fund
from loanfund.web.messages import flash_form_errors, flash_problems, show_refusal

bp = Blueprint("applications", __name__, url_prefix="/applications")


def file_store() -> FileStore:
    return FileStore(upload_dir(current_app.config["LOANFUND"]))


def _product_choices(form: ApplicationForm, current: int | None = None) -> list[LoanProduct]:
    products = list_products(db.session, offered_only=True)
    if current is not None and all(product.id != current for product in products):
        chosen = db.session.get(LoanProduct, current)
        if chosen is not None:
            products.append(chosen)
    form.product_id.choices = [
        SelectChoice(product.id, f"{product.name} ({product.code})") for product in products
    ]
    return products


def _visible(application_id: int) -> None:
    service.load_application(
        db.session, current_actor(), application_id, Permission.VIEW_APPLICATION
    )


def _detail_url(application_id: int) -> str:
    return url_for("applications.detail", application_id=application_id)


@bp.get("/")
@permission_required(Permission.VIEW_APPLICATION)
def index() -> Any:
    """Representatives: their cooperative's applications. Staff: the work queues."""
    actor = current_actor()
    if actor.can(Permission.LIST_APPLICATIONS):
        return redirect(url_for("applications.queue"))
    if actor.cooperative_id is None:
        abort(404)
    return render_template(
        "applications/mine.html",
        applications=queries.applications_of(db.session, actor.cooperative_id),
        status_label=status_label,
    )


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.APPLY)
def new() -> Any:
    """A representative starts an application (saved as a draft)."""
    actor = current_actor()
    if actor.cooperative_id is None:
        abort(404)
    form = ApplicationForm()
    products = _product_choices(form)
    if not products:
        flash(_("The fund offers no loan products at the moment."), "warning")
        return redirect(url_for(".index"))
    if request.method == "GET":
        chosen = request.args.get("product", type=int)
        product = next((p for p in products if p.id == chosen), products[0])
        form.product_id.data = product.id
        form.fill_schedule_options(product.schedule_options)
        form.term_months.data = product.default_term_months
        form.purpose.data = sorted(product.purposes)[0]
    if form.validate_on_submit():
        try:
            application = service.create_application(
                db.session,
                actor=actor,
                cooperative_id=actor.cooperative_id,
                draft=form.draft(),
                today=fund_today(),
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(
                _(
                    "Draft %(number)s saved. Upload the dossier, then submit it to the fund.",
                    number=application.number,
                ),
                "success",
            )
            return redirect(_detail_url(application.id))
    return render_template("applications/form.html", form=form, application=None, products=products)


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.APPLY)
def edit(application_id: int) -> Any:
    actor = current_actor()
    application = service.load_application(db.session, actor, application_id, Permission.APPLY)
    form = ApplicationForm()
    products = _product_choices(form, application.product_id)
    if request.method == "GET":
        form.fill(service.draft_of(application))
    if form.validate_on_submit():
        try:
            service.update_application(
                db.session, actor=actor, application_id=application.id, draft=form.draft()
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("Application %(number)s saved.", number=application.number), "success")
            return redirect(_detail_url(application.id))
    return render_template(
        "applications/form.html", form=form, application=application, products=products
    )


@bp.get("/<int:application_id>")
@permission_required(Permission.VIEW_APPLICATION)
def detail(application_id: int) -> Any:
    """Everything about one application, as the reader's role may see it."""
    actor = current_actor()
    application = service.load_application(
        db.session, actor, application_id, Permission.VIEW_APPLICATION
    )
    today = fund_today()
    fund = current_fund()
    staff = actor.is_staff
    findings = []
    if application.status in (ApplicationStatus.DRAFT, ApplicationStatus.INFO_REQUESTED) or staff:
        findings = service.eligibility(db.session, application, today=today)
    history = queries.history_of(db.session, application.id)
    timeline = [event for event in history if event.action in PUBLIC_ACTIONS]
    if not staff:
        history = []
    return render_template(
        "applications/detail.html",
        application=application,
        product=application.product,
        cooperative=application.cooperative,
        messages=queries.messages_of(db.session, application.id, include_internal=staff),
        findings=findings,
        appraisal=queries.appraisal_of(db.session, application.id) if staff else None,
        decisions=queries.decisions_of(db.session, application.id) if staff else [],
        history=history,
        timeline=timeline,
        loan=loan_of_application(db.session, application.id),
        history_label=history_label,
        due_on=queries.decision_due_on(application, fund.policy),
        today=today,
        status_label=status_label,
        equity_ratio_pct=equity_ratio_pct,
        purpose_label=purpose_label,
        priority_label=priority_label,
        collateral_kind_label=collateral_kind_label,
        document_kind_label=document_kind_label,
        area_label=area_label,
        result_label=result_label,
        missing=service.missing_documents_of(application),
        document_form=DocumentForm(),
        message_form=MessageForm(),
        withdraw_form=WithdrawForm(),
        confirm_form=ConfirmForm(),
        editable=application.status in service.EDITABLE_STATUSES,
        Status=ApplicationStatus,
        DocumentKind=DocumentKind,
    )


@bp.post("/<int:application_id>/submit")
@permission_required(Permission.APPLY)
def submit(application_id: int) -> Any:
    _visible(application_id)  # 404 before anything else for another cooperative's
    if ConfirmForm().validate_on_submit():
        try:
            application = service.submit_application(
                db.session,
                actor=current_actor(),
                application_id=application_id,
                today=fund_today(),
                render_email=emails.notice_email,
            )
        except RuleViolation as error:
            db.session.rollback()
            flash(_("The application was not submitted:"), "danger")
            flash_problems(error)
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(
                _(
                    "Application %(number)s was sent to the fund. You will be told of each step.",
                    number=application.number,
                ),
                "success",
            )
    return redirect(_detail_url(application_id))


@bp.post("/<int:application_id>/withdraw")
@permission_required(Permission.APPLY)
def withdraw(application_id: int) -> Any:
    _visible(application_id)  # 404 before anything else for another cooperative's
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            service.withdraw_application(
                db.session,
                actor=current_actor(),
                application_id=application_id,
                reason=form.reason.data or "",
                render_email=emails.notice_email,
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("The application was withdrawn."), "success")
    return redirect(_detail_url(application_id))


@bp.post("/<int:application_id>/answer")
@permission_required(Permission.APPLY)
def answer(application_id: int) -> Any:
    _visible(application_id)  # 404 before anything else for another cooperative's
    form = MessageForm()
    if form.validate_on_submit():
        try:
            service.answer_information_request(
                db.session,
                actor=current_actor(),
                application_id=application_id,
                body=form.body.data,
                today=fund_today(),
                render_email=emails.notice_email,
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("Your answer was sent; the fund continues its appraisal."), "success")
    else:
        flash_form_errors(form)
    return redirect(_detail_url(application_id))


@bp.post("/<int:application_id>/documents")
@permission_required(Permission.VIEW_APPLICATION)
def upload(application_id: int) -> Any:
    _visible(application_id)  # 404 before anything else for another cooperative's
    form = DocumentForm()
    if form.validate_on_submit():
        uploaded = form.file.data
        try:
            document = service.upload_document(
                db.session,
                actor=current_actor(),
                application_id=application_id,
                kind=DocumentKind(form.kind.data),
                filename=uploaded.filename or "",
                source=uploaded.stream,
                store=file_store(),
                max_bytes=max_upload_bytes(current_app.config["LOANFUND"]),
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("“%(name)s” was added to the dossier.", name=document.original_name), "success")
    else:
        flash_form_errors(form)
    return redirect(_detail_url(application_id) + "#documents")


@bp.get("/documents/<int:document_id>")
@permission_required(Permission.VIEW_APPLICATION)
def download(document_id: int) -> Any:
    """A dossier file, only for its cooperative's representatives and the fund's staff."""
    document = service.document_for(db.session, actor=current_actor(), document_id=document_id)
    try:
        path = file_store().path(document.store_key)
    except (FileNotFoundError, ValueError):
        abort(404)
    response = send_file(
        path,
        mimetype=document.mime,
        as_attachment=document.mime == "application/pdf" and request.args.get("download") == "1",
        download_name=document.original_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/documents/<int:document_id>/delete")
@permission_required(Permission.APPLY)
def delete_document(document_id: int) -> Any:
    document = service.document_for(db.session, actor=current_actor(), document_id=document_id)
    application_id = document.application_id
    if ConfirmForm().validate_on_submit():
        try:
            service.remove_document(
                db.session, actor=current_actor(), document_id=document_id, store=file_store()
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("The document was removed."), "success")
    return redirect(_detail_url(application_id) + "#documents")


# The fund's side of the same blueprint (queues, appraisal, decision, letter).
from loanfund.web.applications import staff_routes  # noqa: E402, F401
