"""The ``loanfund`` command: database, users, the demo fund, the production server, checks."""

from __future__ import annotations

import getpass
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from loanfund.config import ConfigError


def _create_app() -> Flask:
    from loanfund.app import create_app

    try:
        return create_app()
    except ConfigError as error:
        click.echo(str(error), err=True)
        sys.exit(2)


def _initialize(app: Flask, *, fund_name: str | None = None) -> None:
    from loanfund.domain.access import SYSTEM
    from loanfund.domain.errors import LoanFundError
    from loanfund.models import db
    from loanfund.services.settings import initialize_fund

    settings = app.config["LOANFUND"]
    try:
        initialize_fund(
            db.session,
            actor=SYSTEM,
            fund_name=fund_name or settings["FUND_NAME"],
            currency=settings["FUND_CURRENCY"],
            timezone=settings["FUND_TIMEZONE"],
        )
    except LoanFundError as error:
        raise click.ClickException(str(error)) from None


def _serve(app: Flask, host: str, port: int, threads: int) -> None:
    import waitress

    click.echo(f"Serving loanfund on http://{host}:{port}/ (Ctrl+C to stop)")
    waitress.serve(app, host=host, port=port, threads=threads, ident="loanfund")


@click.command("create-user")
@click.option("--email", required=True, help="Sign-in email.")
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(["applicant", "officer", "approver", "inspector", "admin", "auditor"]),
    help="A role; repeat for several.",
)
@click.option("--cooperative-id", type=int, default=None, help="For a representative.")
@click.option("--password", default=None, help="Asked for when not given.")
@with_appcontext
def create_user_command(
    email: str,
    full_name: str,
    roles: tuple[str, ...],
    cooperative_id: int | None,
    password: str | None,
) -> None:
    """Create an account (e.g. the first administrator)."""
    from flask_security import hash_password

    from loanfund.domain.access import SYSTEM
    from loanfund.domain.errors import LoanFundError
    from loanfund.domain.roles import Role
    from loanfund.models import db
    from loanfund.services.accounts import NewUser, create_user

    _initialize(current_app)
    if password is None:
        password = getpass.getpass("Password (10 characters or more): ")
    if len(password) < 10:
        raise click.ClickException("The password must have at least 10 characters.")
    try:
        user = create_user(
            db.session,
            actor=SYSTEM,
            new_user=NewUser(
                email=email, full_name=full_name, password_hash=hash_password(password)
            ),
            roles={Role(role) for role in roles},
            cooperative_id=cooperative_id,
        )
    except LoanFundError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.email} ({', '.join(sorted(roles))}).")


@click.command("demo")
@click.option("--load-only", is_flag=True, help="Migrate and load the demo fund, then stop.")
@click.option("--host", default=None, help="Address to listen on (default: HOST setting).")
@click.option("--port", type=int, default=None, help="Port (default: PORT setting).")
@with_appcontext
def demo_command(load_only: bool, host: str | None, port: int | None) -> None:
    """Migrate, load the demo fund if the database is empty, and serve it."""
    from flask_migrate import upgrade
    from flask_security import hash_password

    from loanfund.models import db
    from loanfund.services.demo import database_is_empty, load_demo_fund
    from loanfund.services.demo_data import DEMO_PASSWORD, FUND_NAME
    from loanfund.web.clock import fund_today

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config["LOANFUND"]
    upgrade()
    if database_is_empty(db.session):
        _initialize(app, fund_name=FUND_NAME)
        with app.test_request_context():
            logins = load_demo_fund(db.session, hash_password=hash_password, today=fund_today())
        click.echo("Loaded the demo fund.")
    else:
        _initialize(app)
        from loanfund.services.demo import DemoLogin
        from loanfund.services.demo_data import COOPERATIVES, STAFF

        logins = [DemoLogin(roles[0], email, name) for email, name, roles in STAFF] + [
            DemoLogin("applicant", c["representative"][0], c["name"]) for c in COOPERATIVES
        ]
        click.echo(
            "The database already has data; the demo logins below work if it is the demo fund."
        )
    click.echo("")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD})")
    for login in logins:
        click.echo(f"  {login.role:<10} {login.email:<28} {login.name}")
    if load_only:
        return
    host = host or settings["HOST"]
    port = port or settings["PORT"]
    click.echo("")
    _serve(app, host, port, settings["THREADS"])


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: HOST setting).")
@click.option("--port", type=int, default=None, help="Port (default: PORT setting).")
@click.option("--threads", type=int, default=None, help="Worker threads (default: THREADS).")
@with_appcontext
def serve_command(host: str | None, port: int | None, threads: int | None) -> None:
    """Run the production WSGI server (waitress)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    problems = _database_problems(app)
    if problems:
        raise click.ClickException("\n".join(problems))
    settings = app.config["LOANFUND"]
    _serve(app, host or settings["HOST"], port or settings["PORT"], threads or settings["THREADS"])


def _database_problems(app: Flask) -> list[str]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate
    from sqlalchemy.exc import SQLAlchemyError

    from loanfund.models import db
    from loanfund.queries.settings import stored_settings

    problems: list[str] = []
    try:
        with db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    except SQLAlchemyError as error:
        return [f"Cannot reach the database: {error.__class__.__name__}: {error}"]
    migrate: Migrate = app.extensions["migrate"].migrate
    script = ScriptDirectory.from_config(migrate.get_config())
    if set(current) != set(script.get_heads()):
        problems.append("The database is not at the latest schema: run `loanfund db upgrade`.")
        return problems
    recorded = stored_settings(db.session).get("fund_currency")
    configured = app.config["LOANFUND"]["FUND_CURRENCY"]
    if recorded and recorded != configured:
        problems.append(
            f"The database keeps amounts in {recorded} but FUND_CURRENCY is {configured}."
        )
    return problems


@click.command("check")
@with_appcontext
def check_command() -> None:
    """Check the configuration and the database; exit 1 on any problem."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config["LOANFUND"]
    click.echo(f"Mode: {settings['ENV']}")
    click.echo(f"Database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    click.echo(f"Currency: {settings['FUND_CURRENCY']}; time zone: {settings['FUND_TIMEZONE']}")
    problems = _database_problems(app)
    if not settings["MAIL_SERVER"]:
        click.echo("Note: no MAIL_SERVER; emails stay in the outbox (Administration → Outbox).")
    if problems:
        for problem in problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        sys.exit(1)
    click.echo("OK")


def register_commands(app: Flask) -> None:
    for command in (create_user_command, demo_command, serve_command, check_command):
        app.cli.add_command(command)


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def main() -> None:
    """loanfund — a revolving loan fund management system."""
