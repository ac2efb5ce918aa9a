"""each loan's replay kept by the daily close

``loan_replay``: a loan's installments as its replay left them at a close, with the number of
posted receipts, the last one's sequence and the number of schedule versions it read. The next
close starts from it when those are unchanged instead of allocating every receipt again. A
cache: empty after this migration, filled by the first close.

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


def downgrade():
    op.drop_table('loan_replay')
