"""sms parts and receipts: an SMS sent through the SMSC (SMPP) has one or more parts, each with the SMSC's message id
and the state its delivery receipt gave; receipts are kept by id (one may come before its submit_sm_resp); a
message's delivery time; an index for the SMPP process's look for queued messages

Revision ID: 7c2d4e6f8a10
Revises: 6a2b3c4d5e60
Create Date: 2026-12-07 04:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c2d4e6f8a10'
down_revision = '6a2b3c4d5e60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_sms_message_status', ['status', 'id'], unique=False)
    op.create_table(
        'sms_part',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('part_no', sa.Integer(), nullable=False),
        sa.Column('smsc_id', sa.String(length=65), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('stat', sa.String(length=12), nullable=True),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['sms_message.id'], name=op.f('fk_sms_part_message_id_sms_message')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_part')),
        sa.UniqueConstraint('message_id', 'part_no', name='uq_sms_part_message_part'),
    )
    with op.batch_alter_table('sms_part', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_part_smsc_id'), ['smsc_id'], unique=False)
    op.create_table(
        'sms_receipt',
        sa.Column('smsc_id', sa.String(length=65), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=True),
        sa.Column('stat', sa.String(length=12), nullable=True),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('smsc_id', name=op.f('pk_sms_receipt')),
    )


def downgrade():
    op.drop_table('sms_receipt')
    op.drop_table('sms_part')
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_message_status')
        batch_op.drop_column('done_at')
