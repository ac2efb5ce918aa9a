"""Administration: users and roles, fund settings, the audit log, the email outbox."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import hash_password
from wtforms import SelectChoice

from loanfund.domain.access import Permission
from loanfund.domain.errors import LoanFundError
from loanfund.domain.policy import PARAMETERS, Kind, choice_label, parameter_label
from loanfund.domain.roles import Role
from loanfund.models import BusinessDay, Cooperative, OutboxMessage, User, db
from loanfund.queries import admin as queries
from loanfund.services import accounts, cooperatives
from loanfund.services.accounts import NewUser
from loanfund.services.job_runs import recent_runs
from loanfund.services.settings import update_fund_settings
from loanfund.web import emails
from loanfund.web.admin.forms import (
    AuditFilterForm,
    EditUserForm,
    NewUserForm,
    role_label,
    settings_form_class,
)
from loanfund.web.authz import current_actor, permission_required
from loanfund.web.fund import current_fund, fund_digits
from loanfund.web.messages import flash_problems

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@permission_required(Permission.MANAGE_USERS)
def users() -> Any:
    """Every account, searchable by email."""
    search = request.args.get("q", "")[:100]
    page = queries.list_users(
        db.session, search=search, page=request.args.get("page", 1, type=int) or 1
    )
    return render_template("admin/users.html", page=page, search=search, role_label=role_label)


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
def new_user() -> Any:
    """Create an account; without a password the user gets an invitation by email."""
    form = NewUserForm()
    form.cooperative_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(cooperative_id, name)
        for cooperative_id, name in queries.cooperative_choices(db.session)
    ]
    if form.validate_on_submit():
        roles = {Role(value) for value in form.roles.data}
        cooperative_id = form.cooperative_id.data or None
        try:
            if form.password.data:
                user = accounts.create_user(
                    db.session,
                    actor=current_actor(),
                    new_user=NewUser(
                        email=form.email.data,
                        full_name=form.full_name.data,
                        password_hash=hash_password(form.password.data),
                    ),
                    roles=roles,
                    cooperative_id=cooperative_id,
                )
            elif cooperative_id and roles == {Role.APPLICANT}:
                cooperative = db.session.get(Cooperative, cooperative_id)
                user = cooperatives.invite_representative(
                    db.session,
                    actor=current_actor(),
                    cooperative_id=cooperative_id,
                    email=form.email.data,
                    full_name=form.full_name.data,
                    invitation=emails.invitation(cooperative),
                )
            else:
                user = accounts.create_user(
                    db.session,
                    actor=current_actor(),
                    new_user=NewUser(
                        email=form.email.data, full_name=form.full_name.data, password_hash=None
                    ),
                    roles=roles,
                    cooperative_id=cooperative_id,
                )
                flash(
                    _(
                        "No password was set: the user can choose one with "
                        "“Forgot your password?” on the sign-in page."
                    ),
                    "info",
                )
        except LoanFundError as error:
            flash_problems(error)
        else:
            flash(_("The account %(email)s was created.", email=user.email), "success")
            return redirect(url_for(".users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
def edit_user(user_id: int) -> Any:
    """Change a user's name, roles and whether they may sign in."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = EditUserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.roles.data = sorted(user.role_names)
    if form.validate_on_submit():
        try:
            accounts.update_user(
                db.session,
                actor=current_actor(),
                user_id=user.id,
                full_name=form.full_name.data,
                roles={Role(value) for value in form.roles.data},
                active=form.active.data,
            )
        except LoanFundError as error:
            flash_problems(error)
        else:
            flash(_("The account %(email)s was saved.", email=user.email), "success")
            return redirect(url_for(".users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/settings", methods=["GET", "POST"])
@permission_required(Permission.VIEW_SETTINGS)
def settings() -> Any:
    """The fund's name, time zone and policy parameters (editable by administrators)."""
    actor = current_actor()
    fund = current_fund()
    form = settings_form_class()(data=None if request.method == "POST" else _settings_data(fund))
    if request.method == "POST":
        if not actor.can(Permission.MANAGE_SETTINGS):
            abort(403)
        if form.validate_on_submit():
            values = {spec.key: str(form[spec.key].data) for spec in PARAMETERS}
            try:
                changed = update_fund_settings(
                    db.session,
                    actor=actor,
                    fund_name=form.fund_name.data,
                    timezone=form.fund_timezone.data,
                    policy_values=values,
                    currency_digits=fund_digits(),
                )
            except LoanFundError as error:
                flash_problems(error)
            else:
                if changed:
                    flash(_("Settings saved (%(count)s changed).", count=len(changed)), "success")
                else:
                    flash(_("Nothing was changed."), "info")
                return redirect(url_for(".settings"))
    groups: dict[str, list] = {}
    for spec in PARAMETERS:
        groups.setdefault(spec.group, []).append(form[spec.key])
    return render_template(
        "admin/settings.html",
        form=form,
        fund=fund,
        groups=groups,
        can_edit=actor.can(Permission.MANAGE_SETTINGS),
        timezones=sorted(zoneinfo.available_timezones()),
        parameter_label=parameter_label,
        choice_label=choice_label,
        Kind=Kind,
    )


def _settings_data(fund: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"fund_name": fund.name, "fund_timezone": fund.timezone}
    for spec in PARAMETERS:
        data[spec.key] = getattr(fund.policy, spec.key)
    return data


@bp.get("/jobs")
@permission_required(Permission.VIEW_AUDIT_LOG)
def jobs() -> Any:
    """The scheduled jobs' history: each run with its business date, times, counts and
    errors, and the business dates closed."""
    return render_template(
        "admin/jobs.html",
        runs=recent_runs(db.session),
        days=db.session.query(BusinessDay)
        .order_by(BusinessDay.business_date.desc())
        .limit(40)
        .all(),
    )


@bp.get("/audit")
@permission_required(Permission.VIEW_AUDIT_LOG)
def audit() -> Any:
    """The audit log, newest first, with filters."""
    form = AuditFilterForm(request.args)
    form.validate()
    zone = zoneinfo.ZoneInfo(current_app.config["LOANFUND"]["FUND_TIMEZONE"])

    def start_of(day: dt.date | None) -> dt.datetime | None:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone) if day else None

    cooperative_text = (form.cooperative_id.data or "").strip()
    cooperative_id = (
        int(cooperative_text) if cooperative_text.isdigit() and len(cooperative_text) < 12 else None
    )
    date_from = form.date_from.data if not form.date_from.errors else None
    date_to = form.date_to.data if not form.date_to.errors else None
    page = queries.list_audit_events(
        db.session,
        action=(form.action.data or "").strip(),
        actor=(form.actor.data or "").strip(),
        entity=(form.entity.data or "").strip(),
        cooperative_id=cooperative_id,
        since=start_of(date_from),
        until=start_of(date_to + dt.timedelta(days=1)) if date_to else None,
        page=request.args.get("page", 1, type=int) or 1,
    )
    args = {key: value for key, value in request.args.items() if key != "page"}
    return render_template("admin/audit.html", form=form, page=page, args=args)


@bp.get("/outbox")
@permission_required(Permission.VIEW_OUTBOX)
def outbox() -> Any:
    """Emails written by the system, sent or waiting for an SMTP server."""
    page = queries.list_outbox(db.session, page=request.args.get("page", 1, type=int) or 1)
    return render_template(
        "admin/outbox.html",
        page=page,
        smtp_configured=bool(current_app.config["LOANFUND"]["MAIL_SERVER"]),
    )


@bp.get("/outbox/<int:message_id>")
@permission_required(Permission.VIEW_OUTBOX)
def outbox_message(message_id: int) -> Any:
    """One email as it will be (or was) sent."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return render_template("admin/outbox_message.html", message=message)
