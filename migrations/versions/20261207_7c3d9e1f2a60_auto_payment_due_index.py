"""auto-payment rules found by what makes them due (enabled, kind, day), not read one by one

Revision ID: 7c3d9e1f2a60
Revises: 7c2d4e6f8a10
Create Date: 2026-12-07 04:25:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c3d9e1f2a60'
down_revision = '7c2d4e6f8a10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_auto_payment_due', 'auto_payment', ['enabled', 'kind', 'day'])


def downgrade():
    op.drop_index('ix_auto_payment_due', table_name='auto_payment')
