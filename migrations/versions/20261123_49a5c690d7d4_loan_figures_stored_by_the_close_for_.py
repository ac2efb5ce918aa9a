"""Loan figures stored by the daily close for the portfolio ledger: the interest fallen due
and paid and the maturity, beside the figures the close already stored.

Loans closed before this migration have none of them yet: their ``closed_through`` is cleared,
so the ledger replays them until the next close stores all their figures.

Revision ID: 49a5c690d7d4
Revises: d93cfa8a9adb
Create Date: 2026-11-23 18:49:49.067898

"""

import sqlalchemy as sa
from alembic import op

import loanfund.models.types

# revision identifiers, used by Alembic.
revision = "49a5c690d7d4"
down_revision = "d93cfa8a9adb"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "loan",
        sa.Column(
            "interest_fallen_due",
            loanfund.models.types.Money(),
            nullable=False,
            server_default="0",
        ),
    )
    op.add_column(
        "loan",
        sa.Column(
            "interest_paid", loanfund.models.types.Money(), nullable=False, server_default="0"
        ),
    )
    op.add_column("loan", sa.Column("matures_on", sa.Date(), nullable=True))
    op.execute(sa.text("UPDATE loan SET closed_through = NULL"))


def downgrade():
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.drop_column("matures_on")
        batch_op.drop_column("interest_paid")
        batch_op.drop_column("interest_fallen_due")
