"""job claims: how long a worker holds a switch command, an SMS or a detail order while it waits for the network

A worker claims a command, a message or an order for a lease in a short transaction instead of holding its row lock
across the network call; the sweep leaves a claimed command alone until the lease runs out.

Revision ID: 5b1e7d2c9a40
Revises: 5e1f0c2a9d41
Create Date: 2026-12-07 00:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5b1e7d2c9a40'
down_revision = '5e1f0c2a9d41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('switch_command', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))
    with op.batch_alter_table('detail_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('detail_order', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
    with op.batch_alter_table('switch_command', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
