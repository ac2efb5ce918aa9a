"""The ``loanfund`` command: database, users, the demo fund, the production server, checks,
repayment schedules."""

from __future__ import annotations

import csv
import getpass
import io
import json
import sys
from decimal import Decimal
from typing import IO, Any

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

    from loanfund.config import upload_dir
    from loanfund.models import db
    from loanfund.services.demo import database_is_empty, load_demo_fund
    from loanfund.services.demo_data import DEMO_PASSWORD, FUND_NAME
    from loanfund.services.file_store import FileStore
    from loanfund.web.clock import fund_today

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config["LOANFUND"]
    upgrade()
    if database_is_empty(db.session):
        _initialize(app, fund_name=FUND_NAME)
        with app.test_request_context():
            logins = load_demo_fund(
                db.session,
                hash_password=hash_password,
                today=fund_today(),
                store=FileStore(upload_dir(settings)),
            )
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
    start_scheduler = app.extensions.get("loanfund_background_scheduler")
    if settings["SCHEDULER_IN_DEMO"] and start_scheduler is not None:
        start_scheduler(app)
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


class BadInput(click.ClickException):
    """Input the command cannot use: printed as ``Error: …`` on stderr, exit status 2."""

    exit_code = 2


#: Columns of ``loanfund schedule``'s table, as (key in the JSON output, heading).
_SCHEDULE_COLUMNS = (
    ("n", "#"),
    ("due_on", "Due on"),
    ("days", "Days"),
    ("principal", "Principal"),
    ("interest", "Interest"),
    ("total", "Total"),
    ("outstanding", "Outstanding"),
)
_MONEY_KEYS = frozenset({"principal", "interest", "total", "outstanding"})


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise BadInput(f"The loan terms give {key!r} more than once.")
        seen[key] = value
    return seen


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number"


#: JSON numbers longer than this, or further from 1 than 10 to this power, are passed on as their
#: text, which the engine refuses quoting it (no term needs them; they would overflow).
_MAX_NUMBER_SIZE = 40


def _json_int(text: str) -> int | str:
    return int(text) if len(text) <= _MAX_NUMBER_SIZE else text


def _json_decimal(text: str) -> Decimal | str:
    """A JSON number with a fraction or an exponent, as the exact decimal it spells."""
    value = Decimal(text)
    if len(text) > _MAX_NUMBER_SIZE or abs(value.adjusted()) > _MAX_NUMBER_SIZE:
        return text
    return value


def _source_name(source: IO[bytes]) -> str:
    """The file's name for messages, or "standard input"."""
    name = getattr(source, "name", None)
    return name if isinstance(name, str) and name != "<stdin>" else "standard input"


def _read_terms_json(source: IO[bytes]) -> dict[str, Any]:
    """The JSON object in ``source``; numbers are read as exact decimals, never floats."""
    name = _source_name(source)
    try:
        raw = source.read()
    except OSError as error:
        raise BadInput(
            f"Cannot read the loan terms in {name}: {error.strerror or error}."
        ) from None
    if not raw.strip():
        raise BadInput(f"No loan terms in {name}: it is empty. Give the terms as a JSON object.")
    try:
        data = json.loads(
            raw,
            parse_int=_json_int,
            parse_float=_json_decimal,  # 5.13 stays exactly 5.13
            parse_constant=Decimal,  # NaN and Infinity become non-finite decimals, refused later
            object_pairs_hook=_refuse_duplicate_keys,
        )
    except UnicodeDecodeError:
        raise BadInput(f"Cannot read the loan terms in {name}: it is not UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise BadInput(
            f"Cannot read the loan terms in {name}: not valid JSON ({error.msg} at line "
            f"{error.lineno}, column {error.colno})."
        ) from None
    except RecursionError:
        raise BadInput(f"Cannot read the loan terms in {name}: nested too deeply.") from None
    if not isinstance(data, dict):
        raise BadInput(
            "The loan terms must be a JSON object such as "
            f'{{"principal": "1000000", ...}}, not {_json_kind(data)}.'
        )
    return data


def _table_lines(data: dict[str, Any]) -> list[str]:
    """The schedule as a text table: right-justified columns, a rule, the totals row."""

    def cell(key: str, value: Any) -> str:
        return format(Decimal(value), ",") if key in _MONEY_KEYS else str(value)

    rows = [
        [cell(key, row[key]) for key, _heading in _SCHEDULE_COLUMNS] for row in data["installments"]
    ]
    totals = data["totals"]
    total_row = (
        ["Total", "", ""]
        + [cell(key, totals[key]) for key in ("principal", "interest", "total")]
        + [""]
    )
    headings = [heading for _key, heading in _SCHEDULE_COLUMNS]
    widths = [
        max(len(line[i]) for line in [headings, total_row, *rows]) for i in range(len(headings))
    ]

    def line(cells: list[str]) -> str:
        cells_text = (text.rjust(width) for text, width in zip(cells, widths, strict=True))
        return "  ".join(cells_text).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return [line(headings), rule, *(line(row) for row in rows), rule, line(total_row)]


def _csv_text(data: dict[str, Any]) -> str:
    """The schedule as CSV: a header of the JSON keys, one row per installment, the totals."""
    out = io.StringIO()
    keys = [key for key, _heading in _SCHEDULE_COLUMNS]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(keys)
    for row in data["installments"]:
        writer.writerow([row[key] for key in keys])
    totals = data["totals"]
    writer.writerow(["total", "", "", totals["principal"], totals["interest"], totals["total"], ""])
    return out.getvalue()


@click.command("schedule")
@click.argument("file", type=click.File("rb"), default="-")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "table", "csv"]),
    default="json",
    show_default=True,
    help="Output: JSON, an aligned text table, or CSV.",
)
@with_appcontext
def schedule_command(file: IO[bytes], output_format: str) -> None:
    """Print the repayment schedule of loan terms given as JSON in FILE (default: stdin).

    The terms are the engine's (loanfund/domain/schedule.py): principal, annual_rate_pct,
    installments and disbursed_on are required; currency_digits defaults to FUND_CURRENCY's.
    Bad input exits with status 2 and lists every problem.
    """
    from loanfund.config import currency_digits
    from loanfund.domain.errors import LoanFundError, RuleViolation
    from loanfund.domain.schedule import build_schedule, parse_terms, to_json_dict

    if _source_name(file) == "standard input" and file.isatty():
        click.echo("Reading the loan terms (JSON) from standard input; end with Ctrl+D.", err=True)
    data = _read_terms_json(file)
    default_digits = currency_digits(current_app.config["LOANFUND"]["FUND_CURRENCY"])
    try:
        terms = parse_terms(data, default_currency_digits=default_digits)
        schedule = build_schedule(terms)
    except RuleViolation as error:
        problems = "\n".join(f"- {problem}" for problem in error.problems)
        raise BadInput(f"The loan terms cannot make a schedule:\n{problems}") from None
    except LoanFundError as error:
        raise BadInput(str(error)) from None
    result = to_json_dict(schedule, terms.currency_digits)
    if output_format == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    elif output_format == "table":
        click.echo("\n".join(_table_lines(result)))
    else:
        click.echo(_csv_text(result), nl=False)


@click.group("report")
def report_group() -> None:
    """Periodic reports on the fund."""


@report_group.command("position")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--as-of", "as_of", default=None, help="Business date (YYYY-MM-DD); default today.")
@with_appcontext
def report_position_command(as_json: bool, as_of: str | None) -> None:
    """The fund's position: capital, cash, commitments, what it can lend, and applications by
    status."""
    import datetime as dt

    from loanfund.config import currency_digits
    from loanfund.models import db
    from loanfund.queries.applications import count_by_status, decision_times
    from loanfund.queries.dashboard import as_json as dashboard_json
    from loanfund.queries.dashboard import dashboard
    from loanfund.queries.ledger import fund_position
    from loanfund.queries.loans import count_by_status as count_loans_by_status
    from loanfund.queries.settings import fund_settings
    from loanfund.web.clock import fund_today

    try:
        day = dt.date.fromisoformat(as_of) if as_of else fund_today()
    except ValueError:
        raise BadInput(f"--as-of must be a date like 2026-11-23, not {as_of!r}.") from None
    problems = _database_problems(current_app._get_current_object())  # type: ignore[attr-defined]
    if problems:
        raise click.ClickException(" ".join(problems))
    digits = currency_digits(current_app.config["LOANFUND"]["FUND_CURRENCY"])
    policy = fund_settings(db.session, currency_digits=digits).policy
    position = fund_position(db.session, as_of=day, reserve=policy.min_liquidity_reserve)
    money = {
        "capital": position.capital,
        "cash": position.cash,
        "loans_outstanding": position.loans_outstanding,
        "cumulative_disbursed": position.cumulative_disbursed,
        "commitments": position.commitments,
        "reserve": position.reserve,
        "available_to_lend": position.available_to_lend,
    }
    times = decision_times(db.session, today=day, policy=policy)
    board = dashboard(db.session, as_of=day, policy=policy)
    report = {
        "as_of": day.isoformat(),
        "currency": current_app.config["LOANFUND"]["FUND_CURRENCY"],
        "fund": {key: str(value) for key, value in money.items()},
        "applications": count_by_status(db.session),
        "loans": count_loans_by_status(db.session),
        "decisions": {
            "decided": times.decided,
            "average_working_days": None
            if times.average_working_days is None
            else str(times.average_working_days),
            "longest_working_days": times.longest_working_days,
            "late_now": times.late_open,
        },
        # The dashboard's figures, exactly as the page shows them.
        "dashboard": dashboard_json(board),
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"Fund position on {report['as_of']} ({report['currency']})")
    for key, value in money.items():
        click.echo(f"  {key.replace('_', ' '):<20}{format(value, ','):>24}")
    click.echo("Applications by status")
    for status, count in report["applications"].items():
        click.echo(f"  {status.replace('_', ' '):<20}{count:>24}")
    click.echo("Loans by status")
    for status, count in report["loans"].items():
        click.echo(f"  {status.replace('_', ' '):<20}{count:>24}")
    click.echo("Decision times (working days from submission to decision)")
    for key, value in report["decisions"].items():
        shown = "-" if value is None else str(value)
        click.echo(f"  {key.replace('_', ' '):<20}{shown:>24}")


@click.group("export")
def export_group() -> None:
    """Excel ledgers."""


@export_group.command("portfolio")
@click.option("--as-of", "as_of", default=None, help="Business date (YYYY-MM-DD); default today.")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="The .xlsx file."
)
@with_appcontext
def export_portfolio_command(as_of: str | None, out: str) -> None:
    """The portfolio ledger as of a date: one row per loan, with a totals row."""
    import datetime as dt

    from loanfund.config import currency_digits
    from loanfund.exports.portfolio import ledger_words, write_portfolio_ledger
    from loanfund.models import db
    from loanfund.queries.settings import fund_settings
    from loanfund.services.portfolio import portfolio_rows
    from loanfund.web.clock import fund_today

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        day = dt.date.fromisoformat(as_of) if as_of else fund_today()
    except ValueError:
        raise BadInput(f"--as-of must be a date like 2026-11-23, not {as_of!r}.") from None
    digits = currency_digits(app.config["LOANFUND"]["FUND_CURRENCY"])
    with app.test_request_context():
        fund = fund_settings(db.session, currency_digits=digits)
        totals = write_portfolio_ledger(
            out,
            portfolio_rows(db.session, as_of=day),
            fund_name=fund.name,
            as_of=day,
            digits=digits,
            describe=ledger_words(),
        )
    click.echo(f"Wrote {out}: principal outstanding {format(totals['outstanding'], ',')}.")


@export_group.command("loan")
@click.argument("loan_no")
@click.option("--as-of", "as_of", default=None, help="Business date (YYYY-MM-DD); default today.")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="The .xlsx file."
)
@with_appcontext
def export_loan_command(loan_no: str, as_of: str | None, out: str) -> None:
    """A loan's ledger: terms, schedule (paid and left per installment), transactions."""
    import datetime as dt

    from sqlalchemy import select

    from loanfund.config import currency_digits
    from loanfund.domain.loans import LoanStatus, loan_status_label
    from loanfund.exports.loan_ledger import write_loan_ledger
    from loanfund.models import Loan, db
    from loanfund.queries.settings import fund_settings
    from loanfund.services.portfolio import loan_ledger
    from loanfund.web.clock import fund_today

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        day = dt.date.fromisoformat(as_of) if as_of else fund_today()
    except ValueError:
        raise BadInput(f"--as-of must be a date like 2026-11-23, not {as_of!r}.") from None
    loan = db.session.scalar(select(Loan).where(Loan.contract_no == loan_no))
    if loan is None or not loan.schedules:
        raise BadInput(f"No loan {loan_no!r} with money paid out.")
    digits = currency_digits(app.config["LOANFUND"]["FUND_CURRENCY"])
    with app.test_request_context():
        write_loan_ledger(
            out,
            loan_ledger(db.session, loan, as_of=day),
            fund_name=fund_settings(db.session, currency_digits=digits).name,
            as_of=day,
            digits=digits,
            status_words=lambda code: loan_status_label(LoanStatus(code)),
        )
    click.echo(f"Wrote {out}.")


def _period_options(function: Any) -> Any:
    function = click.option("--out", "out", required=True, type=click.Path(dir_okay=False))(
        function
    )
    function = click.option("--to", "date_to", required=True, help="Last day (YYYY-MM-DD).")(
        function
    )
    return click.option("--from", "date_from", required=True, help="First day (YYYY-MM-DD).")(
        function
    )


def _period(date_from: str, date_to: str) -> tuple[Any, Any]:
    import datetime as dt

    try:
        start, end = dt.date.fromisoformat(date_from), dt.date.fromisoformat(date_to)
    except ValueError:
        raise BadInput("--from and --to must be dates like 2026-11-23.") from None
    if end < start:
        raise BadInput(f"--to ({end}) is before --from ({start}).")
    return start, end


def _write_register(kind: str, date_from: str, date_to: str, out: str) -> dict[str, Any]:
    from loanfund.config import currency_digits
    from loanfund.exports import registers as exports
    from loanfund.models import db
    from loanfund.queries import ledger as ledger_queries
    from loanfund.queries import registers
    from loanfund.queries.settings import fund_settings

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    start, end = _period(date_from, date_to)
    digits = currency_digits(app.config["LOANFUND"]["FUND_CURRENCY"])
    with app.test_request_context():
        fund = fund_settings(db.session, currency_digits=digits)
        common = {"fund_name": fund.name, "date_from": start, "date_to": end, "digits": digits}
        if kind == "disbursements":
            rows = registers.disbursement_rows(db.session, date_from=start, date_to=end)
            return exports.write_disbursement_register(out, rows, **common)
        if kind == "repayments":
            rows = registers.repayment_rows(db.session, date_from=start, date_to=end)
            return exports.write_repayment_register(out, rows, **common)
        if kind == "inspections":
            rows = registers.inspection_rows(db.session, date_from=start, date_to=end)
            return exports.write_inspection_register(out, rows, **common)
        trial = ledger_queries.trial_balance(db.session, date_from=start, date_to=end)
        rows = registers.journal_rows(db.session, date_from=start, date_to=end)
        return exports.write_journal(
            out, rows, trial, account_code=fund.policy.account_code, **common
        )


@export_group.command("disbursements")
@_period_options
@with_appcontext
def export_disbursements_command(date_from: str, date_to: str, out: str) -> None:
    """The disbursement register for a period."""
    totals = _write_register("disbursements", date_from, date_to, out)
    click.echo(f"Wrote {out}: disbursed {format(totals['amount'], ',')}.")


@export_group.command("repayments")
@_period_options
@with_appcontext
def export_repayments_command(date_from: str, date_to: str, out: str) -> None:
    """The repayment register for a period, split into principal, interest and penalty."""
    totals = _write_register("repayments", date_from, date_to, out)
    click.echo(f"Wrote {out}: received {format(totals['amount'], ',')}.")


@export_group.command("inspections")
@_period_options
@with_appcontext
def export_inspections_command(date_from: str, date_to: str, out: str) -> None:
    """The inspection register for a period: visits, verdicts, verified use, follow-ups."""
    _write_register("inspections", date_from, date_to, out)
    click.echo(f"Wrote {out}.")


@export_group.command("journal")
@_period_options
@with_appcontext
def export_journal_command(date_from: str, date_to: str, out: str) -> None:
    """The fund's journal and trial balance for a period."""
    totals = _write_register("journal", date_from, date_to, out)
    click.echo(f"Wrote {out}: debits {format(totals['debit'], ',')} = credits.")


@export_group.command("lending-report")
@click.option(
    "--period",
    "period",
    required=True,
    help="A half-year (2025-H1 or 2025-H2) or a calendar year (2025).",
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="The .xlsx file."
)
@with_appcontext
def export_lending_report_command(period: str, out: str) -> None:
    """The semi-annual or annual lending report: the portfolio by debt group, sector,
    borrower type and priority category, disbursed and collected, provisions, inspections
    and the cooperatives financed."""
    from loanfund.config import currency_digits
    from loanfund.domain.errors import RuleViolation
    from loanfund.domain.reporting import ReportPeriod
    from loanfund.exports.lending_report import write_lending_report
    from loanfund.models import db
    from loanfund.queries.settings import fund_settings
    from loanfund.services.lending_report import lending_report
    from loanfund.web.clock import fund_today

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    digits = currency_digits(app.config["LOANFUND"]["FUND_CURRENCY"])
    with app.test_request_context():
        try:
            report = lending_report(
                db.session, period=ReportPeriod.parse(period), today=fund_today()
            )
        except RuleViolation as error:
            raise BadInput(f"--period: {error}") from None
        fund = fund_settings(db.session, currency_digits=digits)
        write_lending_report(out, report, fund_name=fund.name, digits=digits)
    click.echo(
        f"Wrote {out}: {report.period.code} as of {report.as_of.isoformat()}, principal "
        f"outstanding {format(report.summary['outstanding'], ',')}."
    )


def register_commands(app: Flask) -> None:
    for command in (
        create_user_command,
        demo_command,
        serve_command,
        check_command,
        schedule_command,
        report_group,
        export_group,
    ):
        app.cli.add_command(command)
    # Imported here: the backup commands run this module's position report.
    from loanfund.backup_commands import backup_group
    from loanfund.bench.commands import bench_group
    from loanfund.db_roles import grant_app_role_command

    app.cli.add_command(backup_group)
    app.cli.add_command(grant_app_role_command)
    app.cli.add_command(bench_group)


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
