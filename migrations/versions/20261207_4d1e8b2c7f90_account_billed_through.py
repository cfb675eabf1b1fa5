"""the billing run's watermark: the last day each account was billed for

Revision ID: 4d1e8b2c7f90
Revises: 3c7a9e1f5d20
Create Date: 2026-12-07 07:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4d1e8b2c7f90'
down_revision = '3c7a9e1f5d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billed_through', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('billed_through')
