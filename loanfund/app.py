"""The application factory."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from loanfund import config as config_module
from loanfund.config import (
    PROJECT_ROOT,
    ConfigError,
    check_settings,
    currency_digits,
    load_settings,
)
from loanfund.models import db
from loanfund.models.types import configure_money

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def _flask_config(settings: dict[str, Any], instance_path: Path) -> dict[str, Any]:
    """Flask, extension and Flask-Security keys derived from our settings."""
    production = settings["ENV"] == "production"
    database_url = settings["DATABASE_URL"] or (f"sqlite:///{instance_path / 'loanfund.sqlite3'}")
    engine_options: dict[str, Any] = {"echo": settings["SQL_ECHO"]}
    if database_url.startswith("sqlite"):
        engine_options["connect_args"] = {"timeout": settings["SQLITE_BUSY_TIMEOUT_MS"] / 1000}
    else:
        engine_options["pool_pre_ping"] = True
    return {
        "LOANFUND": settings,
        "SECRET_KEY": settings["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "MAX_CONTENT_LENGTH": settings["MAX_CONTENT_LENGTH_MB"] * 1024 * 1024,
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(minutes=settings["SESSION_LIFETIME_MINUTES"]),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WTF_CSRF_TIME_LIMIT": None,  # valid for the session: a long form is never lost
        "BABEL_TRANSLATION_DIRECTORIES": str(TRANSLATIONS_DIR),
        "BABEL_DEFAULT_LOCALE": settings["DEFAULT_LOCALE"],
        "BABEL_DEFAULT_TIMEZONE": settings["FUND_TIMEZONE"],
        "RATELIMIT_STORAGE_URI": settings["RATE_LIMIT_STORAGE_URI"],
        "RATELIMIT_ENABLED": True,  # per app: the limiter object itself is shared
        "RATELIMIT_HEADERS_ENABLED": False,
        # A moving window counts every attempt of the last minute/hour: a fixed window would let
        # an attacker double the rate across a window boundary (and made the throttle flaky).
        "RATELIMIT_STRATEGY": "moving-window",
        # Flask-Security
        "SECURITY_PASSWORD_SALT": settings["SECURITY_PASSWORD_SALT"],
        "SECURITY_PASSWORD_HASH": "argon2",  # an algorithm's name  # nosec B105
        "SECURITY_PASSWORD_LENGTH_MIN": 10,  # a length  # nosec B105
        "SECURITY_PASSWORD_CHECK_BREACHED": None,  # a switch  # nosec B105
        "SECURITY_REGISTERABLE": False,
        "SECURITY_CONFIRMABLE": False,
        "SECURITY_RECOVERABLE": True,
        "SECURITY_CHANGEABLE": True,
        "SECURITY_TRACKABLE": True,
        "SECURITY_TWO_FACTOR": True,
        "SECURITY_TWO_FACTOR_ENABLED_METHODS": ["authenticator"],
        "SECURITY_TWO_FACTOR_REQUIRED": False,
        "SECURITY_TOTP_SECRETS": {"1": settings["TOTP_SECRET"]},
        "SECURITY_TOTP_ISSUER": "loanfund",
        "SECURITY_RETURN_GENERIC_RESPONSES": True,
        "SECURITY_EMAIL_SENDER": settings["MAIL_DEFAULT_SENDER"],
        "SECURITY_POST_LOGIN_VIEW": "main.home",
        "SECURITY_POST_LOGOUT_VIEW": "main.index",
        "SECURITY_I18N_DIRNAME": ["builtin", str(TRANSLATIONS_DIR)],
        "SECURITY_USE_VERIFY_PASSWORD_CSRF": True,  # a switch  # nosec B105
        "SECURITY_URL_PREFIX": "/account",
        "SECURITY_FLASH_MESSAGES": True,
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES": False,
        "SECURITY_USERNAME_ENABLE": False,
        "SECURITY_ANONYMOUS_USER_DISABLED": False,
        # Accounts are made through our services (audited), not Flask-Security's CLI.
        "SECURITY_CLI_USERS_NAME": False,
        "SECURITY_CLI_ROLES_NAME": False,
    }


def _configure_sqlite(app: Flask) -> None:
    """WAL, enforced foreign keys and a busy timeout on every SQLite connection."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(
                f"PRAGMA busy_timeout={int(app.config['LOANFUND']['SQLITE_BUSY_TIMEOUT_MS'])}"
            )
            cursor.close()

    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", on_connect)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application.

    Args:
        test_config: settings that override files and environment (tests, the CLI).

    Raises:
        ConfigError: the settings cannot be used (e.g. production with default secrets).
    """
    settings = load_settings(overrides=test_config)
    problems = check_settings(settings)
    if problems:
        raise ConfigError("Cannot start loanfund:\n- " + "\n- ".join(problems))

    instance_path = PROJECT_ROOT / "instance"
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(_flask_config(settings, instance_path))
    app.config["TESTING"] = bool(settings.get("TESTING", False))
    app.debug = False
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        instance_path.mkdir(parents=True, exist_ok=True)
    configure_money(currency_digits(settings["FUND_CURRENCY"]))

    db.init_app(app)
    _configure_sqlite(app)

    from loanfund.web import init_web

    init_web(app)
    # Jobs render notice emails with the web layer's templates, in each reader's language.
    from loanfund.web.emails import notice_email

    app.extensions["loanfund_notice_email"] = notice_email

    from loanfund.cli import register_commands

    register_commands(app)
    from loanfund.jobs.commands import register_job_commands

    register_job_commands(app)
    log.debug("loanfund app created (%s)", config_module.__name__)
    return app


__all__ = ["ConfigError", "create_app"]
