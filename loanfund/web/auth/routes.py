"""Signing up a cooperative (sign-in, sign-out and password reset are Flask-Security's)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_security import current_user, hash_password, login_user
from sqlalchemy import select

from loanfund.domain.errors import LoanFundError
from loanfund.domain.roles import Role as RoleName
from loanfund.extensions import security
from loanfund.models import Role, User, db
from loanfund.services.accounts import NewUser
from loanfund.services.cooperatives import sign_up_cooperative
from loanfund.web import emails
from loanfund.web.auth.forms import SignUpForm
from loanfund.web.clock import fund_today
from loanfund.web.messages import flash_problems

bp = Blueprint("auth", __name__)


@bp.route("/signup", methods=["GET", "POST"])
def sign_up() -> Any:
    """A cooperative's representative registers the cooperative and an account."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignUpForm()
    if form.validate_on_submit():
        staff = db.session.scalars(
            select(User.email)
            .join(User.roles)
            .where(Role.name.in_([RoleName.OFFICER.value, RoleName.ADMIN.value]), User.active)
            .distinct()
        ).all()
        try:
            _cooperative, user = sign_up_cooperative(
                db.session,
                profile=form.to_profile(),
                representative=NewUser(
                    email=form.email.data,
                    full_name=form.full_name.data,
                    password_hash=hash_password(form.password.data),
                    phone=form.contact_phone.data,
                ),
                today=fund_today(),
                staff_notice=emails.staff_signup_notice(form.name.data),
                staff_emails=tuple(staff),
            )
        except LoanFundError as error:
            flash_problems(error)
        else:
            login_user(user)
            security.datastore.commit()  # Flask-Security's own sign-in bookkeeping (trackable)
            flash(
                _(
                    "Your cooperative is registered. The fund will verify it; you can apply for "
                    "loans once it is verified."
                ),
                "success",
            )
            return redirect(url_for("main.home"))
    return render_template("auth/signup.html", form=form)
