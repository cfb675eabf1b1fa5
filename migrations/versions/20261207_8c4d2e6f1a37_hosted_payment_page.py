"""hosted payment page: the provider's reference, page and method on card payments; the development
provider's own tables; the 3-D Secure tries move to the provider

Revision ID: 8c4d2e6f1a37
Revises: 7c3d9e1f2a60
Create Date: 2026-12-07 04:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '8c4d2e6f1a37'
down_revision = '7c3d9e1f2a60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dev_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('idempotence_key', sa.String(length=80), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('return_url', sa.String(length=500), nullable=True),
    sa.Column('save_method', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('cancel_reason', sa.String(length=40), nullable=True),
    sa.Column('card_last4', sa.String(length=4), nullable=True),
    sa.Column('method_token', sa.String(length=80), nullable=True),
    sa.Column('three_ds_failures', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dev_payment')),
    sa.UniqueConstraint('idempotence_key', name=op.f('uq_dev_payment_idempotence_key')),
    sa.UniqueConstraint('reference', name=op.f('uq_dev_payment_reference'))
    )
    op.create_table('dev_method',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=80), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('fails_later', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dev_method')),
    sa.UniqueConstraint('token', name=op.f('uq_dev_method_token'))
    )
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('confirmation_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('card_token_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('method_title', sa.String(length=60), nullable=True))
        batch_op.alter_column('card_last4', existing_type=sa.String(length=4), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_card_payment_card_token_id_card_token'), 'card_token',
                                    ['card_token_id'], ['id'])
        batch_op.drop_column('three_ds_failures')
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.alter_column('provider', server_default=None)
    # The test-mode gateway's payments: its 3-D Secure wait is the provider's page now.
    op.execute("UPDATE card_payment SET status = 'pending' WHERE status = 'awaiting_3ds'")
    op.execute("UPDATE card_payment SET provider = 'test' WHERE gateway_ref IS NOT NULL")


def downgrade():
    op.execute("UPDATE card_payment SET status = 'awaiting_3ds' WHERE status = 'pending'")
    op.execute("UPDATE card_payment SET card_last4 = '' WHERE card_last4 IS NULL")
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('three_ds_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_constraint(batch_op.f('fk_card_payment_card_token_id_card_token'), type_='foreignkey')
        batch_op.alter_column('card_last4', existing_type=sa.String(length=4), nullable=False)
        batch_op.drop_column('method_title')
        batch_op.drop_column('card_token_id')
        batch_op.drop_column('confirmation_url')
        batch_op.drop_column('provider')
    with op.batch_alter_table('card_payment', schema=None) as batch_op:
        batch_op.alter_column('three_ds_failures', server_default=None)
    op.drop_table('dev_method')
    op.drop_table('dev_payment')
