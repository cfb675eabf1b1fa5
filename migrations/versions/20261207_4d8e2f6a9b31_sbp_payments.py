"""СБП top-ups: the method of a payment, its QR payload and expiry, when a waiting page last asked the provider;
the development provider's payments know their method and expiry too

Revision ID: 4d8e2f6a9b31
Revises: 5e2f9a3b8c41
Create Date: 2026-12-07 07:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4d8e2f6a9b31'
down_revision = '5e2f9a3b8c41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=8), nullable=False, server_default='card'))
        batch_op.add_column(sa.Column('qr_payload', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('asked_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.alter_column('method', server_default=None)
    with op.batch_alter_table('dev_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=8), nullable=False, server_default='card'))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('dev_payment', schema=None) as batch_op:
        batch_op.alter_column('method', server_default=None)


def downgrade():
    with op.batch_alter_table('dev_payment', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('method')
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.drop_column('asked_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('qr_payload')
        batch_op.drop_column('method')
