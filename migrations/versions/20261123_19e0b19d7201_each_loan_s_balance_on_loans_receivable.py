"""each loan's balance on loans receivable

``loan.receivable``: what the journal holds on loans receivable for the loan, moved by every
posting in its own transaction from now on, and counted here from the journal once. The loans
list sorts and filters on it instead of summing every journal line of every loan. Receipts
waiting for a reversal's approval and tranches by status are found by index.

Revision ID: 19e0b19d7201
Revises: ada9f1147f29
Create Date: 2026-11-23 22:59:22.166518

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '19e0b19d7201'
down_revision = 'ada9f1147f29'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('receivable', sa.BigInteger(), nullable=False, server_default='0')
        )
    # The receipts and tranches waiting for a second person, found by index.
    op.create_index(
        "ix_repayment_reversal_requested_by_id", "repayment", ["reversal_requested_by_id"]
    )
    op.create_index("ix_tranche_status", "tranche", ["status"])
    # Summed in one pass and written loan by loan: an UPDATE with a correlated sum makes
    # SQLite walk every loans-receivable line once per loan.
    bind = op.get_bind()
    sums = bind.execute(
        sa.text(
            "SELECT journal_entry.loan_id, SUM(journal_line.debit) - SUM(journal_line.credit)"
            " FROM journal_line JOIN journal_entry ON journal_entry.id = journal_line.entry_id"
            " WHERE journal_line.account = 'loans_receivable'"
            " AND journal_entry.loan_id IS NOT NULL"
            " GROUP BY journal_entry.loan_id"
        )
    ).all()
    if sums:
        bind.execute(
            sa.text("UPDATE loan SET receivable = :amount WHERE id = :loan_id"),
            [{"loan_id": loan_id, "amount": amount} for loan_id, amount in sums],
        )


def downgrade():
    op.drop_index("ix_tranche_status", table_name="tranche")
    op.drop_index("ix_repayment_reversal_requested_by_id", table_name="repayment")
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_column('receivable')
