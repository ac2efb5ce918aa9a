"""``loanfund backup``: back up the database and the uploaded files, check a backup, restore it.

The work is done by :mod:`loanfund.services.backup`; these commands read the settings, the
schema revision and the fund's figures (by running ``loanfund report position --json``, so the
manifest holds exactly what that report prints) and print the outcome in plain words.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from loanfund.domain.i18n import _


def utc_now() -> dt.datetime:
    """The time a backup is made (tests replace it)."""
    return dt.datetime.now(dt.UTC)


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _schema_revisions(app: Flask) -> tuple[list[str], list[str]]:
    """The database's schema revisions and the ones this version of loanfund expects."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from loanfund.models import db

    with db.engine.connect() as connection:
        current = sorted(MigrationContext.configure(connection).get_current_heads())
    config = app.extensions["migrate"].migrate.get_config()
    return current, sorted(ScriptDirectory.from_config(config).get_heads())


def _position_figures(as_of: str) -> dict[str, Any]:
    """What ``loanfund report position --json --as-of AS_OF`` prints, parsed."""
    from loanfund.cli import report_position_command
    from loanfund.models import db

    db.session.remove()  # read the database as it is now, with no cached rows
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        click.get_current_context().invoke(report_position_command, as_json=True, as_of=as_of)
    db.session.remove()
    return json.loads(printed.getvalue())


def _fail(problem: Any) -> None:
    for line in problem.problems:
        click.echo(_("Problem: %(problem)s", problem=line), err=True)
    raise SystemExit(1)


@click.group("backup")
def backup_group() -> None:
    """Back up the database and uploaded files; check or restore a backup."""


@backup_group.command("create")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to put the backup folder in.",
)
@click.option(
    "--as-of", "as_of", default=None, help="Business date of the figures (default today)."
)
@with_appcontext
def create_command(out: Path, as_of: str | None) -> None:
    """Back up the database, the uploaded files and the fund's figures into a new folder."""
    from loanfund import __version__
    from loanfund.config import upload_dir
    from loanfund.models import db
    from loanfund.services.backup import BackupProblem, create_backup
    from loanfund.web.clock import fund_today

    app = _app()
    day = as_of or fund_today().isoformat()
    current, expected = _schema_revisions(app)
    if current != expected or len(current) != 1:
        raise click.ClickException(
            _(
                "The database is at schema revision %(current)s, not %(expected)s: run "
                "`loanfund db upgrade` first.",
                current=", ".join(current) or "-",
                expected=", ".join(expected),
            )
        )
    try:
        made = create_backup(
            db.engine,
            out_dir=out,
            upload_root=upload_dir(app.config["LOANFUND"]),
            figures=lambda: _position_figures(day),
            revision=current[0],
            app_version=__version__,
            now=utc_now(),
        )
    except BackupProblem as problem:
        _fail(problem)
        return
    fund = made.figures["fund"]
    click.echo(_("Backup written to %(path)s", path=str(made.path)))
    click.echo(
        "  "
        + _(
            "database: %(bytes)s bytes; uploaded files: %(count)s (%(upload_bytes)s bytes)",
            bytes=made.database_bytes,
            count=made.upload_count,
            upload_bytes=made.upload_bytes,
        )
    )
    click.echo(
        "  "
        + _(
            "figures on %(as_of)s (%(currency)s): capital %(capital)s, cash %(cash)s, loans "
            "outstanding %(loans)s",
            as_of=made.figures["as_of"],
            currency=made.figures["currency"],
            capital=fund["capital"],
            cash=fund["cash"],
            loans=fund["loans_outstanding"],
        )
    )
    click.echo(_("Check it with: loanfund backup verify %(path)s", path=str(made.path)))


@backup_group.command("verify")
@click.argument("path", type=click.Path(path_type=Path))
def verify_command(path: Path) -> None:
    """Check a backup: manifest, every file's checksum, and that the database copy reads."""
    from loanfund.services.backup import BackupProblem, verify_backup

    try:
        checked = verify_backup(path)
    except BackupProblem as problem:
        click.echo(_("The backup at %(path)s is damaged or incomplete.", path=str(path)), err=True)
        _fail(problem)
        return
    for line in checked:
        click.echo(_("Checked %(what)s", what=line))
    click.echo(_("The backup at %(path)s is sound.", path=str(path)))


@backup_group.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def restore_command(path: Path) -> None:
    """Restore a backup into an empty database and upload folder, then prove its figures."""
    from loanfund.config import upload_dir
    from loanfund.models import db
    from loanfund.services.backup import (
        BackupProblem,
        PartlyRestored,
        figure_differences,
        restore_backup,
    )

    app = _app()
    upload_root = upload_dir(app.config["LOANFUND"])
    _current, expected = _schema_revisions(app)
    try:
        restored = restore_backup(
            db.engine,
            backup_dir=path,
            upload_root=upload_root,
            expected_revision=expected[0],
        )
    except BackupProblem as problem:
        if not isinstance(problem, PartlyRestored):
            click.echo(_("Nothing was restored from %(path)s.", path=str(path)), err=True)
        _fail(problem)
        return
    click.echo(
        _(
            "Restored the database and %(count)s uploaded files (%(bytes)s bytes) into %(folder)s.",
            count=restored.upload_count,
            bytes=restored.upload_bytes,
            folder=str(upload_root),
        )
    )
    expected_figures = restored.manifest["figures"]
    actual = _position_figures(expected_figures["as_of"])
    differences = figure_differences(expected_figures, actual)
    if differences:
        click.echo(
            _(
                "The restored fund does NOT show the backup's figures on %(as_of)s (%(count)s "
                "differ):",
                as_of=expected_figures["as_of"],
                count=len(differences),
            ),
            err=True,
        )
        for line in differences:
            click.echo(f"  {line}", err=True)
        raise SystemExit(1)
    fund = actual["fund"]
    click.echo(
        _(
            "Every figure on %(as_of)s matches the backup: capital %(capital)s, cash "
            "%(cash)s, loans outstanding %(loans)s %(currency)s.",
            as_of=actual["as_of"],
            capital=fund["capital"],
            cash=fund["cash"],
            loans=fund["loans_outstanding"],
            currency=actual["currency"],
        )
    )
