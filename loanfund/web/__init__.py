"""The web layer: blueprints per area, error pages, security headers, languages.

Views are thin: access check → form validation → service call → flash → redirect.
They never commit and never compute money.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_security import SQLAlchemyUserDatastore, current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from loanfund.config import PROJECT_ROOT
from loanfund.domain.access import Permission
from loanfund.domain.errors import LoanFundError
from loanfund.domain.roles import STAFF_ROLES
from loanfund.extensions import babel, cache, csrf, limiter, migrate, security
from loanfund.models import Role, User, db
from loanfund.models.types import utcnow
from loanfund.web import formatting
from loanfund.web.figures import keep_counts
from loanfund.web.mail import OutboxMailUtil

log = logging.getLogger(__name__)

#: Content-Security-Policy: every asset is served by us; no inline script or style.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def select_locale() -> str:
    """The user's saved language, else the session's choice, else the browser's, else default."""
    languages = _languages()
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def _languages() -> list[str]:
    settings = current_app.config["LOANFUND"]
    default = settings["DEFAULT_LOCALE"]
    return [default] + [code for code in settings["LANGUAGES"] if code != default]


def select_timezone() -> str:
    return current_app.config["LOANFUND"]["FUND_TIMEZONE"]


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(self), geolocation=(self), microphone=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    if current_app.config["LOANFUND"]["HSTS"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def _register_error_handlers(app: Flask) -> None:
    def render_error(status: int, message: str | None = None) -> tuple[str, int]:
        return render_template(f"errors/{status}.html", message=message), status

    @app.errorhandler(LoanFundError)
    def loanfund_error(error: LoanFundError) -> Any:
        status = error.http_status
        if status in (403, 404):
            return render_error(status, error.message)
        return render_template("errors/problem.html", error=error), status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        code = error.code or 500
        if code in (403, 404, 405, 413, 429):
            return render_error(code)
        return render_template("errors/problem.html", error=error), code

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> Any:
        db.session.rollback()
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(500)


def _require_staff_two_factor() -> Any:
    """With REQUIRE_STAFF_2FA on, staff without an authenticator app must set one up first."""
    if not current_app.config["LOANFUND"]["REQUIRE_STAFF_2FA"]:
        return None
    if not (current_user and current_user.is_authenticated):
        return None
    if not (current_user.role_names & {role.value for role in STAFF_ROLES}):
        return None
    if current_user.tf_primary_method:
        return None
    allowed = {
        "security.two_factor_setup",
        "security.two_factor_token_validation",
        "security.logout",
        "static",
        "main.set_language",
    }
    if request.endpoint in allowed:
        return None
    flash(_l("Staff accounts must use two-factor authentication. Please set it up now."), "warning")
    return redirect(url_for("security.two_factor_setup"))


def _nav_context() -> dict[str, Any]:
    from loanfund.web.authz import current_actor

    actor = current_actor() if current_user and current_user.is_authenticated else None
    unread = 0
    if actor is not None and actor.user_id is not None:
        from loanfund.queries.notifications import unread_count

        unread = unread_count(db.session, actor.user_id)
    return {
        "actor": actor,
        "unread_notices": unread,
        "Permission": Permission,
        "languages": _languages(),
        "get_locale": get_locale,
    }


class RecordNumberConverter(IntegerConverter):
    """``<int:…>`` in a URL: a record number in ASCII digits that the database's integer keys
    can hold. A larger one names no record (404) instead of failing in the database (a server
    error); other digits ("١٢", which ``int`` reads as 12) name none either."""

    regex = r"[0-9]+"

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_web(app: Flask) -> None:
    """Bind extensions, blueprints, error pages, headers and template helpers to ``app``."""
    app.url_map.converters["int"] = RecordNumberConverter
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    csrf.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    datastore = SQLAlchemyUserDatastore(db, User, Role)
    # Flask-Security takes its mailer only in its constructor (``init_app`` ignores a
    # ``mail_util_cls``), and the extension is made unbound: without this its emails (password
    # reset, "your password was changed") went to a mailer that does not exist, a server error.
    security._mail_util_cls = OutboxMailUtil
    # An address is checked for its form only: with its domain looked up in the DNS, a reset
    # asked for without DNS (or for a domain without mail records) was dropped without a word.
    app.config.setdefault("SECURITY_EMAIL_VALIDATOR_ARGS", {"check_deliverability": False})
    security.init_app(app, datastore, datetime_factory=utcnow)
    limiter.init_app(app)
    shared = app.config["LOANFUND"]["FIGURES_CACHE_URL"]
    cache.init_app(
        app,
        config={
            # Each web process's memory, or a redis:// server several processes share.
            "CACHE_TYPE": "RedisCache" if shared else "SimpleCache",
            "CACHE_REDIS_URL": shared or None,
            "CACHE_KEY_PREFIX": "loanfund-figures:",
            # Kept at most this long even if nothing changed (the key holds the database's
            # version, so a change is seen at once: this only bounds memory).
            "CACHE_DEFAULT_TIMEOUT": 600,
            "CACHE_THRESHOLD": 500,
        },
    )

    from loanfund.web.admin.routes import bp as admin_bp
    from loanfund.web.applications.routes import bp as applications_bp
    from loanfund.web.auth.routes import bp as auth_bp
    from loanfund.web.books.routes import bp as books_bp
    from loanfund.web.calculator.routes import bp as calculator_bp
    from loanfund.web.cooperatives.routes import bp as cooperatives_bp
    from loanfund.web.exports.routes import bp as exports_bp
    from loanfund.web.inspections.routes import bp as inspections_bp
    from loanfund.web.loans.routes import bp as loans_bp
    from loanfund.web.main.routes import bp as main_bp
    from loanfund.web.products.routes import bp as products_bp

    for blueprint in (
        main_bp,
        auth_bp,
        cooperatives_bp,
        admin_bp,
        books_bp,
        products_bp,
        calculator_bp,
        applications_bp,
        loans_bp,
        inspections_bp,
        exports_bp,
    ):
        app.register_blueprint(blueprint)

    # Login throttling: Flask-Security's sign-in and password-reset views, per client address.
    login_limit = app.config["LOANFUND"]["LOGIN_RATE_LIMIT"]
    for endpoint in (
        "security.login",
        "security.forgot_password",
        "security.reset_password",
        "security.two_factor_token_validation",
        "auth.sign_up",
    ):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = limiter.limit(login_limit, methods=["POST"])(
                app.view_functions[endpoint]
            )

    _register_error_handlers(app)
    app.after_request(_security_headers)
    app.before_request(_require_staff_two_factor)
    app.before_request(keep_counts)
    app.context_processor(_nav_context)
    app.jinja_env.filters.update(
        money=formatting.money,
        number=formatting.number,
        percent=formatting.percent,
        date=formatting.date,
        datetime=formatting.datetime,
    )
    formatting.install_domain_hooks()
