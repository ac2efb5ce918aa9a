"""export kinds: the lending report and the list pages' exports

The CHECK on export_job.kind, made by d93cfa8a9adb, held only the ledgers and registers: a
lending report asked for on a migrated database broke it. It now holds every kind of
``domain.exports.ExportKind``: the lending report and the lists ("list").

Revision ID: 4daa5b6d438c
Revises: 49a5c690d7d4
Create Date: 2026-11-23 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "4daa5b6d438c"
down_revision = "49a5c690d7d4"
branch_labels = None
depends_on = None

_OLD_KINDS = ("portfolio", "disbursements", "repayments", "journal", "inspections")
_NEW_KINDS = (*_OLD_KINDS, "lending_report", "list")


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _check_kinds(kinds):
    """Replace the CHECK on ``export_job.kind`` by one that allows ``kinds``.

    SQLite cannot change a CHECK in place: the table (small, referenced by nothing, with no
    triggers) is rebuilt. PostgreSQL drops the constraint and adds the new one.
    """
    name = op.f("ck_export_job_export_kind")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("export_job", recreate="always") as batch_op:
            batch_op.drop_constraint(name, type_="check")
            batch_op.create_check_constraint(name, _kinds(kinds))
        return
    op.drop_constraint(name, "export_job", type_="check")
    op.create_check_constraint(name, "export_job", _kinds(kinds))


def upgrade():
    _check_kinds(_NEW_KINDS)


def downgrade():
    # Jobs of the kinds the older schema does not know go (they are short-lived: their
    # workbooks are removed by the daily clean-up as leftovers).
    export_job = sa.table("export_job", sa.column("kind", sa.String))
    op.execute(export_job.delete().where(export_job.c.kind.in_(_NEW_KINDS[len(_OLD_KINDS) :])))
    _check_kinds(_OLD_KINDS)
