"""``loanfund grant-app-role``: the privileges of the role the application connects as.

On PostgreSQL the audit log and the journal are append-only by triggers, but the owner of a
table may drop or disable its triggers. A deployment therefore runs the migrations as the
owner and the web app and the scheduler as a second role that owns nothing and holds only the
privileges below; with them, no SQL the application sends can change or delete an audit or
journal row, triggers or not.

The DBA creates that role (``CREATE ROLE … LOGIN PASSWORD …``); this command does not, so that
no password passes through a command line (shell history, the process list) and the owner
needs no CREATEROLE right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url

from loanfund.domain.i18n import _

#: The privileges the application needs on an ordinary table (and the default for new ones).
READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
#: On an append-only table: read and add rows, nothing else.
READ_INSERT = ("SELECT", "INSERT")
#: What the application role and PUBLIC must never hold on an append-only table.
FORBIDDEN_ON_APPEND_ONLY = ("UPDATE", "DELETE", "TRUNCATE")
#: Alembic's bookkeeping: the application reads it (``loanfund check``), only the owner's
#: migrations write it.
SCHEMA_VERSION_TABLE = "alembic_version"


class RoleProblem(Exception):
    """The role cannot be given the application's privileges; nothing was changed."""


@dataclass(frozen=True)
class AppRoleGrants:
    """What :func:`grant_app_role` left the role with."""

    role: str
    database: str
    schema: str
    owner: str
    read_write: tuple[str, ...]
    append_only: tuple[str, ...]
    sequences: int


def _one(cursor: Any, query: str, *params: Any) -> Any:
    cursor.execute(query, params)
    row = cursor.fetchone()
    return None if row is None else row[0]


def _column(cursor: Any, query: str, *params: Any) -> list[Any]:
    cursor.execute(query, params)
    return [row[0] for row in cursor.fetchall()]


#: Everything in the database a role may own that would let it change the append-only tables:
#: the database, the schema, and every table, view, sequence and index in it.
_OWNED_BY_ROLE = """
SELECT what FROM (
    SELECT 'database ' || quote_ident(datname) AS what, datdba AS owner
    FROM pg_database WHERE datname = current_database()
    UNION ALL
    SELECT 'schema ' || quote_ident(nspname), nspowner
    FROM pg_namespace WHERE nspname = current_schema()
    UNION ALL
    SELECT 'table ' || quote_ident(relname), relowner
    FROM pg_class WHERE relnamespace = to_regnamespace(current_schema())
) AS owned
WHERE pg_has_role(%s, owner, 'MEMBER')
ORDER BY what
"""


#: The relations of the given kinds (``r`` table, ``p`` partitioned table, ``S`` sequence)
#: in the current schema.
_RELATIONS = """
SELECT relname FROM pg_class
WHERE relnamespace = to_regnamespace(current_schema()) AND relkind::text = ANY(%s)
ORDER BY relname
"""
_TABLE_OWNER = """
SELECT pg_get_userbyid(relowner) FROM pg_class
WHERE relnamespace = to_regnamespace(current_schema()) AND relname = %s
"""
#: Which of the privileges (first parameter) on which tables (second) the role (third) holds,
#: directly, through PUBLIC or through a role it is a member of.
_STILL_HELD = """
SELECT relname, verb FROM pg_class, unnest(%s::text[]) AS verb
WHERE relnamespace = to_regnamespace(current_schema()) AND relname = ANY(%s)
    AND has_table_privilege(%s, oid, verb)
ORDER BY relname, verb
"""


def _check_role(cursor: Any, role: str) -> None:
    """Refuse a role that does not exist, is a superuser or owns (or is a member of the owner
    of) anything the append-only tables depend on."""
    is_superuser = _one(cursor, "SELECT rolsuper FROM pg_roles WHERE rolname = %s", role)
    if is_superuser is None:
        raise RoleProblem(
            _(
                "There is no role %(role)s: the DBA creates it first "
                "(CREATE ROLE … LOGIN PASSWORD …).",
                role=role,
            )
        )
    if is_superuser:
        raise RoleProblem(
            _(
                "%(role)s is a superuser, which no privilege can restrain: the application "
                "must connect as a role without superuser rights.",
                role=role,
            )
        )
    owned = _column(cursor, _OWNED_BY_ROLE, role)
    if owned:
        raise RoleProblem(
            _(
                "%(role)s owns, or is a member of the role that owns, %(owned)s (%(count)s "
                "objects): an owner can disable the triggers. The application must connect as a "
                "role that owns nothing.",
                role=role,
                owned=", ".join(owned[:3]),
                count=len(owned),
            )
        )


def _grant_statements(
    *,
    role: str,
    database: str,
    schema: str,
    owner: str,
    guarded: list[str],
    read_write: list[str],
) -> list[Any]:
    """The GRANT, REVOKE and ALTER DEFAULT PRIVILEGES statements, identifiers quoted by psycopg."""
    from psycopg import sql

    grantee = sql.Identifier(role)
    schema_id = sql.Identifier(schema)
    owner_id = sql.Identifier(owner)

    def tables_named(table_names: list[str]) -> sql.Composable:
        return sql.SQL(", ").join(sql.Identifier(schema, name) for name in table_names)

    def privileges(words: tuple[str, ...]) -> sql.Composable:
        return sql.SQL(", ".join(words))  # our constants, never input

    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), grantee),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_id, grantee),
        # Start from nothing, so that the role ends with exactly what follows.
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema_id, grantee),
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema_id, grantee),
        sql.SQL("GRANT {} ON TABLE {} TO {}").format(
            privileges(READ_INSERT), tables_named(guarded), grantee
        ),
        sql.SQL("REVOKE {} ON TABLE {} FROM PUBLIC").format(
            privileges(FORBIDDEN_ON_APPEND_ONLY), tables_named(guarded)
        ),
        sql.SQL("GRANT SELECT ON TABLE {} TO {}").format(
            tables_named([SCHEMA_VERSION_TABLE]), grantee
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
            schema_id, grantee
        ),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT {} ON TABLES TO {}"
        ).format(owner_id, schema_id, privileges(READ_WRITE), grantee),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
            "GRANT USAGE, SELECT ON SEQUENCES TO {}"
        ).format(owner_id, schema_id, grantee),
    ]
    if read_write:
        statements.append(
            sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                privileges(READ_WRITE), tables_named(read_write), grantee
            )
        )
    return statements


def grant_app_role(engine: Engine, role: str) -> AppRoleGrants:
    """Give ``role`` exactly the privileges the application needs, in one transaction.

    CONNECT on the database, USAGE on the current schema; SELECT, INSERT, UPDATE and DELETE on
    every table except the append-only ones (SELECT and INSERT only; UPDATE, DELETE and
    TRUNCATE revoked from the role and from PUBLIC) and alembic_version (SELECT); USAGE and
    SELECT on every sequence; and default privileges so that tables and sequences the owner
    creates later follow the rule for ordinary tables. Any other privilege the role held on
    these tables and sequences is revoked, so a second run changes nothing.

    Args:
        engine: a PostgreSQL engine connected as the owner of the tables (or a superuser).
        role: the existing role the web app and the scheduler connect as.

    Returns:
        What the role now holds.

    Raises:
        RoleProblem: the role is missing, a superuser or an owner, the schema is not
            migrated, or the role would still be able to change an append-only table (through
            a role it belongs to). Nothing is changed then.
    """
    import loanfund.models  # noqa: F401  (every model, so every append-only table is known)
    from loanfund.models.append_only import append_only_tables

    guarded = append_only_tables()
    with engine.begin() as connection:
        cursor = connection.connection.cursor()  # psycopg's: it composes sql.Identifier
        _check_role(cursor, role)
        database = _one(cursor, "SELECT current_database()")
        schema = _one(cursor, "SELECT current_schema()")
        tables = _column(cursor, _RELATIONS, ["r", "p"])
        missing = sorted(set(guarded) - set(tables))
        if missing or SCHEMA_VERSION_TABLE not in tables:
            raise RoleProblem(
                _(
                    "The database %(database)s has no table %(tables)s: run `loanfund db "
                    "upgrade` as the owner first.",
                    database=database,
                    tables=", ".join(missing or [SCHEMA_VERSION_TABLE]),
                )
            )
        owner = _one(cursor, _TABLE_OWNER, SCHEMA_VERSION_TABLE)
        read_write = sorted(set(tables) - set(guarded) - {SCHEMA_VERSION_TABLE})
        sequences = len(_column(cursor, _RELATIONS, ["S"]))

        statements = _grant_statements(
            role=role,
            database=database,
            schema=schema,
            owner=owner,
            guarded=guarded,
            read_write=read_write,
        )
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(_STILL_HELD, (list(FORBIDDEN_ON_APPEND_ONLY), guarded, role))
        kept = [f"{verb} {table}" for table, verb in cursor.fetchall()]
        if kept:  # held through a role it belongs to; raising rolls every statement back
            raise RoleProblem(
                _(
                    "%(role)s could still %(kept)s through a role it is a member of: revoke "
                    "that membership or those privileges; nothing was changed.",
                    role=role,
                    kept=", ".join(kept),
                )
            )
    return AppRoleGrants(
        role=role,
        database=database,
        schema=schema,
        owner=owner,
        read_write=tuple(read_write),
        append_only=tuple(guarded),
        sequences=sequences,
    )


@click.command("grant-app-role")
@click.argument("role")
@click.option(
    "--database",
    "database",
    default=None,
    help="URL to connect as the owner (default: DATABASE_URL).",
)
@with_appcontext
def grant_app_role_command(role: str, database: str | None) -> None:
    """Give ROLE, the PostgreSQL role the app and the scheduler connect as, only what they need.

    Connect as the owner of the tables (the role that runs `loanfund db upgrade`). ROLE gets
    CONNECT, USAGE on the schema, SELECT, INSERT, UPDATE and DELETE on every table except the
    audit log and journal tables (SELECT and INSERT only; UPDATE, DELETE and TRUNCATE revoked
    from ROLE and PUBLIC), SELECT on alembic_version, USAGE and SELECT on sequences, and
    default privileges so that tables the owner creates later are read-write. ROLE must exist
    (the DBA creates it) and may not be a superuser or own anything. Safe to run again.

    Re-run it after every migration that adds an append-only table: default privileges make a
    new table read-write.
    """
    url = make_url(database or current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        raise click.ClickException(
            _(
                "grant-app-role works on PostgreSQL only; this database is %(backend)s, which "
                "has no roles (protect its file instead).",
                backend=url.get_backend_name(),
            )
        )
    engine = create_engine(url)
    try:
        granted = grant_app_role(engine, role)
    except RoleProblem as problem:
        raise click.ClickException(str(problem)) from None
    finally:
        engine.dispose()
    click.echo(
        _(
            "%(role)s on %(database)s: read and write on %(count)s tables; read and insert only "
            "on %(append_only)s; read only on %(version_table)s; %(sequences)s sequences.",
            role=granted.role,
            database=granted.database,
            count=len(granted.read_write),
            append_only=", ".join(granted.append_only),
            version_table=SCHEMA_VERSION_TABLE,
            sequences=granted.sequences,
        )
    )
    click.echo(
        _(
            "Tables and sequences %(owner)s creates later will be read and write for %(role)s: "
            "run this command again after a migration that adds an append-only table.",
            owner=granted.owner,
            role=granted.role,
        )
    )
