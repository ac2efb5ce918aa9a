"""Loans: the contract, its signing, tranches (request, approve, pay), schedule and money."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from loanfund.domain.access import Permission, loan_list_scope
from loanfund.domain.errors import LoanFundError
from loanfund.domain.exports import ExportList
from loanfund.domain.inspections import kind_label, verdict_label
from loanfund.domain.ledger import entry_kind_label
from loanfund.domain.loans import (
    LoanStatus,
    TrancheStatus,
    extension_limit_months,
    loan_status_label,
    restructuring_kind_label,
    restructuring_status_label,
    tranche_status_label,
    version_reason_label,
)
from loanfund.domain.policy import choice_label
from loanfund.domain.products import purpose_label
from loanfund.domain.repayments import Component, component_label, installment_status
from loanfund.exports.lists import (
    channel_label,
    loans_sheet,
    receipt_status_label,
    repayments_sheet,
)
from loanfund.models import AuditEvent, Recall, Repayment, Restructuring, Tranche, User, db
from loanfund.queries import inspections as inspection_queries
from loanfund.queries import lists
from loanfund.queries import loans as queries
from loanfund.services import inspections, loan_state, repayments, restructurings
from loanfund.services import loans as service
from loanfund.services.applications import load_application
from loanfund.services.notifications import users_with_role
from loanfund.web.applications.staff_routes import amount_in_words, schedule_words
from loanfund.web.authz import current_actor, permission_required
from loanfund.web.clock import fund_today
from loanfund.web.emails import notice_email
from loanfund.web.fields import has_control_characters, posted_id
from loanfund.web.fund import account_namer, current_fund
from loanfund.web.listing import (
    FilterField,
    ListView,
    district_field,
    options,
    product_field,
    read_state,
    request_list_export,
)
from loanfund.web.loans.forms import (
    CancelForm,
    RepaymentForm,
    RestructureForm,
    SignForm,
    TrancheRequestForm,
)
from loanfund.web.messages import flash_form_errors, show_refusal

bp = Blueprint("loans", __name__, url_prefix="/loans")


def _detail(loan_id: int) -> Any:
    return redirect(url_for("loans.detail", loan_id=loan_id))


def _loans_view() -> ListView:
    """The loans list's state and filter bar (an applicant's: its own loans, fewer filters)."""
    staff = current_actor().is_staff
    fields = [
        FilterField(
            "status",
            _("Status"),
            options=options((status, loan_status_label(status)) for status in LoanStatus),
        )
    ]
    if staff:
        fields += [
            product_field(),
            district_field(),
            FilterField(
                "debt_group",
                _("Debt group"),
                options=[(str(group), str(group)) for group in range(1, 6)],
            ),
            FilterField("from", _("Signed from"), kind="date"),
            FilterField("to", _("Signed until"), kind="date"),
        ]
    return ListView(
        endpoint="loans.index",
        export_endpoint="loans.export_loans",
        state=read_state(lists.loan_listing()),
        fields=fields,
        sorts={
            "number": _("Contract"),
            "signed": _("Contract date"),
            "cooperative": _("Cooperative"),
            "status": _("Status"),
            "debt_group": _("Debt group"),
            "approved": _("Approved"),
            "disbursed": _("Disbursed"),
            "outstanding": _("Outstanding principal"),
        },
        placeholder=_("Cooperative, contract number or tax code (diacritics optional)"),
    )


def _scope() -> int | None:
    """The cooperative a representative's lists are limited to (``None`` for staff; 403 for
    anyone else)."""
    return loan_list_scope(current_actor())


@bp.get("/")
@permission_required(Permission.VIEW_LOAN)
def index() -> Any:
    """The loans (an applicant: its own), sorted and filtered from the URL, and what waits
    for a second person's decision."""
    actor = current_actor()
    view = _loans_view()
    page = lists.loan_page(db.session, lists.LoanFilters(view.state, cooperative_id=_scope()))
    awaiting = queries.awaiting_decision(db.session) if actor.is_staff else []
    return render_template(
        "loans/list.html",
        view=view,
        page=page,
        awaiting=awaiting,
        loan_status_label=loan_status_label,
    )


@bp.post("/export")
@permission_required(Permission.VIEW_LOAN)
def export_loans() -> Any:
    """Queue the workbook of every loan the list's filter shows (a representative: of its
    own loans)."""
    return request_list_export(
        _loans_view(), ExportList.LOANS, title=loans_sheet().title, today=fund_today()
    )


def _receipts_view() -> ListView:
    """The receipts list's state and filter bar."""
    fields = [
        FilterField(
            "status",
            _("Status"),
            options=options((code, receipt_status_label(code)) for code in ("posted", "reversed")),
        ),
        FilterField(
            "channel",
            _("Received by"),
            options=options((code, channel_label(code)) for code in ("bank", "cash")),
        ),
    ]
    if current_actor().is_staff:
        fields += [
            product_field(),
            district_field(),
        ]
    fields += [
        FilterField("from", _("Received from"), kind="date"),
        FilterField("to", _("Received until"), kind="date"),
    ]
    return ListView(
        endpoint="loans.repayments_list",
        export_endpoint="loans.export_repayments",
        state=read_state(lists.repayment_listing()),
        fields=fields,
        sorts={
            "date": _("Value date"),
            "number": _("Receipt no."),
            "loan": _("Loan no."),
            "borrower": _("Borrower"),
            "amount": _("Amount received"),
            "status": _("Status"),
        },
        placeholder=_("Borrower, contract number, tax code or reference (diacritics optional)"),
    )


@bp.get("/repayments/")
@permission_required(Permission.VIEW_LOAN)
def repayments_list() -> Any:
    """Receipts (an applicant: those of its own loans), with their split, sorted and
    filtered from the URL."""
    view = _receipts_view()
    filters = lists.RepaymentFilters(view.state, cooperative_id=_scope())
    return render_template(
        "loans/repayments.html",
        view=view,
        page=lists.repayment_page(db.session, filters),
        channel_label=channel_label,
    )


@bp.post("/repayments/export")
@permission_required(Permission.VIEW_LOAN)
def export_repayments() -> Any:
    """Queue the workbook of every receipt the list's filter shows (a representative: of its
    own loans)."""
    return request_list_export(
        _receipts_view(), ExportList.RECEIPTS, title=repayments_sheet().title, today=fund_today()
    )


@bp.post("/from-application/<int:application_id>")
@permission_required(Permission.VIEW_APPLICATION)
def make(application_id: int) -> Any:
    """Prepare the loan and its contract from an approved application (officers; another
    cooperative's representative gets 404, like every URL of its applications)."""
    load_application(db.session, current_actor(), application_id, Permission.VIEW_APPLICATION)
    try:
        loan = service.make_loan(
            db.session, actor=current_actor(), application_id=application_id, today=fund_today()
        )
    except LoanFundError as error:
        show_refusal(error)
        return redirect(url_for("applications.detail", application_id=application_id))
    flash(
        _("Loan %(number)s prepared. Print the contract for signing.", number=loan.contract_no),
        "success",
    )
    return _detail(loan.id)


@bp.get("/<int:loan_id>")
@permission_required(Permission.VIEW_LOAN)
def detail(loan_id: int) -> Any:
    actor = current_actor()
    loan = service.load_loan(db.session, actor, loan_id, Permission.VIEW_LOAN)
    sign_form = SignForm(formdata=None)
    sign_form.signed_on.data = fund_today()
    tranche_form = TrancheRequestForm(formdata=None)
    tranche_form.idempotency_key.data = secrets.token_urlsafe(24)
    tranche_form.value_date.data = fund_today()
    tranche_form.payee.data = loan.cooperative.name
    versions = sorted(loan.schedules, key=lambda version: version.version)
    user_ids = {t.requested_by_id for t in loan.tranches} | {
        t.approved_by_id for t in loan.tranches if t.approved_by_id
    }
    repayment_form = RepaymentForm(formdata=None)
    repayment_form.idempotency_key.data = secrets.token_urlsafe(24)
    repayment_form.received_on.data = fund_today()
    quote = None
    quote_day = fund_today()
    rows: list[dict[str, Any]] = []
    if versions:
        states, _terms = repayments.replay(db.session, loan)
        rows = _schedule_rows(versions, states, fund_today())
        with contextlib.suppress(ValueError):  # a malformed date keeps today
            quote_day = dt.date.fromisoformat(request.args.get("payoff_on") or str(quote_day))
        quote = repayments.payoff_quote(db.session, loan, quote_day)
    proposals = (
        db.session.query(Restructuring)
        .filter(Restructuring.loan_id == loan.id)
        .order_by(Restructuring.id.desc())
        .all()
        if actor.is_staff
        else []
    )
    user_ids |= {p.proposed_by_id for p in proposals} | {
        p.decided_by_id for p in proposals if p.decided_by_id
    }
    names = {
        user.id: user.full_name
        for user in db.session.query(User).filter(User.id.in_(user_ids or {0}))
    }
    pending_preview, pending_problems = None, []
    pending = next((p for p in proposals if p.status == "proposed"), None)
    if pending is not None:
        try:
            basis, merged = restructurings.preview(
                db.session,
                actor=actor,
                loan_id=loan.id,
                kind=pending.kind,
                installments=pending.installments,
                first_due_on=pending.first_due_on,
                today=fund_today(),
            )
            pending_preview = {"basis": basis, "rows": merged["installments"]}
        except LoanFundError as error:
            pending_problems = list(getattr(error, "problems", [str(error)]))
    return render_template(
        "loans/detail.html",
        repayment_form=repayment_form,
        receipts=db.session.query(Repayment)
        .filter(Repayment.loan_id == loan.id)
        .order_by(Repayment.received_on, Repayment.id)
        .all(),
        schedule_rows=rows,
        schedule_totals={
            key: sum((row[key] for row in rows), Decimal(0))
            for key in ("principal", "interest", "total", "paid", "left")
        },
        restructurings=proposals,
        group_changes=queries.group_changes(db.session, loan.id) if actor.is_staff else [],
        inspections=[
            i
            for i in inspection_queries.of_loan(db.session, loan.id)
            if actor.is_staff or i.status == "done"
        ],
        recalls=inspection_queries.recalls_of(db.session, loan.id) if actor.is_staff else [],
        follow_ups=inspection_queries.open_follow_ups(db.session, loan_id=loan.id)
        if actor.is_staff
        else [],
        inspectors=users_with_role(db.session, "inspector") if actor.is_staff else [],
        inspection_kind_label=kind_label,
        verdict_label=verdict_label,
        pending_preview=pending_preview,
        pending_problems=pending_problems,
        can_restructure=loan.status is LoanStatus.ACTIVE
        and actor.can(Permission.MANAGE_LOANS)
        and pending is None,
        prepayment_label=choice_label(loan.prepayment_mode),
        version_reason_label=version_reason_label,
        restructuring_kind_label=restructuring_kind_label,
        restructuring_status_label=restructuring_status_label,
        history=db.session.query(AuditEvent)
        .filter(AuditEvent.entity == "loan", AuditEvent.entity_id == str(loan.id))
        .order_by(AuditEvent.id)
        .all()
        if actor.is_staff
        else [],
        documents=loan.application.documents,
        quote=quote,
        quote_day=quote_day,
        component_label=component_label,
        Component=Component,
        loan=loan,
        money=queries.loan_money(db.session, loan),
        entries=queries.entries_of(db.session, loan.id) if actor.is_staff else [],
        versions=versions,
        current=versions[-1] if versions else None,
        sign_form=sign_form,
        tranche_form=tranche_form,
        cancel_form=CancelForm(formdata=None),
        names=names,
        Status=LoanStatus,
        TrancheStatus=TrancheStatus,
        loan_status_label=loan_status_label,
        tranche_status_label=tranche_status_label,
        entry_kind_label=entry_kind_label,
        account_label=account_namer(),
        purpose_label=purpose_label,
    )


def _schedule_rows(versions: list[Any], states: list[Any], today: dt.date) -> list[dict[str, Any]]:
    """Each installment as the borrower now owes it: after prepayments (their interest cut)
    and restructurings (the installments they settled show what was paid and nothing left)."""
    settled_upto = max((v.kept for v in versions if v.settles), default=0)
    listed = versions[-1].installments["installments"]
    rows = []
    for index, state in enumerate(states):
        scheduled = listed[index] if index < len(listed) else None
        principal, interest = state.due.principal, state.interest
        status, was = installment_status(state, today), None
        if scheduled is not None and index < settled_upto:
            original = Decimal(scheduled["principal"]) + Decimal(scheduled["interest"])
            if original != principal + interest:
                status, was = "settled", original
        paid = state.principal_paid + state.interest_paid
        rows.append(
            {
                "n": state.due.n,
                "due_on": state.due.due_on,
                "principal": principal,
                "interest": interest,
                "carried": state.due.carried,
                "total": principal + interest,
                "paid": paid,
                "left": max(state.principal_left, Decimal(0))
                + max(state.interest_left, Decimal(0)),
                "status": status,
                "was": was,
            }
        )
    return rows


@bp.get("/<int:loan_id>/restructure")
@bp.post("/<int:loan_id>/restructure")
@permission_required(Permission.MANAGE_LOANS)
def restructure(loan_id: int) -> Any:
    """Propose a restructuring: the form, a preview of the new schedule, and the proposal.
    A refused proposal comes back with everything typed and every reason."""
    actor = current_actor()
    loan = service.load_loan(db.session, actor, loan_id, Permission.MANAGE_LOANS)
    form = RestructureForm()
    if request.method == "GET":
        form.request_on.data = fund_today()
    preview, problems = None, []
    if request.method == "POST" and form.validate_on_submit():
        try:
            if form.propose.data:
                restructurings.propose_restructuring(
                    db.session,
                    actor=actor,
                    loan_id=loan.id,
                    kind=form.kind.data,
                    request_on=form.request_on.data,
                    request_reference=form.request_reference.data,
                    reason=form.reason.data,
                    installments=form.installments.data,
                    first_due_on=form.first_due_on.data,
                    today=fund_today(),
                )
                flash(_("Restructuring proposed; an approver must decide it."), "success")
                return redirect(url_for(".detail", loan_id=loan.id, _anchor="restructuring"))
            basis, merged = restructurings.preview(
                db.session,
                actor=actor,
                loan_id=loan.id,
                kind=form.kind.data,
                installments=form.installments.data,
                first_due_on=form.first_due_on.data,
                today=fund_today(),
            )
            preview = {"basis": basis, "rows": merged["installments"][basis.kept :]}
        except LoanFundError as error:
            problems = list(getattr(error, "problems", [str(error)]))
    return render_template(
        "loans/restructure.html",
        loan=loan,
        form=form,
        preview=preview,
        problems=problems,
        quote=repayments.payoff_quote(db.session, loan, fund_today()),
        maturity=loan_state.maturity(loan, original=True),
        current_maturity=loan_state.maturity(loan),
        extension_months=extension_limit_months(loan.term_months),
        component_label=component_label,
    ), (422 if problems or form.errors else 200)


@bp.post("/<int:loan_id>/inspections")
@permission_required(Permission.PLAN_INSPECTIONS)
def plan_inspection(loan_id: int) -> Any:
    """Plan an ad hoc inspection of the loan."""
    raw_day, raw_inspector = request.form.get("due_on", ""), request.form.get("inspector_id", "")
    try:
        due_on = dt.date.fromisoformat(raw_day)
    except ValueError:
        flash(_("Enter the day the visit is due."), "danger")
        return redirect(url_for(".detail", loan_id=loan_id, _anchor="inspections"))
    try:
        inspections.plan_ad_hoc(
            db.session,
            actor=current_actor(),
            loan_id=loan_id,
            due_on=due_on,
            inspector_id=posted_id(raw_inspector),
            today=fund_today(),
        )
    except LoanFundError as error:
        show_refusal(error)
    else:
        flash(_("Inspection planned."), "success")
    return redirect(url_for(".detail", loan_id=loan_id, _anchor="inspections"))


@bp.post("/recalls/<int:recall_id>/decide")
@permission_required(Permission.APPROVE_DISBURSEMENT)
def decide_recall(recall_id: int) -> Any:
    recall = db.session.get(Recall, recall_id)
    if recall is None:
        abort(404)
    verdict, note = request.form.get("verdict", ""), request.form.get("note", "")[:4000]
    if has_control_characters(note):
        flash(_("Remove the invisible control characters from what you typed."), "danger")
        return redirect(url_for(".detail", loan_id=recall.loan_id, _anchor="recall"))
    try:
        inspections.decide_recall(
            db.session,
            actor=current_actor(),
            recall_id=recall_id,
            verdict=verdict,
            note=note,
            today=fund_today(),
            render_email=notice_email,
        )
    except LoanFundError as error:
        show_refusal(error)
    else:
        flash(
            _("The loan is recalled; print the recall notice for the borrower.")
            if verdict == "approve"
            else _("Recall rejected."),
            "success",
        )
    return redirect(url_for(".detail", loan_id=recall.loan_id, _anchor="recall"))


@bp.get("/<int:loan_id>/recall-notice")
@permission_required(Permission.VIEW_LOAN)
def recall_notice(loan_id: int) -> Any:
    """The printable recall notice: recall date, principal recalled, deadline, overdue rate."""
    loan = service.load_loan(db.session, current_actor(), loan_id, Permission.VIEW_LOAN)
    recall = next(
        (r for r in inspection_queries.recalls_of(db.session, loan.id) if r.status == "approved"),
        None,
    )
    if recall is None:
        abort(404)
    return render_template(
        "loans/recall_notice.html",
        loan=loan,
        recall=recall,
        fund=current_fund(),
        amount_words=amount_in_words(recall.principal_recalled or Decimal(0)),
        overdue_rate=loan.annual_rate_pct * loan.overdue_rate_pct_of_rate / 100,
    )


@bp.post("/restructurings/<int:restructuring_id>/decide")
@permission_required(Permission.APPROVE_DISBURSEMENT)
def decide_restructuring(restructuring_id: int) -> Any:
    proposal = db.session.get(Restructuring, restructuring_id)
    if proposal is None:
        abort(404)
    actor = current_actor()
    service.load_loan(db.session, actor, proposal.loan_id, Permission.VIEW_LOAN)
    verdict, note = request.form.get("verdict", ""), request.form.get("note", "")[:4000]
    if has_control_characters(note):
        flash(_("Remove the invisible control characters from what you typed."), "danger")
        return redirect(url_for(".detail", loan_id=proposal.loan_id, _anchor="restructuring"))
    try:
        restructurings.decide_restructuring(
            db.session,
            actor=actor,
            restructuring_id=restructuring_id,
            verdict=verdict,
            note=note,
            today=fund_today(),
        )
    except LoanFundError as error:
        show_refusal(error)
    else:
        flash(
            _("Restructuring approved: the new schedule runs from today.")
            if verdict == "approve"
            else _("Restructuring rejected."),
            "success",
        )
    return redirect(url_for(".detail", loan_id=proposal.loan_id, _anchor="restructuring"))


@bp.post("/restructurings/<int:restructuring_id>/withdraw")
@permission_required(Permission.MANAGE_LOANS)
def withdraw_restructuring(restructuring_id: int) -> Any:
    proposal = db.session.get(Restructuring, restructuring_id)
    if proposal is None:
        abort(404)
    actor = current_actor()
    service.load_loan(db.session, actor, proposal.loan_id, Permission.MANAGE_LOANS)
    try:
        restructurings.withdraw_restructuring(
            db.session, actor=actor, restructuring_id=restructuring_id, note=""
        )
    except LoanFundError as error:
        show_refusal(error)
    else:
        flash(_("Restructuring proposal withdrawn."), "success")
    return redirect(url_for(".detail", loan_id=proposal.loan_id, _anchor="restructuring"))


@bp.post("/<int:loan_id>/sign")
@permission_required(Permission.MANAGE_LOANS)
def sign(loan_id: int) -> Any:
    service.load_loan(db.session, current_actor(), loan_id, Permission.MANAGE_LOANS)
    form = SignForm()
    if form.validate_on_submit():
        try:
            service.sign_contract(
                db.session,
                actor=current_actor(),
                loan_id=loan_id,
                signed_on=form.signed_on.data,
                today=fund_today(),
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("The contract is signed; tranches can now be requested."), "success")
    else:
        flash_form_errors(form)
    return _detail(loan_id)


@bp.post("/<int:loan_id>/tranches")
@permission_required(Permission.MANAGE_LOANS)
def request_tranche(loan_id: int) -> Any:
    service.load_loan(db.session, current_actor(), loan_id, Permission.MANAGE_LOANS)
    form = TrancheRequestForm()
    if form.validate_on_submit():
        try:
            tranche = service.request_tranche(
                db.session,
                actor=current_actor(),
                loan_id=loan_id,
                amount=form.amount.data,
                value_date=form.value_date.data,
                payee=form.payee.data,
                account=form.account.data,
                reference=form.reference.data or "",
                idempotency_key=form.idempotency_key.data,
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(
                _(
                    "Tranche of %(amount)s requested; an approver must approve it.",
                    amount=str(tranche.amount),
                ),
                "success",
            )
    else:
        flash_form_errors(form)
    return _detail(loan_id)


@bp.post("/tranches/<int:tranche_id>/<action>")
@permission_required(Permission.VIEW_LOAN)
def tranche_action(tranche_id: int, action: str) -> Any:
    """Approve (approver), pay or cancel (officer) a tranche (CSRF is checked for every POST by
    the app; the service checks who may do what)."""
    actor = current_actor()
    tranche = db.session.get(Tranche, tranche_id)
    if tranche is None:
        abort(404)
    service.load_loan(db.session, actor, tranche.loan_id, Permission.VIEW_LOAN)
    loan_id = tranche.loan_id
    try:
        if action == "approve":
            service.approve_tranche(db.session, actor=actor, tranche_id=tranche_id)
            flash(_("Tranche approved; it can now be paid."), "success")
        elif action == "pay":
            service.pay_tranche(db.session, actor=actor, tranche_id=tranche_id, today=fund_today())
            flash(_("Tranche paid and posted to the books."), "success")
        elif action == "cancel":
            form = CancelForm()
            if not form.validate_on_submit():
                flash(_("Say why the tranche is cancelled."), "danger")
                return _detail(loan_id)
            service.cancel_tranche(
                db.session, actor=actor, tranche_id=tranche_id, reason=form.reason.data
            )
            flash(_("Tranche cancelled."), "success")
        else:
            abort(404)
    except LoanFundError as error:
        show_refusal(error)
    return _detail(loan_id)


@bp.post("/<int:loan_id>/repayments")
@permission_required(Permission.MANAGE_LOANS)
def record_repayment(loan_id: int) -> Any:
    service.load_loan(db.session, current_actor(), loan_id, Permission.MANAGE_LOANS)
    form = RepaymentForm()
    if form.validate_on_submit():
        try:
            receipt = repayments.record_repayment(
                db.session,
                actor=current_actor(),
                loan_id=loan_id,
                received_on=form.received_on.data,
                amount=form.amount.data,
                channel=form.channel.data,
                reference=form.reference.data or "",
                idempotency_key=form.idempotency_key.data,
                today=fund_today(),
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(_("Receipt recorded and posted to the books."), "success")
            return redirect(url_for(".receipt", repayment_id=receipt.id))
    else:
        flash_form_errors(form)
    return _detail(loan_id)


@bp.post("/repayments/<int:repayment_id>/reverse")
@permission_required(Permission.VIEW_LOAN)
def reverse_repayment(repayment_id: int) -> Any:
    """Ask for a receipt to be reversed (officer), or approve that (someone else, approver)."""
    repayment = db.session.get(Repayment, repayment_id)
    if repayment is None:
        abort(404)
    actor = current_actor()
    service.load_loan(db.session, actor, repayment.loan_id, Permission.VIEW_LOAN)
    loan_id = repayment.loan_id
    reason = request.form.get("reason", "")[:1000]
    if has_control_characters(reason):
        flash(_("Remove the invisible control characters from what you typed."), "danger")
        return _detail(loan_id)
    try:
        if request.form.get("step") == "approve":
            repayments.approve_reversal(db.session, actor=actor, repayment_id=repayment_id)
            flash(_("The receipt is reversed and later receipts were allocated again."), "success")
        else:
            repayments.request_reversal(
                db.session,
                actor=actor,
                repayment_id=repayment_id,
                reason=reason,
            )
            flash(_("Reversal asked for; an approver must approve it."), "success")
    except LoanFundError as error:
        show_refusal(error)
    return _detail(loan_id)


@bp.get("/repayments/<int:repayment_id>")
@permission_required(Permission.VIEW_LOAN)
def receipt(repayment_id: int) -> Any:
    """A printable receipt showing where the money went."""
    repayment = db.session.get(Repayment, repayment_id)
    if repayment is None:
        abort(404)
    loan = service.load_loan(db.session, current_actor(), repayment.loan_id, Permission.VIEW_LOAN)
    return render_template(
        "loans/receipt.html",
        repayment=repayment,
        loan=loan,
        fund=current_fund(),
        amount_words=amount_in_words(repayment.amount),
        component_label=component_label,
        Component=Component,
    )


@bp.get("/<int:loan_id>/ledger.xlsx")
@permission_required(Permission.VIEW_LOAN)
def ledger(loan_id: int) -> Any:
    """The loan's ledger as an Excel workbook (staff, and the cooperative for its own)."""
    import io

    from flask import send_file

    from loanfund.exports.loan_ledger import write_loan_ledger
    from loanfund.services.portfolio import loan_ledger
    from loanfund.web.fund import fund_digits

    loan = service.load_loan(db.session, current_actor(), loan_id, Permission.VIEW_LOAN)
    if not loan.schedules:
        abort(404)
    out = io.BytesIO()
    write_loan_ledger(
        out,
        loan_ledger(db.session, loan, as_of=fund_today()),
        fund_name=current_fund().name,
        as_of=fund_today(),
        digits=fund_digits(),
        status_words=lambda code: loan_status_label(LoanStatus(code)),
    )
    out.seek(0)
    return send_file(
        out,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{loan.contract_no}.xlsx",
        max_age=0,
    )


@bp.get("/<int:loan_id>/contract")
@permission_required(Permission.VIEW_LOAN)
def contract(loan_id: int) -> Any:
    """The printable loan contract."""
    loan = service.load_loan(db.session, current_actor(), loan_id, Permission.VIEW_LOAN)
    fund = current_fund()
    # The contract's schedule: as disbursed, before any restructuring (which has its own
    # decision and schedule, shown on the loan page).
    versions = []
    for version in sorted(loan.schedules, key=lambda version: version.version):
        if version.reason == "restructuring":
            break
        versions.append(version)
    return render_template(
        "loans/contract.html",
        loan=loan,
        fund=fund,
        amount_words=amount_in_words(loan.amount),
        schedule=schedule_words(loan.schedule_options),
        current=versions[-1] if versions else None,
        allocation=choice_label(loan.allocation_order),
        prepayment=choice_label(loan.prepayment_mode),
        purpose_label=purpose_label,
    )
