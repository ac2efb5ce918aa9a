"""The fund's books: where the money is, and every entry that moved it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from loanfund.domain.access import Permission
from loanfund.domain.errors import (
    Conflict,
    InvalidTransition,
    LoanFundError,
    NotPermitted,
    RuleViolation,
)
from loanfund.domain.ledger import (
    Account,
    AccountKind,
    EntryKind,
    books_balance,
    entry_kind_label,
)
from loanfund.domain.reporting import latest_ended, recent_periods
from loanfund.models import db
from loanfund.queries import ledger as queries
from loanfund.queries.loans import expected_inflows
from loanfund.services.ledger import (
    approve_capital_movement,
    cancel_capital_movement,
    pending_capital_movements,
    request_capital_movement,
)
from loanfund.web.authz import current_actor, permission_required
from loanfund.web.books.forms import CancelMovementForm, CapitalContributionForm
from loanfund.web.clock import fund_today
from loanfund.web.figures import kept
from loanfund.web.fund import account_namer, current_fund
from loanfund.web.messages import flash_problems, show_refusal

bp = Blueprint("books", __name__, url_prefix="/books")

#: The order accounts are shown in: the balance sheet, then income and expense, then memo.
_SECTIONS = (
    (AccountKind.ASSET, AccountKind.CONTRA_ASSET, AccountKind.EQUITY),
    (AccountKind.INCOME, AccountKind.EXPENSE),
    (AccountKind.MEMO,),
)


@bp.context_processor
def lending_report_periods() -> dict[str, Any]:
    """The periods the Books page offers for the lending report, the last ended one chosen."""
    today = fund_today()
    periods = recent_periods(today)
    return {"report_periods": periods, "report_period_chosen": latest_ended(periods, today)}


@bp.get("/")
@permission_required(Permission.VIEW_BOOKS)
def index() -> Any:
    """The fund's position, every account's balance, and the journal."""
    today = fund_today()
    kind_value = request.args.get("kind", "")
    kind = EntryKind(kind_value) if kind_value in {k.value for k in EntryKind} else None
    reserve = current_fund().policy.min_liquidity_reserve
    position = kept(
        "position",
        today,
        reserve,
        compute=lambda: queries.fund_position(db.session, as_of=today, reserve=reserve),
    )
    balances = kept("balances", compute=lambda: queries.account_balances(db.session))
    name = account_namer()
    sections = [
        [
            (account, name(account), balances[account])
            for account in Account
            if account.kind in kinds
        ]
        for kinds in _SECTIONS
    ]
    page = queries.list_entries(
        db.session, kind=kind, page=request.args.get("page", 1, type=int) or 1
    )
    date_from, date_to, period_problem = _period(today)
    trial = kept(
        "trial balance",
        date_from,
        date_to,
        compute=lambda: queries.trial_balance(db.session, date_from=date_from, date_to=date_to),
    )
    return render_template(
        "books/index.html",
        position=position,
        sections=sections,
        page=page,
        kind=kind,
        kinds=[(k, entry_kind_label(k)) for k in EntryKind],
        entry_kind_label=entry_kind_label,
        account_label=name,
        trial=trial,
        trial_difference=books_balance(trial),
        date_from=date_from,
        date_to=date_to,
        period_problem=period_problem,
        inflows=kept("inflows", today, compute=lambda: expected_inflows(db.session, today=today)),
        pending=pending_capital_movements(db.session),
        cancel_form=CancelMovementForm(formdata=None),
        # The export forms: what was typed when a request was refused, else this month to date.
        export_as_of=request.args.get("export_as_of", ""),
        export_from=request.args.get("export_from") or today.replace(day=1).isoformat(),
        export_to=request.args.get("export_to") or today.isoformat(),
    )


def _period(today: dt.date) -> tuple[dt.date, dt.date, str]:
    """The trial balance's period from the query string (default: this month to date)."""
    default_from = today.replace(day=1)
    try:
        date_from = dt.date.fromisoformat(request.args.get("from") or default_from.isoformat())
        date_to = dt.date.fromisoformat(request.args.get("to") or today.isoformat())
    except ValueError:
        return default_from, today, _("Give the dates as on the calendar, e.g. 2026-11-01.")
    if date_from > date_to:
        return date_to, date_from, _("The period’s start was after its end; they were swapped.")
    return date_from, date_to, ""


@bp.post("/capital/<int:movement_id>/approve")
@permission_required(Permission.APPROVE_CAPITAL)
def approve_capital(movement_id: int) -> Any:
    try:
        movement = approve_capital_movement(
            db.session, actor=current_actor(), movement_id=movement_id, today=fund_today()
        )
    except (NotPermitted, InvalidTransition, Conflict, RuleViolation) as error:
        db.session.rollback()
        flash_problems(error)
    else:
        flash(_("Posted as journal entry %(id)s.", id=movement.journal_entry_id), "success")
    return redirect(url_for(".index"))


@bp.post("/capital/<int:movement_id>/cancel")
@permission_required(Permission.VIEW_BOOKS)
def cancel_capital(movement_id: int) -> Any:
    form = CancelMovementForm()
    if not form.validate_on_submit():
        flash(_("Say why it is cancelled."), "danger")
        return redirect(url_for(".index"))
    try:
        cancel_capital_movement(
            db.session, actor=current_actor(), movement_id=movement_id, reason=form.reason.data
        )
    except LoanFundError as error:
        show_refusal(error)
    else:
        flash(_("Cancelled."), "success")
    return redirect(url_for(".index"))


@bp.route("/capital/new", methods=["GET", "POST"])
@permission_required(Permission.RECORD_CAPITAL)
def new_capital() -> Any:
    """Record capital the fund's bank account has received."""
    form = CapitalContributionForm()
    if request.method == "GET":
        form.value_date.data = fund_today()
    if form.validate_on_submit():
        try:
            request_capital_movement(
                db.session,
                actor=current_actor(),
                kind=form.kind.data,
                amount=form.amount.data,
                value_date=form.value_date.data,
                source=form.source.data,
                reference=form.reference.data,
                today=fund_today(),
            )
        except LoanFundError as error:
            show_refusal(error)
        else:
            flash(
                _("Recorded. Another person must approve it before it is posted to the books."),
                "success",
            )
            return redirect(url_for(".index"))
    return render_template("books/capital_form.html", form=form)
