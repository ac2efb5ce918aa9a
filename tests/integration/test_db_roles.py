"""``loanfund grant-app-role``: the role the app connects as can add audit and journal rows but
never change, delete or truncate them, nor disable their triggers; it can still do all the
app's work. PostgreSQL only (the command refuses SQLite)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from loanfund.domain.access import SYSTEM
from loanfund.domain.roles import Role
from loanfund.models import AuditEvent, BusinessDay, JournalEntry, Repayment, db
from loanfund.models.append_only import append_only_tables
from loanfund.services.accounts import actor_for
from loanfund.services.audit import record_event
from loanfund.services.repayments import record_repayment
from loanfund.services.settings import initialize_fund
from tests.application_data import fund_with_product, store_at
from tests.conftest import PG_URL, make_app, make_cooperative, make_user
from tests.integration.conftest import disbursed_loan

#: Written here from issue 10 and the migrations' triggers, not read from the code under test
#: (the ORM guard may list more: see the first test).
APPEND_ONLY = {"audit_event", "journal_entry", "journal_line"}
INSUFFICIENT_PRIVILEGE = "42501"

NO_POSTGRES = (
    "needs PostgreSQL roles: set LOANFUND_TEST_DATABASE_URL to a PostgreSQL database (.ci/run does)"
)
postgres_only = pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason=NO_POSTGRES)


@dataclass
class Fund:
    """A migrated database owned by the test's (superuser) connection, with a disbursed loan,
    and a LOGIN role given the app's privileges by the command."""

    owner: Flask
    owner_url: URL
    role: str
    role_url: URL
    loan_id: int
    officer: Any
    granted_output: str
    #: Roles made by single tests, dropped with the database at the end.
    extra_roles: list[str] = field(default_factory=list)


def _invoke(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def _quoted(name: str) -> str:
    """A role or database name made by these tests (letters, digits, _) quoted for DDL."""
    assert name.replace("_", "").isalnum()
    return f'"{name}"'


@pytest.fixture(scope="module")
def fund(tmp_path_factory: Any, password_hash: str) -> Any:
    if not PG_URL.startswith("postgresql"):
        pytest.skip(NO_POSTGRES)
    server = make_url(PG_URL)
    suffix = uuid.uuid4().hex[:8]
    name, role = f"loanfund_roles_{suffix}", f"loanfund_app_{suffix}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {_quoted(name)}"))
        connection.execute(text(f"CREATE ROLE {_quoted(role)} LOGIN"))
    owner_url = server.set(database=name)
    folder = tmp_path_factory.mktemp("roles")
    owner = make_app(folder / "owner", DATABASE_URL=owner_url.render_as_string(False))
    made: Fund | None = None
    try:
        with owner.app_context():
            upgrade()
            session = db.session
            initialize_fund(
                session, actor=SYSTEM, fund_name="Quỹ", currency="VND", timezone="Asia/Ho_Chi_Minh"
            )
            cooperative = make_cooperative(session)
            world = {
                "product": fund_with_product(session),
                "cooperative": cooperative,
                "store": store_at(folder),
                "rep": actor_for(
                    make_user(session, password_hash, Role.APPLICANT, cooperative=cooperative)
                ),
                "officer": actor_for(make_user(session, password_hash, Role.OFFICER)),
                "approver": actor_for(make_user(session, password_hash, Role.APPROVER)),
            }
            loan = disbursed_loan(session, world, amount=Decimal(300_000_000), key="roles-1")
            granted = _invoke(owner, "grant-app-role", role)
            assert granted.exit_code == 0, granted.output
            made = Fund(
                owner=owner,
                owner_url=owner_url,
                role=role,
                role_url=owner_url.set(username=role, password=None),
                loan_id=loan.id,
                officer=world["officer"],
                granted_output=granted.output,
            )
            db.session.remove()
            db.engine.dispose()
        yield made
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)"))
            for extra in reversed(made.extra_roles if made else []):
                connection.execute(text(f"DROP ROLE IF EXISTS {_quoted(extra)}"))
            connection.execute(text(f"DROP ROLE IF EXISTS {_quoted(role)}"))
        admin.dispose()


def _as(url: URL, statement: str) -> Any:
    """Run ``statement`` in a transaction that is rolled back; its result's row count."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            try:
                return connection.execute(text(statement)).rowcount
            finally:
                connection.rollback()
    finally:
        engine.dispose()


def _count(url: URL, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(text(f"SELECT count(*) FROM {table}"))
    engine.dispose()
    return int(count)


def _privileges(url: URL) -> list[tuple[str, ...]]:
    """Every privilege granted in the database (tables, sequences, the schema, the database,
    default privileges), as sorted plain rows."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT 'relation', c.relname, pg_get_userbyid(a.grantee), a.privilege_type "
                "FROM pg_class c, aclexplode(c.relacl) a "
                "WHERE c.relnamespace = to_regnamespace(current_schema()) "
                "UNION ALL SELECT 'schema', n.nspname, pg_get_userbyid(a.grantee), "
                "a.privilege_type FROM pg_namespace n, aclexplode(n.nspacl) a "
                "UNION ALL SELECT 'database', d.datname, pg_get_userbyid(a.grantee), "
                "a.privilege_type FROM pg_database d, aclexplode(d.datacl) a "
                "WHERE d.datname = current_database() "
                "UNION ALL SELECT 'default ' || d.defaclobjtype::text, "
                "pg_get_userbyid(d.defaclrole), pg_get_userbyid(a.grantee), a.privilege_type "
                "FROM pg_default_acl d, aclexplode(d.defaclacl) a"
            )
        ).all()
    engine.dispose()
    return sorted(tuple(row) for row in rows)


def _sqlstate(error: DBAPIError) -> str:
    return getattr(error.orig, "sqlstate", "")


# --- what the role holds ----------------------------------------------------------------------


@pytest.mark.postgres
@postgres_only
def test_the_role_may_read_and_add_audit_and_journal_rows_and_write_other_tables(fund):
    engine = create_engine(fund.owner_url)
    tables = set(inspect(engine).get_table_names())
    guarded = set(append_only_tables())
    assert tables >= guarded >= APPEND_ONLY and len(tables) > 10
    verbs = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
    query = text("SELECT has_table_privilege(:who, :table, :verb)")
    with engine.connect() as connection:

        def held(who: str, table: str) -> set[str]:
            return {
                verb
                for verb in verbs
                if connection.scalar(query, {"who": who, "table": table, "verb": verb})
            }

        holdings = {table: held(fund.role, table) for table in tables}
        public = {table: held("public", table) for table in guarded}
        database_and_schema = connection.execute(
            text(
                "SELECT has_database_privilege(:who, current_database(), 'CONNECT'), "
                "has_schema_privilege(:who, current_schema(), 'USAGE'), "
                "has_schema_privilege(:who, current_schema(), 'CREATE')"
            ),
            {"who": fund.role},
        ).one()
    engine.dispose()
    # What the brief asks for, table by table: read and add on the append-only tables (the
    # ORM guard's list, which must include issue 10's), read on Alembic's version table (only
    # migrations write it), read and write elsewhere.
    expected = {}
    for table in tables:
        if table in guarded:
            expected[table] = {"SELECT", "INSERT"}
        elif table == "alembic_version":
            expected[table] = {"SELECT"}
        else:
            expected[table] = {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert holdings == expected
    assert public == {table: set() for table in guarded}
    assert tuple(database_and_schema) == (True, True, False)
    assert fund.role in fund.granted_output and "audit_event" in fund.granted_output


@pytest.mark.postgres
@postgres_only
@pytest.mark.parametrize("table", sorted(APPEND_ONLY))
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET id = id",
        "DELETE FROM {table}",
        "TRUNCATE {table}",
        "TRUNCATE {table} CASCADE",
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
        "ALTER TABLE {table} DISABLE TRIGGER USER",
        "DROP TRIGGER {table}_append_only ON {table}",
    ],
)
def test_the_role_cannot_change_remove_or_unguard_audit_and_journal_rows(fund, table, statement):
    with pytest.raises(DBAPIError) as refused:
        _as(fund.role_url, statement.format(table=table))
    # 42501 is insufficient_privilege: refused for want of a privilege (or of ownership),
    # before any trigger or foreign key could be the reason.
    assert _sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE, refused.value
    # The rows are still there, seen by the owner.
    assert _count(fund.owner_url, table) > 0


@pytest.mark.postgres
@postgres_only
def test_the_role_can_update_and_delete_in_an_ordinary_table(fund):
    updated = _as(fund.role_url, "UPDATE cooperative SET members_count = members_count + 1")
    deleted = _as(fund.role_url, "DELETE FROM notification")
    # The fixture made exactly one cooperative; notifications may be none (a count, not an error).
    assert updated == 1 and deleted >= 0
    with pytest.raises(DBAPIError) as refused:
        _as(fund.role_url, "UPDATE alembic_version SET version_num = version_num")
    assert _sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE


@pytest.mark.postgres
@postgres_only
def test_a_table_the_owner_creates_later_is_read_write_for_the_role(fund):
    table = f"later_{uuid.uuid4().hex[:8]}"
    engine = create_engine(fund.owner_url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {table} (id serial PRIMARY KEY, note text)"))
    try:
        assert _as(fund.role_url, f"INSERT INTO {table} (note) VALUES ('a'), ('b')") == 2
        assert _as(fund.role_url, f"UPDATE {table} SET note = 'c'") == 0  # rolled back: empty
        assert _as(fund.role_url, f"DELETE FROM {table}") == 0
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE {table}"))
        engine.dispose()


# --- the app at work as the role --------------------------------------------------------------


@pytest.mark.postgres
@postgres_only
def test_the_app_connected_as_the_role_records_a_repayment_and_closes_the_day(fund, tmp_path):
    app = make_app(tmp_path, DATABASE_URL=fund.role_url.render_as_string(False))
    day = dt.date(2026, 12, 23)
    try:
        with app.app_context():
            session = db.session
            assert session.scalar(select(func.current_user())) == fund.role
            events_before = session.scalar(select(func.count(AuditEvent.id)))
            entries_before = session.scalar(select(func.count(JournalEntry.id)))
            record_event(session, actor=SYSTEM, action="test.app_role", entity="test")
            session.commit()
            repayment = record_repayment(
                session,
                actor=fund.officer,
                loan_id=fund.loan_id,
                received_on=day,
                amount=Decimal(5_000_000),
                channel="bank",
                reference="UNC-ROLE",
                idempotency_key=f"role-{uuid.uuid4().hex[:8]}",
                today=day,
            )
            closed = _invoke(app, "close", "--date", day.isoformat())
            assert closed.exit_code == 0, closed.output
            reminded = _invoke(app, "remind", "--date", day.isoformat())
            assert reminded.exit_code == 0, reminded.output
            session.expire_all()
            assert session.get(Repayment, repayment.id).journal_entry_id is not None
            assert session.get(BusinessDay, day).status == "done"
            # One event written here, at least one by the repayment; one entry for the receipt.
            assert session.scalar(select(func.count(AuditEvent.id))) >= events_before + 2
            assert session.scalar(select(func.count(JournalEntry.id))) >= entries_before + 1
            session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()


# --- running it again, and refusals -----------------------------------------------------------


@pytest.mark.postgres
@postgres_only
def test_running_the_command_again_changes_nothing(fund):
    before = _privileges(fund.owner_url)
    assert ("relation", "audit_event", fund.role, "INSERT") in before
    assert ("relation", "audit_event", fund.role, "UPDATE") not in before
    again = _invoke(fund.owner, "grant-app-role", fund.role)
    assert again.exit_code == 0, again.output
    assert again.output == fund.granted_output
    assert _privileges(fund.owner_url) == before


@pytest.mark.postgres
@postgres_only
def test_a_superuser_a_member_of_the_owner_and_a_missing_role_are_refused(fund):
    member = f"loanfund_member_{uuid.uuid4().hex[:8]}"
    fund.extra_roles.append(member)
    owner = fund.owner_url.username
    engine = create_engine(fund.owner_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"CREATE ROLE {_quoted(member)} LOGIN"))
        connection.execute(text(f"GRANT {_quoted(owner)} TO {_quoted(member)}"))
    engine.dispose()
    before = _privileges(fund.owner_url)
    superuser = _invoke(fund.owner, "grant-app-role", owner)
    assert superuser.exit_code == 1
    assert f"{owner} is a superuser" in superuser.output
    membership = _invoke(fund.owner, "grant-app-role", member)
    assert membership.exit_code == 1
    assert "is a member of the role that owns" in membership.output
    assert f"database {fund.owner_url.database}" in membership.output
    missing = _invoke(fund.owner, "grant-app-role", "nobody_here")
    assert missing.exit_code == 1 and "There is no role nobody_here" in missing.output
    assert _privileges(fund.owner_url) == before


@pytest.mark.postgres
@postgres_only
def test_a_role_that_would_keep_update_through_another_role_is_refused_and_given_nothing(fund):
    suffix = uuid.uuid4().hex[:8]
    group, member = f"loanfund_group_{suffix}", f"loanfund_through_{suffix}"
    fund.extra_roles.extend([member, group])
    engine = create_engine(fund.owner_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"CREATE ROLE {_quoted(group)}"))
        connection.execute(text(f"CREATE ROLE {_quoted(member)} LOGIN IN ROLE {_quoted(group)}"))
        connection.execute(text(f"GRANT UPDATE ON journal_line TO {_quoted(group)}"))
    before = _privileges(fund.owner_url)
    try:
        refused = _invoke(fund.owner, "grant-app-role", member)
        assert refused.exit_code == 1
        assert f"{member} could still UPDATE journal_line" in refused.output
        # Every statement was rolled back: the member got nothing, not even the grants made
        # before the check.
        assert _privileges(fund.owner_url) == before
        assert not any(row[2] == member for row in before)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f"REVOKE ALL ON journal_line FROM {_quoted(group)}"))
        engine.dispose()


@pytest.mark.postgres
@postgres_only
def test_a_database_not_migrated_yet_is_refused(fund):
    server = make_url(PG_URL)
    name = f"loanfund_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {_quoted(name)}"))
    try:
        result = _invoke(
            fund.owner,
            "grant-app-role",
            fund.role,
            "--database",
            server.set(database=name).render_as_string(False),
        )
        assert result.exit_code == 1
        assert "run `loanfund db upgrade` as the owner first" in result.output
        assert "audit_event" in result.output
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)"))
        admin.dispose()


def test_on_sqlite_the_command_refuses_and_says_why(tmp_path):
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'fund.sqlite3'}")
    result = _invoke(app, "grant-app-role", "loanfund_app")
    assert result.exit_code == 1
    assert "grant-app-role works on PostgreSQL only" in result.output
    assert "sqlite" in result.output
    # It did not even open the database.
    assert not (tmp_path / "fund.sqlite3").exists()
