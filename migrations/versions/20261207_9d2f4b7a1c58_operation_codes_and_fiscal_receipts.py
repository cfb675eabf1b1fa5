"""operation codes on ledger entries; the provider's fiscal receipt attributes on card payments

Revision ID: 9d2f4b7a1c58
Revises: 4d8e2f6a9b31
Create Date: 2026-12-07 07:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9d2f4b7a1c58'
down_revision = '4d8e2f6a9b31'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=8), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_ledger_entry_code'), ['code'])
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fiscal_fn', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('fiscal_fd', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('fiscal_fpd', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('fiscal_url', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.drop_column('fiscal_url')
        batch_op.drop_column('fiscal_fpd')
        batch_op.drop_column('fiscal_fd')
        batch_op.drop_column('fiscal_fn')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_ledger_entry_code'), type_='unique')
        batch_op.drop_column('code')
