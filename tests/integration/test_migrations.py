"""Migrations build the schema the models describe, on SQLite and on PostgreSQL."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from loanfund.models import Base, db
from tests.conftest import PG_URL, make_app


def _upgrade_and_compare(tmp_path, url: str) -> list:
    app = make_app(tmp_path, DATABASE_URL=url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, Base.metadata)
            roles = sorted(connection.execute(text("SELECT name FROM role")).scalars())
            triggers = _trigger_tables(connection)
        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        db.engine.dispose()
    assert triggers == APPEND_ONLY_TABLES
    return [diff, roles, remaining]


#: Tables whose rows may only be inserted (the triggers come from the migrations).
APPEND_ONLY_TABLES = {"audit_event", "journal_entry", "journal_line"}


def _trigger_tables(connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = (
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal"
        )
    return set(connection.execute(text(query)).scalars())


EXPECTED_ROLES = ["admin", "applicant", "approver", "auditor", "inspector", "officer"]


def test_sqlite_upgrade_to_head_matches_the_models_and_downgrades_cleanly(tmp_path):
    diff, roles, remaining = _upgrade_and_compare(
        tmp_path, f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    )
    assert diff == []
    assert roles == EXPECTED_ROLES
    assert remaining == set()


@pytest.mark.postgres
@pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL not configured: set LOANFUND_TEST_DATABASE_URL (.ci/run does)"
)
def test_postgresql_upgrade_to_head_matches_the_models_and_downgrades_cleanly(tmp_path):
    server = make_url(PG_URL)
    name = f"loanfund_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        diff, roles, remaining = _upgrade_and_compare(
            tmp_path, server.set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    assert diff == []
    assert roles == EXPECTED_ROLES
    assert remaining == set()
