"""The start page, each role's home, and the language switch."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_security import auth_required, current_user

from loanfund.domain.errors import LoanFundError
from loanfund.domain.notifications import notice_text
from loanfund.models import Cooperative, db
from loanfund.queries import cooperatives as cooperative_queries
from loanfund.queries import ledger as ledger_queries
from loanfund.queries import loans as loan_queries
from loanfund.queries import notifications as notification_queries
from loanfund.services.accounts import set_quiet_emails, set_user_locale
from loanfund.services.notifications import mark_read
from loanfund.web.authz import current_actor
from loanfund.web.clock import fund_today
from loanfund.web.fund import current_fund

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Any:
    """The public start page; signed-in users go to their home."""
    if current_user.is_authenticated:
        return redirect(url_for(".home"))
    return render_template("main/index.html", fund=current_fund())


@bp.get("/home")
@auth_required("session")
def home() -> Any:
    """Each role's home: the representative's cooperative, or the staff overview."""
    actor = current_actor()
    if not actor.is_staff:
        cooperative = (
            db.session.get(Cooperative, actor.cooperative_id) if actor.cooperative_id else None
        )
        return render_template(
            "main/applicant_home.html", cooperative=cooperative, fund=current_fund()
        )
    fund = current_fund()
    return render_template(
        "main/staff_home.html",
        fund=fund,
        snapshot=loan_queries.latest_snapshot(db.session),
        position=ledger_queries.fund_position(
            db.session, as_of=fund_today(), reserve=fund.policy.min_liquidity_reserve
        ),
        counts=cooperative_queries.count_by_status(db.session),
        roles=sorted(role.value for role in actor.roles),
    )


@bp.post("/language")
def set_language() -> Any:
    """Switch the interface language (remembered for signed-in users)."""
    locale = request.form.get("locale", "")
    languages = current_app.config["LOANFUND"]["LANGUAGES"]
    if locale in languages:
        session["locale"] = locale
        if current_user.is_authenticated:
            with contextlib.suppress(LoanFundError):  # the session still carries the choice
                set_user_locale(
                    db.session, actor=current_actor(), locale=locale, languages=languages
                )
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or parts.netloc or parts.scheme or target.startswith("//"):
        target = url_for(".index")
    return redirect(target)


@bp.get("/healthz")
def healthz() -> Any:
    """Liveness for load balancers: answers without touching the database."""
    return {"status": "ok"}


@bp.get("/notifications")
@auth_required("session")
def notifications() -> Any:
    """The signed-in user's notices, newest first; opening the page marks them read."""
    actor = current_actor()
    page = notification_queries.notices_of(
        db.session, actor.user_id, page=request.args.get("page", 1, type=int) or 1
    )
    rows = [(notice, notice_text(notice.kind, notice.params)) for notice in page.items]
    if any(notice.read_at is None for notice in page.items):
        mark_read(db.session, actor=actor, notification_ids=[n.id for n in page.items])
    return render_template(
        "main/notifications.html", page=page, rows=rows, quiet=current_user.quiet_emails
    )


@bp.post("/notifications/preferences")
@auth_required("session")
def email_preferences() -> Any:
    """Turn reminder emails that are not critical off or on (the notices stay here)."""
    quiet = request.form.get("quiet") == "1"
    set_quiet_emails(db.session, actor=current_actor(), quiet=quiet)
    flash(
        _("Reminders ahead of due dates will no longer be emailed to you.")
        if quiet
        else _("Reminders ahead of due dates will be emailed to you again."),
        "success",
    )
    return redirect(url_for(".notifications"))
