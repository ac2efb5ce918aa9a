"""priority category of an application

Revision ID: 13c470213859
Revises: 9ae59b01e240
Create Date: 2026-11-23 16:30:45.118835

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "13c470213859"
down_revision = "9ae59b01e240"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no table rebuild): existing applications get "none".
    op.add_column(
        "loan_application",
        sa.Column(
            "priority",
            sa.Enum(
                "none",
                "women",
                "ethnic_minority",
                "disadvantaged_area",
                "value_chain",
                "high_tech",
                name="priority_category",
                native_enum=False,
                create_constraint=False,
                length=32,
            ),
            server_default="none",
            nullable=False,
        ),
    )
    # The CHECK is added on its own below. SQLite cannot add one to an existing table without
    # rebuilding it (the service and the enum type keep the values right there); PostgreSQL can.
    if op.get_bind().dialect.name != "sqlite":
        op.create_check_constraint(
            op.f("ck_loan_application_priority_category"),
            "loan_application",
            "priority IN ('none', 'women', 'ethnic_minority', 'disadvantaged_area', "
            "'value_chain', 'high_tech')",
        )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_loan_application_priority_category"), "loan_application")
    with op.batch_alter_table("loan_application", schema=None) as batch_op:
        batch_op.drop_column("priority")
