"""statement line params: ledger and bonus entries keep their kind and values

Revision ID: 5f1e2d3c4b5a
Revises: 5b1e7d2c9a40
Create Date: 2026-12-07 01:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5f1e2d3c4b5a'
down_revision = '5b1e7d2c9a40'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows keep params NULL and show their stored text.
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))
    with op.batch_alter_table('bonus_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('bonus_entry', schema=None) as batch_op:
        batch_op.drop_column('params')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_column('params')
