"""each loan's replay kept by the daily close; indexes for the lists

``loan_replay``: a loan's installments as its replay left them at a close, with the number of
posted receipts, the last one's sequence and the number of schedule versions it read. The next
close starts from it when those are unchanged instead of allocating every receipt again. A
cache: empty after this migration, filled by the first close.

The receipts waiting for a reversal's approval are found through a partial index holding only
those ever asked to be reversed: SQLite scanned every receipt rather than use the index on the
column, almost all of whose entries are empty. The loans list by status and balance, and the
district filter's choices, are read from indexes.

Revision ID: 5c1e7a9d2b40
Revises: 19e0b19d7201
Create Date: 2026-11-24 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e7a9d2b40'
down_revision = '19e0b19d7201'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'loan_replay',
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('through', sa.Date(), nullable=False),
        sa.Column('receipts', sa.Integer(), nullable=False),
        sa.Column('last_sequence', sa.Integer(), nullable=False),
        sa.Column('versions', sa.Integer(), nullable=False),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ['loan_id'], ['loan.id'], name=op.f('fk_loan_replay_loan_id_loan')
        ),
        sa.PrimaryKeyConstraint('loan_id', name=op.f('pk_loan_replay')),
    )
    op.drop_index('ix_repayment_reversal_requested_by_id', table_name='repayment')
    awaiting = sa.text('reversal_requested_by_id IS NOT NULL')
    op.create_index(
        'ix_repayment_reversal_requested',
        'repayment',
        ['id'],
        sqlite_where=awaiting,
        postgresql_where=awaiting,
    )
    op.create_index('ix_loan_status_receivable', 'loan', ['status', 'receivable'])
    op.create_index('ix_cooperative_district', 'cooperative', ['district'])


def downgrade():
    op.drop_index('ix_cooperative_district', table_name='cooperative')
    op.drop_index('ix_loan_status_receivable', table_name='loan')
    op.drop_index('ix_repayment_reversal_requested', table_name='repayment')
    op.create_index(
        'ix_repayment_reversal_requested_by_id', 'repayment', ['reversal_requested_by_id']
    )
    op.drop_table('loan_replay')
