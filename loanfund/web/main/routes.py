"""The start page, each role's home, and the language switch."""

from __future__ import annotations

import contextlib
import datetime as dt
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
from flask_babel import format_date
from flask_babel import gettext as _
from flask_security import auth_required, current_user

from loanfund.domain.access import Permission
from loanfund.domain.applications import ApplicationStatus, status_label
from loanfund.domain.errors import LoanFundError
from loanfund.domain.notifications import notice_text
from loanfund.models import Cooperative, db
from loanfund.queries import cooperatives as cooperative_queries
from loanfund.queries import dashboard as dashboard_queries
from loanfund.queries import ledger as ledger_queries
from loanfund.queries import loans as loan_queries
from loanfund.queries import notifications as notification_queries
from loanfund.services.accounts import set_quiet_emails, set_user_locale
from loanfund.services.notifications import mark_read
from loanfund.web.authz import current_actor, permission_required
from loanfund.web.clock import fund_today
from loanfund.web.figures import kept
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
        own = (
            dashboard_queries.cooperative_figures(db.session, cooperative.id, as_of=fund_today())
            if cooperative is not None
            else None
        )
        return render_template(
            "main/applicant_home.html", cooperative=cooperative, fund=current_fund(), own=own
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


@bp.get("/dashboard")
@permission_required(Permission.VIEW_STAFF_HOME)
def dashboard() -> Any:
    """The fund's figures: position and the revolving view, portfolio quality, activity and
    impact, each with its chart, its table and a link to the list behind it."""
    fund = current_fund()
    today = fund_today()
    board = kept(
        "dashboard",
        today,
        fund.policy,
        compute=lambda: dashboard_queries.dashboard(db.session, as_of=today, policy=fund.policy),
    )
    return render_template(
        "main/dashboard.html",
        board=board,
        fund=fund,
        charts=_charts(board),
        application_status_label=lambda code: status_label(ApplicationStatus(code)),
    )


def _month(year: int, month: int) -> str:
    return format_date(dt.date(year, month, 1), "MM/yyyy")


def _charts(board: dashboard_queries.Dashboard) -> dict[str, Any]:
    """What each chart draws, numbers as decimal strings (the tables beside the charts carry
    the same figures, formatted). Read by ``static/js/dashboard.js``."""
    snapshot = board.snapshot
    return {
        "groups": {
            "type": "bar",
            "labels": [_("Group %(group)s", group=group) for group in "12345"],
            "series": [
                {
                    "label": _("Outstanding principal"),
                    "data": [str(snapshot.outstanding_by_group[g]) for g in "12345"],
                }
            ]
            if snapshot
            else [],
        },
        "par": {
            "type": "line",
            "labels": [point.business_date.strftime("%d/%m/%Y") for point in board.quality],
            "percent": True,
            "series": [
                {"label": "PAR30", "data": [str(p.par30_pct) for p in board.quality]},
                {"label": "PAR90", "data": [str(p.par90_pct) for p in board.quality]},
                {"label": _("Bad debt"), "data": [str(p.bad_debt_pct) for p in board.quality]},
            ],
        },
        "flows": {
            "type": "bar",
            "labels": [_month(f.year, f.month) for f in board.flows],
            "series": [
                {"label": _("Disbursed"), "data": [str(f.disbursed) for f in board.flows]},
                {"label": _("Collected"), "data": [str(f.collected) for f in board.flows]},
            ],
        },
        "inflows": {
            "type": "bar",
            "labels": [_month(m.year, m.month) for m in board.inflows],
            "series": [
                {"label": _("Principal"), "data": [str(m.principal) for m in board.inflows]},
                {"label": _("Interest"), "data": [str(m.interest) for m in board.inflows]},
            ],
            "stacked": True,
        },
    }


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
